"""entry.py: the console script answers --version without importing the CLI framework."""

from __future__ import annotations

from binance_diag import __version__
from tests.utils import run_python


def test_version_answers_without_importing_typer() -> None:
    process, _ = run_python("""
        import sys
        sys.argv = ["binance-diag", "--version"]
        from binance_diag.entry import main
        main()
        assert "typer" not in sys.modules and "binance_diag.cli" not in sys.modules
    """, timeout=30)
    assert process.returncode == 0, process.stderr
    assert process.stdout == f"binance-diag {__version__}\n"


def test_other_arguments_go_to_the_cli() -> None:
    process, _ = run_python("""
        import sys
        sys.argv = ["binance-diag", "endpoints"]
        from binance_diag.entry import main
        main()
    """, timeout=30)
    assert process.returncode == 0, process.stderr
    assert process.stdout.startswith("spot ")
