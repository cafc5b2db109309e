"""The registry of experiments (experiments.report.sections): a new experiment is its module, its
plots module and its report section plus one registry line — nothing else is edited. Shown with
a tiny experiment written into a package of its own: it runs, its figure is drawn, the report
quotes its section, settings and figure, and `make all` runs it."""
import json
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from experiments.harness.config import main
from experiments.report import assemble, sections
from experiments.report.sections import REGISTRY, Experiment

ROOT = Path(__file__).resolve().parents[3]

TINY = {
    "experiment.py": '''
        """A tiny experiment: n seeded standard normal samples and their mean."""
        from __future__ import annotations

        import dataclasses
        from pathlib import Path

        import numpy as np

        from engine.io.results import Store, UsageError


        @dataclasses.dataclass(frozen=True)
        class Config:
            seed: int = 0  # the seed of the samples' generator
            n: int = 1000  # how many samples are drawn

            @classmethod
            def quick(cls):
                """The tiny preset."""
                return cls(n=50)

            def validate(self):
                """UsageError for fewer than two samples."""
                if self.n < 2:
                    raise UsageError("--n must be at least 2")


        def run(config, out_dir=Path("results") / "tiny", options=None):
            """Draw the samples and save them with their mean."""
            store = Store(out_dir, "tiny", config)
            x = np.random.default_rng(config.seed).standard_normal(config.n)
            return store.save_summary({"x": x}, {"mean": float(x.mean()), "n": config.n})
        ''',
    "figures.py": '''
        """The figure of the tiny experiment: a histogram of its samples."""
        from pathlib import Path

        import matplotlib.pyplot as plt

        from engine.io.results import load_summary
        from plots.common import save_figure


        def figure_names(meta):
            """The names of the figures render draws."""
            return ["tiny_samples"]


        def render(results_dir, figures_dir=Path("figures")):
            """Draw tiny_samples from a results folder of the tiny experiment."""
            arrays, meta = load_summary(results_dir, "tiny")
            fig, ax = plt.subplots(figsize=(4, 3))
            ax.hist(arrays["x"], bins=10)
            ax.set_xlabel("sample")
            return save_figure(fig, figures_dir, figure_names(meta)[0])
        ''',
    "section.py": '''
        """The report's section of the tiny experiment."""
        from experiments.report.facts import section_figures


        def tiny_section(f):
            """The samples' mean, read through Facts.num, its settings and its figure."""
            lines = ["## The tiny experiment", ""]
            lines += f.settings("tiny", [("samples", f.setting("tiny", "n"))])
            lines += [f"- The mean of the samples is {f.num('tiny', 'summary', 'mean')}.", ""]
            return lines + section_figures(f, "tiny")
        ''',
}


@pytest.fixture
def tiny(tmp_path, monkeypatch):
    """The three files of the tiny experiment in a package `tinylab` (not under experiments/ or
    plots/: nothing may find it by its name) and its registry line, the only one (so the report
    needs no other results)."""
    package = tmp_path / "src" / "tinylab"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    for name, text in TINY.items():
        (package / name).write_text(textwrap.dedent(text).lstrip())
    monkeypatch.syspath_prepend(str(tmp_path / "src"))
    from tinylab import experiment, figures, section

    for name in list(REGISTRY):
        monkeypatch.delitem(REGISTRY, name)
    monkeypatch.setitem(REGISTRY, "tiny", Experiment(experiment, figures, section.tiny_section,
                                                     part="# A part of its own"))
    yield REGISTRY["tiny"]
    for name in ("tinylab", "tinylab.experiment", "tinylab.figures", "tinylab.section"):
        sys.modules.pop(name, None)


def test_a_new_experiment_is_three_modules_and_one_registry_line(tiny, tmp_path, capsys):
    results, figures, out = tmp_path / "results", tmp_path / "figures", tmp_path / "report"
    # it runs (as python -m experiments.<name> would, from what the registry gives)
    main(tiny.module.Config, tiny.module.run, tiny.plots.render, prog="tiny",
         argv=["--quick", "--out", str(results / "tiny"), "--figures", str(figures)])
    assert (figures / "tiny_samples.png").stat().st_size > 1000  # its figure is drawn
    assert assemble.all_figures(assemble.load_metas(results)) == ["tiny_samples"]
    md, pdf = assemble.build(results, figures, out)
    text = md.read_text()
    saved = json.loads((results / "tiny" / "summary.json").read_text())
    mean = f"{saved['summary']['mean']:.3g}"
    assert "# A part of its own\n\n## The tiny experiment\n" in text
    assert f"- The mean of the samples is {mean}." in text
    assert "| samples | 50 |" in text
    assert "![tiny_samples](../figures/tiny_samples.png)" in text
    facts = json.loads((out / "facts.json").read_text())
    rows = {r["key"]: r for fact in facts if "settings" in fact for r in fact["settings"]}
    assert rows["n"] == {"key": "n", "value": "50", "source": "--quick preset"}  # its Config
    assert {"experiment": "tiny", "path": ["summary", "mean"], "value": saved["summary"]["mean"],
            "text": mean} in facts
    assert pdf.read_bytes()[:5] == b"%PDF-"


def test_the_report_refuses_a_registered_experiment_without_results(tiny, tmp_path):
    with pytest.raises(assemble.UsageError, match=r"tiny/summary.json is missing: run `make "
                                                  r"tiny`"):
        assemble.build(tmp_path / "results", tmp_path / "figures", tmp_path / "report")


def _dry_run(cwd: Path) -> list[str]:
    """The commands `make all QUICK=1` would run with the repository's Makefile in `cwd`."""
    venv = ROOT / ".venv"
    result = subprocess.run(
        ["make", "-s", "-n", "-f", str(ROOT / "Makefile"), "-o", str(venv / ".installed"),
         f"VENV={venv}", "all", "QUICK=1", "JOBS=1", "RESULTS=R", "FIGURES=F", "REPORT=P"],
        cwd=cwd, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return result.stdout.replace("\\\n", " ").splitlines()


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_make_all_runs_every_registered_experiment_in_the_registry_order(tmp_path):
    def outs(commands):
        return [c.split('--out "R/')[1].split('"')[0] for c in commands if '--out "R/' in c]

    assert outs(_dry_run(ROOT)) == list(sections.REGISTRY)
    # one line more in a copy of the registry: make all runs it too, the Makefile unchanged
    copy = tmp_path / "experiments" / "report" / "sections.py"
    copy.parent.mkdir(parents=True)
    text = (ROOT / "experiments" / "report" / "sections.py").read_text()
    line = '    "spectrum": Experiment('
    assert text.count(line) == 1
    copy.write_text(text.replace(line, '    "tiny": Experiment(tiny, tiny_plots, tiny_section),\n'
                                       + line))
    commands = _dry_run(tmp_path)
    assert outs(commands) == [*list(sections.REGISTRY)[:-1], "tiny", "spectrum"]
    assert any(c.startswith(f"{ROOT / '.venv'}/bin/python -m experiments.tiny --out \"R/tiny\"")
               for c in commands), commands
    assert commands[-1].endswith('-m experiments.report --results "R" --figures "F" --out "P"')
