"""pyproject.toml and LICENSE: the MIT licence ships in the sdist and the wheel, the project
metadata has its classifiers. Built in-process with hatchling (no network, no pip)."""

from __future__ import annotations

import tarfile
import tomllib
import zipfile
from email.parser import Parser
from pathlib import Path

import pytest

from tests.utils import ROOT

COPYRIGHT = "Copyright (c) 2026 the binance-diag authors"


def test_license_file_is_mit_with_the_authors_copyright() -> None:
    text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert text.startswith("MIT License\n")
    assert COPYRIGHT in text
    assert "WITHOUT WARRANTY OF ANY KIND" in text


def test_pyproject_declares_the_license_file_and_classifiers() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert project["license"] == "MIT"
    assert project["license-files"] == ["LICENSE"]
    classifiers = project["classifiers"]
    assert "Programming Language :: Python :: 3.11" in classifiers
    assert "Typing :: Typed" in classifiers
    # License classifiers are deprecated beside a PEP 639 license expression (hatchling
    # refuses both at once).
    assert not [c for c in classifiers if c.startswith("License ::")]


@pytest.mark.timeout(120)
def test_sdist_and_wheel_carry_the_license(tmp_path: Path) -> None:
    from hatchling.builders.sdist import SdistBuilder
    from hatchling.builders.wheel import WheelBuilder

    wheel = Path(next(iter(WheelBuilder(str(ROOT)).build(directory=str(tmp_path)))))
    sdist = Path(next(iter(SdistBuilder(str(ROOT)).build(directory=str(tmp_path)))))
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        licence = next(n for n in names if n.endswith(".dist-info/licenses/LICENSE"))
        assert COPYRIGHT in archive.read(licence).decode()
        metadata = Parser().parsestr(archive.read(
            next(n for n in names if n.endswith(".dist-info/METADATA"))).decode())
    assert metadata["License-Expression"] == "MIT"
    assert metadata["License-File"] == "LICENSE"
    assert "Typing :: Typed" in metadata.get_all("Classifier", [])
    assert "binance_diag/py.typed" in names
    assert "binance_diag/schema/probe-1.schema.json" in names
    with tarfile.open(sdist) as archive:
        root = sdist.name.removesuffix(".tar.gz")
        members = set(archive.getnames())
        assert f"{root}/LICENSE" in members
        for shipped in ("action.yml", "Dockerfile", "README.md", "docs/library.md",
                        "docs/ci.md"):
            assert f"{root}/{shipped}" in members, shipped
