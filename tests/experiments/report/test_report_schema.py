"""The report on a results set whose summary.json is valid JSON of the wrong structure: one line
naming the file, exit 2, nothing written (experiments.report.schema, checked when the summaries
are loaded, before any work); a KeyError of a section's own code stays an internal failure."""
import dataclasses
import json
import shutil

import pytest
from conftest import cli

from experiments.report.sections import REGISTRY


@pytest.fixture(scope="module")
def full(tmp_path_factory):
    """Quick results of every registered experiment and their figures: (results, figures)."""
    results, figures = tmp_path_factory.mktemp("results"), tmp_path_factory.mktemp("figures")
    for name, entry in REGISTRY.items():
        flags = ["--weight-decay", "1e-5"] if name == "minratio_wd" else []
        module = entry.module.__name__.split(".")[1]
        cli(f"experiments.{module}")(["--quick", "--jobs", "1", *flags, "--out", results / name,
                                      "--figures", figures])
    return results, figures


def _edit(meta, what):
    if what == "summary {}":
        meta["summary"] = {}
    elif what == "config {}":
        meta["config"] = {}
    elif what == "a setting removed":
        meta["config"].pop(sorted(meta["config"])[0])
    else:  # a setting of the wrong type
        key = sorted(meta["config"])[0]
        meta["config"][key] = {"not": "a setting"}


def _run(results, figures, out):
    return lambda: cli("experiments.report")(["--results", results, "--figures", figures,
                                              "--out", out])


def test_the_report_accepts_the_quick_results(full, tmp_path):
    _run(*full, tmp_path / "report")()
    assert (tmp_path / "report" / "report.pdf").exists()


@pytest.mark.parametrize("what", ["summary {}", "config {}", "a setting removed",
                                  "a setting of the wrong type"])
@pytest.mark.parametrize("name", list(REGISTRY))
def test_a_summary_of_the_wrong_structure_is_one_line(name, what, full, tmp_path,
                                                      one_line_error):
    results = tmp_path / "results"
    shutil.copytree(full[0], results)
    path = results / name / "summary.json"
    meta = json.loads(path.read_text())
    _edit(meta, what)
    path.write_text(json.dumps(meta))
    one_line_error(_run(results, full[1], tmp_path / "report"), "experiments.report",
                   str(path.parent))
    assert not (tmp_path / "report").exists()


def test_no_batch_sizes_is_one_line(full, tmp_path, one_line_error):
    """HW1-3's flatness names its first and last batch size: [] was an IndexError (exit 1)."""
    results = tmp_path / "results"
    shutil.copytree(full[0], results)
    path = results / "generalization" / "summary.json"
    meta = json.loads(path.read_text())
    meta["config"]["batch_sizes"] = []
    path.write_text(json.dumps(meta))
    line = one_line_error(_run(results, full[1], tmp_path / "report"), "experiments.report",
                          str(path.parent))
    assert "config.batch_sizes holds 0 items" in line
    assert not (tmp_path / "report").exists()


@pytest.mark.parametrize("edit", ["tasks 5", "tasks {}"])
def test_gradnorm_tasks_of_the_wrong_type_are_one_line(edit, full, tmp_path, one_line_error):
    results = tmp_path / "results"
    shutil.copytree(full[0], results)
    path = results / "gradnorm" / "summary.json"
    meta = json.loads(path.read_text())
    meta["summary"]["tasks"] = 5 if edit == "tasks 5" else {"sinc": {}}
    path.write_text(json.dumps(meta))
    one_line_error(_run(results, full[1], tmp_path / "report"), "experiments.report",
                   str(path.parent))
    assert not (tmp_path / "report").exists()


def test_a_key_error_of_a_section_is_an_internal_failure(full, tmp_path, monkeypatch, capsys):
    from experiments.report import sections

    def buggy(facts):
        raise KeyError("a key the code got wrong")

    monkeypatch.setitem(sections.REGISTRY, "gradnorm",
                        dataclasses.replace(sections.REGISTRY["gradnorm"], section=buggy))
    with pytest.raises(SystemExit) as exit_info:
        _run(*full, tmp_path / "report")()
    err = capsys.readouterr().err
    assert exit_info.value.code == 1, err
    assert "internal error: KeyError" in err
    assert not (tmp_path / "report" / "report.pdf").exists()
