"""Delivering a result: --output written atomically, stdout, GitHub's summary, the race."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import textwrap
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from binance_diag.diagnose.matrix import EndpointMatrix, build_matrix
from binance_diag.exitcodes import ExitCode
from binance_diag.model import StageName
from binance_diag.render.formats import OutputFormat
from binance_diag.run.deliver import Publication, deliver
from binance_diag.run.matrix import MatrixDelivery
from binance_diag.run.probe import publish
from tests.render.cases import CASES
from tests.reports import make_report
from tests.schema_check import VALIDATOR


class FakeTTY(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_publish_output_file_and_terminal_view(tmp_path: Path) -> None:
    stdout, stderr = FakeTTY(), io.StringIO()
    out = tmp_path / "report.xml"
    code = publish(CASES["tls_hang"](), OutputFormat.JUNIT, out, stdout, stderr, environ={})
    assert code is ExitCode.CRITICAL
    ET.fromstring(out.read_text(encoding="utf-8"))
    assert "Root Cause Hypothesis" in stdout.getvalue()  # the rich view, not the XML
    assert not list(tmp_path.glob(".report.xml.*")), "no temporary file left behind"


def test_publish_to_a_pipe_keeps_the_chosen_format(tmp_path: Path) -> None:
    stdout = io.StringIO()
    code = publish(CASES["healthy"](), OutputFormat.JSON, tmp_path / "r.json", stdout,
                   io.StringIO(), environ={})
    assert code is ExitCode.OK
    assert json.loads(stdout.getvalue()) == json.loads((tmp_path / "r.json").read_text())


def test_publish_to_github(tmp_path: Path) -> None:
    summary = tmp_path / "summary.md"
    stdout, stderr = io.StringIO(), io.StringIO()
    publish(CASES["restricted_location"](), OutputFormat.JSON, None, stdout, stderr,
            environ={"GITHUB_STEP_SUMMARY": str(summary)})
    json.loads(stdout.getvalue())  # the annotation did not go into the JSON
    assert stderr.getvalue().startswith("::error title=binance-diag%3A ws_upgrade failed::")
    assert "## Root Cause Hypothesis" in summary.read_text(encoding="utf-8")
    stdout = io.StringIO()
    publish(CASES["restricted_location"](), OutputFormat.RICH, None, stdout, io.StringIO(),
            environ={"GITHUB_STEP_SUMMARY": str(summary)})
    assert stdout.getvalue().rstrip().splitlines()[-1].startswith("::error ")


def test_publish_survives_an_unwritable_summary(tmp_path: Path) -> None:
    stderr = io.StringIO()
    code = publish(CASES["healthy"](), OutputFormat.NAGIOS, None, io.StringIO(), stderr,
                   environ={"GITHUB_STEP_SUMMARY": str(tmp_path / "missing" / "s.md")})
    assert code is ExitCode.OK
    assert "cannot append to GITHUB_STEP_SUMMARY" in stderr.getvalue()


def test_publish_shows_the_report_when_the_output_cannot_be_written(tmp_path: Path) -> None:
    target = tmp_path / "gone" / "r.json"  # passed the early check, then the directory went
    out, err = io.StringIO(), io.StringIO()
    code = publish(CASES["healthy"](), OutputFormat.JSON, target, out, err, environ={})
    # The file CI asked for is missing: that must not pass for a healthy run.
    assert code is ExitCode.UNKNOWN
    VALIDATOR.validate(json.loads(out.getvalue()))
    assert "cannot write --output" in err.getvalue()
    assert err.getvalue().rstrip().endswith("(exit 3)")


@pytest.mark.timeout(10)
def test_a_fifo_nobody_reads_is_given_up_on_not_waited_on_forever(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import time

    from binance_diag.run import outfile as module

    monkeypatch.setattr(module, "READER_WAIT", 0.3)
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    out, err = io.StringIO(), io.StringIO()
    started = time.monotonic()
    code = publish(CASES["healthy"](), OutputFormat.JSON, fifo, out, err, environ={})
    assert 0.3 <= time.monotonic() - started < 2
    assert code is ExitCode.UNKNOWN
    assert "no process reads the FIFO (waited 0.3 s)" in err.getvalue()
    VALIDATOR.validate(json.loads(out.getvalue()))


@pytest.mark.timeout(10)
def test_a_fifo_whose_reader_comes_a_little_later_gets_the_report(tmp_path: Path) -> None:
    import threading

    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    got: list[str] = []

    def read_later() -> None:
        import time

        time.sleep(0.2)
        with fifo.open(encoding="utf-8") as handle:
            got.append(handle.read())

    reader = threading.Thread(target=read_later)
    reader.start()
    code = publish(CASES["healthy"](), OutputFormat.JSON, fifo, io.StringIO(), io.StringIO(),
                   environ={})
    reader.join(5)
    assert code is ExitCode.OK
    VALIDATOR.validate(json.loads(got[0]))


def test_output_dash_is_stdout(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from binance_diag.run.outfile import check_output

    monkeypatch.chdir(tmp_path)
    check_output(Path("-"))
    out = io.StringIO()
    code = publish(CASES["healthy"](), OutputFormat.NAGIOS, Path("-"), out, io.StringIO(),
                   environ={})
    assert code is ExitCode.OK
    assert out.getvalue().startswith("BINANCE-DIAG OK")
    assert not (tmp_path / "-").exists()


def test_summary_is_appended_after_earlier_steps(tmp_path: Path) -> None:
    summary = tmp_path / "summary.md"
    summary.write_text("previous step\n", encoding="utf-8")
    for case in ("tls_hang", "healthy"):
        publish(CASES[case](), OutputFormat.JSON, None, io.StringIO(), io.StringIO(),
                environ={"GITHUB_STEP_SUMMARY": str(summary)})
    text = summary.read_text(encoding="utf-8")
    assert text.startswith("previous step\n# Binance Stream Connectivity Report")
    assert text.count("# Binance Stream Connectivity Report") == 2


def failing_matrix() -> EndpointMatrix:
    return build_matrix([make_report(endpoint="spot", fail=StageName.TCP),
                         make_report(endpoint="spot-443", fail=StageName.TLS)])


def test_matrix_goes_the_same_way_as_a_report(tmp_path: Path) -> None:
    matrix = failing_matrix()
    summary, out = tmp_path / "summary.md", tmp_path / "matrix.json"
    stdout, stderr = FakeTTY(), io.StringIO()
    code = deliver(MatrixDelivery(matrix), OutputFormat.JSON, out, stdout, stderr,
                   environ={"GITHUB_STEP_SUMMARY": str(summary)})
    assert code is matrix.verdict.exit_code is ExitCode.CRITICAL
    assert json.loads(out.read_text(encoding="utf-8"))["schema"].startswith("binance-diag/matrix")
    assert "{" not in stdout.getvalue()  # the terminal keeps the table
    assert matrix.verdict.text.split(":")[0] in stdout.getvalue()
    assert stdout.getvalue().rstrip().splitlines()[-1].startswith(
        "::error title=binance-diag%3A endpoint matrix::")
    assert "|" in summary.read_text(encoding="utf-8")  # a Markdown table


def test_a_matrix_that_cannot_be_written_is_shown_instead(tmp_path: Path) -> None:
    matrix = failing_matrix()
    stdout, stderr = io.StringIO(), io.StringIO()
    code = deliver(MatrixDelivery(matrix), OutputFormat.JSON, tmp_path / "gone" / "m.json",
                   stdout, stderr, environ={})
    assert code is ExitCode.UNKNOWN
    assert json.loads(stdout.getvalue())["schema"].startswith("binance-diag/matrix")
    assert "cannot write --output" in stderr.getvalue()
    assert "the matrix follows on stdout" in stderr.getvalue()


def test_the_run_publishes_when_the_deadline_did_not() -> None:
    published: list[str] = []

    def publish_one(result: str) -> ExitCode:
        published.append(result)
        return ExitCode.WARNING

    publication = Publication(publish_one, "report")
    assert publication.from_run("run") is ExitCode.WARNING
    publication.from_deadline("late")  # lost the race: publishes nothing, does not exit
    assert published == ["run"]


RACE = textwrap.dedent("""
    import sys, threading
    from binance_diag.exitcodes import ExitCode
    from binance_diag.run.deliver import Publication

    def publish(result):
        if result == "broken":
            raise RuntimeError("disk on fire")
        print("published", result, flush=True)
        return ExitCode.WARNING

    publication = Publication(publish, "report", before=lambda: print("before", flush=True))
    threading.Thread(target=publication.from_deadline, args=(sys.argv[1],)).start()
    threading.Event().wait(5)
    print("the process outlived its deadline", flush=True)
""")


@pytest.mark.timeout(30)
@pytest.mark.parametrize(("result", "code", "said"), [
    ("salvaged", 1, "before\npublished salvaged\n"),
    ("broken", 2, "before\n"),
])
def test_the_deadline_publishes_then_ends_the_process(result: str, code: int, said: str) -> None:
    done = subprocess.run([sys.executable, "-c", RACE, result], capture_output=True,
                          text=True, timeout=20, check=False)
    assert done.returncode == code, done.stderr
    assert done.stdout == said
    if result == "broken":
        assert "could not publish the report: RuntimeError('disk on fire')" in done.stderr
