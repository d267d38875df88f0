"""Tests mirror the package: every module of binance_diag/ with logic has its test module.

`binance_diag/a/b.py` is tested by `tests/a/test_b.py`; a package's `__init__.py` by the
module named after the package (`schema/__init__.py` -> `tests/test_schema.py`). A module
has logic when it holds more than a docstring, imports, `__all__` and `TYPE_CHECKING`
imports. The few modules tested elsewhere on purpose are listed below, with where.
"""

from __future__ import annotations

import ast

from tests.utils import ROOT

PACKAGE = ROOT / "binance_diag"

COVERED_ELSEWHERE = {
    # The lazy library API (`from binance_diag import ...` loads on use); the root package
    # has no parent directory to mirror into.
    "__init__.py": "tests/test_init.py",
    # Two lines that call entry.main(): every test that runs `python -m binance_diag`.
    "__main__.py": "tests/simulate/running.py (and the CLI tests it serves)",
    # Loaded by the child interpreter only, never imported by the tests' own process.
    "loopwatch/boot/sitecustomize.py": "tests/run/test_loopwatch.py",
    # The same lazy-API pattern as the root package, tested beside it.
    "watchdog/__init__.py": "tests/test_init.py",
}
"""Module (relative to binance_diag/) -> where it is tested instead of a mirror module."""

IN_PROGRESS_BY_OTHERS: set[str] = set()
"""Modules (relative to binance_diag/) a colleague is still writing, without their mirror
yet: add one only while its work is uncommitted, and remove it when its mirror lands. Empty
otherwise."""


def is_declaration(statement: ast.stmt) -> bool:
    """A statement that is no logic: a docstring, an import, `__all__`, TYPE_CHECKING imports."""
    if isinstance(statement, ast.Import | ast.ImportFrom):
        return True
    if isinstance(statement, ast.Expr):
        return isinstance(statement.value, ast.Constant) and isinstance(statement.value.value,
                                                                        str)
    if isinstance(statement, ast.Assign | ast.AnnAssign):
        targets = statement.targets if isinstance(statement, ast.Assign) else [statement.target]
        return all(isinstance(t, ast.Name) and t.id == "__all__" for t in targets)
    if isinstance(statement, ast.If) and isinstance(statement.test, ast.Name) \
            and statement.test.id == "TYPE_CHECKING":
        return all(is_declaration(s) for s in (*statement.body, *statement.orelse))
    return False


def has_logic(source: str) -> bool:
    return not all(is_declaration(s) for s in ast.parse(source).body)


def mirror_of(module: str) -> str:
    """`diagnose/rule.py` -> `tests/diagnose/test_rule.py`; `schema/__init__.py` ->
    `tests/test_schema.py`."""
    *folders, name = module.split("/")
    if name == "__init__.py" and folders:
        *folders, package = folders
        name = f"{package}.py"
    return "/".join(["tests", *folders, f"test_{name}"])


def modules_with_logic() -> list[str]:
    return sorted(path.relative_to(PACKAGE).as_posix() for path in PACKAGE.rglob("*.py")
                  if has_logic(path.read_text(encoding="utf-8")))


def test_every_module_with_logic_has_its_mirror_test_module() -> None:
    exempt = COVERED_ELSEWHERE.keys() | IN_PROGRESS_BY_OTHERS
    missing = [f"binance_diag/{module} -> {mirror_of(module)}"
               for module in modules_with_logic()
               if module not in exempt and not (ROOT / mirror_of(module)).is_file()]
    assert not missing, "modules without their test module:\n" + "\n".join(missing)


def test_the_modules_covered_elsewhere_still_need_the_exemption() -> None:
    """An entry whose module is gone, has no logic any more, or got its mirror is stale."""
    logic = set(modules_with_logic())
    stale = [module for module in COVERED_ELSEWHERE
             if module not in logic or (ROOT / mirror_of(module)).is_file()]
    assert not stale, f"remove from COVERED_ELSEWHERE: {stale}"


def test_the_places_named_as_covering_them_exist() -> None:
    for module, where in COVERED_ELSEWHERE.items():
        assert (ROOT / where.split()[0]).is_file(), module


def test_logic_is_told_from_declarations() -> None:
    assert not has_logic('"""Doc."""\nfrom __future__ import annotations\nimport os\n')
    assert not has_logic("from .x import y\n__all__ = ['y']\nif TYPE_CHECKING:\n    import z\n")
    assert has_logic("import os\nLIMIT = 3\n")
    assert has_logic("def f() -> None:\n    pass\n")
    assert has_logic("if TYPE_CHECKING:\n    import z\nelse:\n    z = None\n")
    assert has_logic("from .entry import main\n\nmain()\n")


def test_the_mirror_path_follows_the_package_tree() -> None:
    assert mirror_of("model.py") == "tests/test_model.py"
    assert mirror_of("diagnose/rule.py") == "tests/diagnose/test_rule.py"
    assert mirror_of("probe/sansio/tunnel.py") == "tests/probe/sansio/test_tunnel.py"
    assert mirror_of("schema/__init__.py") == "tests/test_schema.py"
    assert mirror_of("diagnose/rules/__init__.py") == "tests/diagnose/test_rules.py"
