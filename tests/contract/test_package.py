"""A package people can cite, reuse and rebuild: the licence the metadata states, a citation
file, a changelog, and a wheel that builds and holds every package (CI runs this)."""
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def test_licence_citation_and_changelog_agree_with_the_metadata():
    import engine
    setup = (ROOT / "setup.cfg").read_text(encoding="utf-8")
    assert re.search(r"^license = MIT$", setup, re.M)
    assert (ROOT / "LICENSE").read_text(encoding="utf-8").startswith("MIT License")
    citation = (ROOT / "CITATION.cff").read_text(encoding="utf-8")
    assert re.search(r"^cff-version: 1\.2\.0$", citation, re.M)
    assert re.search(rf"^version: {re.escape(engine.__version__)}$", citation, re.M)
    assert re.search(r"^license: MIT$", citation, re.M)
    assert (ROOT / "CHANGELOG.md").read_text(encoding="utf-8").startswith("# Changelog")


@pytest.mark.slow
def test_a_wheel_builds_with_every_package(tmp_path):
    done = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w",
                           str(tmp_path), str(ROOT)], capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, done.stderr
    wheel, = tmp_path.glob("losslab-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for package in ("engine", "engine/adapters", "engine/spectra", "experiments", "plots"):
        assert f"{package}/__init__.py" in names, package
    assert any(n.endswith("licenses/LICENSE") or n.endswith("/LICENSE") for n in names), names
