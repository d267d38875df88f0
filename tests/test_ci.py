"""action.yml (the composite GitHub Action), Dockerfile and docs/ci.md: they parse, name
files that exist, and the action's probe step keeps its exit-code policy - run with bash
against the loopback simulator, as a runner would run it. No image is built."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from binance_diag.simulate.scenario import start_fault
from tests.utils import ROOT

INPUTS = {"symbols", "endpoint", "args", "report", "fail-on", "python-version"}


def action() -> dict[str, object]:
    document = yaml.safe_load((ROOT / "action.yml").read_text(encoding="utf-8"))
    assert isinstance(document, dict)
    return document


def steps() -> list[dict[str, object]]:
    runs = action()["runs"]
    assert isinstance(runs, dict)
    assert runs["using"] == "composite"
    found = runs["steps"]
    assert isinstance(found, list)
    return found


def test_action_has_the_expected_inputs_and_outputs() -> None:
    document = action()
    inputs = document["inputs"]
    assert isinstance(inputs, dict)
    assert set(inputs) == INPUTS
    assert inputs["fail-on"]["default"] == "critical"
    assert inputs["symbols"]["default"] == "BTCUSDT"
    assert all("description" in spec for spec in inputs.values())
    outputs = document["outputs"]
    assert isinstance(outputs, dict)
    assert outputs["exit-code"]["value"] == "${{ steps.probe.outputs.exit-code }}"


def test_every_run_step_has_a_shell_and_takes_inputs_from_the_environment() -> None:
    uses = [s["uses"] for s in steps() if "uses" in s]
    assert uses == ["actions/setup-python@v5"]
    for step in steps():
        if "run" in step:
            assert step["shell"] == "bash"
            assert "${{" not in str(step["run"]), step["name"]  # no script injection
    install = next(s for s in steps() if "pip install" in str(s.get("run")))
    assert install["env"] == {"BD_ACTION_PATH": "${{ github.action_path }}"}


def run_probe_step(tmp_path: Path, fail_on: str, endpoint: str, args: str
                   ) -> tuple[int, str, Path]:
    """The action's probe step, run by bash as a runner runs it (`bash -e`)."""
    step = next(s for s in steps() if s.get("id") == "probe")
    script = tmp_path / "probe.sh"
    script.write_text(str(step["run"]), encoding="utf-8")
    output, summary = tmp_path / "output", tmp_path / "summary.md"
    bin_dir = Path(sys.executable).parent
    env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
    env.update(PATH=f"{bin_dir}{os.pathsep}{env.get('PATH', '')}", GITHUB_OUTPUT=str(output),
               GITHUB_STEP_SUMMARY=str(summary), BD_SYMBOLS="BTCUSDT  ETHUSDT",
               BD_ENDPOINT=endpoint, BD_ARGS=args, BD_FAIL_ON=fail_on,
               BD_REPORT=str(tmp_path / "junit.xml"))
    assert (bin_dir / "binance-diag").exists(), "an install puts the console script there"
    result = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)],
                            env=env, capture_output=True, text=True, timeout=60, check=False)
    return result.returncode, output.read_text() if output.exists() else "", tmp_path


@pytest.mark.timeout(120)
@pytest.mark.parametrize(("fail_on", "step_exit"), [("critical", 2), ("never", 0)])
def test_probe_step_reports_and_applies_fail_on(tmp_path: Path, fail_on: str,
                                                step_exit: int) -> None:
    with start_fault("http-451") as fake:
        assert fake.cli_args[:2] == ("--endpoint", fake.url_base)
        args = " ".join([*fake.cli_args[2:], "--timeout", "2"])  # no spaces in them
        code, outputs, folder = run_probe_step(tmp_path, fail_on, fake.url_base, args)
    assert code == step_exit
    assert outputs == "exit-code=2\n"
    assert (folder / "junit.xml").read_text(encoding="utf-8").startswith("<?xml")
    assert "Binance Stream Connectivity Report" in (folder / "summary.md").read_text()


@pytest.mark.timeout(30)
def test_probe_step_refuses_an_unknown_fail_on(tmp_path: Path) -> None:
    code, outputs, _ = run_probe_step(tmp_path, "sometimes", "ws://127.0.0.1:9", "")
    assert code == 3 and outputs == ""


def test_dockerfile_copies_files_that_exist_and_runs_binance_diag() -> None:
    text = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    instructions = [line for line in text.replace("\\\n", " ").splitlines()
                    if line.strip() and not line.startswith("#")]
    assert instructions[0] == "FROM python:3.11-slim"
    copied = [word for line in instructions if line.startswith("COPY ")
              for word in line.split()[1:-1]]
    assert copied, "no COPY"
    for source in copied:
        assert (ROOT / source).exists(), source
    assert any("pip install" in line and line.rstrip().endswith(". && rm -rf /src") or
               re.search(r"pip install .* \.( |$)", line) for line in instructions)
    assert 'ENTRYPOINT ["binance-diag"]' in instructions
    # What pip builds from: everything pyproject.toml needs is copied.
    assert {"pyproject.toml", "README.md", "LICENSE", "binance_diag"} <= set(copied)


def test_ci_doc_snippets_are_valid_yaml_and_use_the_action_inputs() -> None:
    text = (ROOT / "docs" / "ci.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```yaml\n(.*?)```", text, re.S)
    assert len(blocks) >= 2
    documents = [yaml.safe_load(block) for block in blocks]
    github = next(d for d in documents if "jobs" in d)
    used = [step for job in github["jobs"].values() for step in job["steps"]
            if "binance-diag" in str(step.get("uses", ""))]
    assert used and set(used[0]["with"]) <= INPUTS
    gitlab = next(d for d in documents if any(
        isinstance(job, dict) and "artifacts" in job for job in d.values()))
    job = next(j for j in gitlab.values() if isinstance(j, dict) and "artifacts" in j)
    assert "junit" in job["artifacts"]["reports"]
    assert any("--format junit" in line for line in job["script"])
