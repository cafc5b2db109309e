"""`make all QUICK=1` end to end: every figure, both report files, and every number of the report
equal to the number in the results file it was read from; the report on damaged copies of those
results."""
import dataclasses
import json
import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import cli

from experiments.report.assemble import all_figures, load_metas
from experiments.report.assemble import main as report_main
from experiments.report.sections import REGISTRY

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def made(tmp_path_factory):
    if shutil.which("make") is None:  # the README's set-up needs make; so does this test
        raise RuntimeError("make is not installed")
    tmp = tmp_path_factory.mktemp("make_all")
    dirs = {"RESULTS": tmp / "results", "FIGURES": tmp / "figures", "REPORT": tmp / "report"}
    result = subprocess.run(["make", "-C", str(ROOT), "all", "QUICK=1", "JOBS=2",
                             *(f"{k}={v}" for k, v in dirs.items())],
                            capture_output=True, text=True, timeout=1500)
    assert result.returncode == 0, result.stderr[-3000:]
    return dirs


def test_every_figure_and_both_report_files_exist(made):
    names = all_figures(load_metas(made["RESULTS"]))  # as each plots module names them
    assert "gradnorm_digits" in names and not any("mnist" in n for n in names)  # digits 8×8
    for name in names:
        for ext in ("png", "pdf"):
            path = made["FIGURES"] / f"{name}.{ext}"
            assert path.stat().st_size > 1000, path
    assert (made["REPORT"] / "report.md").stat().st_size > 1000
    assert (made["REPORT"] / "report.pdf").read_bytes()[:5] == b"%PDF-"


def test_every_number_in_the_report_is_the_results_files(made):
    text = (made["REPORT"] / "report.md").read_text()
    facts = json.loads((made["REPORT"] / "facts.json").read_text())
    assert len(facts) > 40
    for fact in facts:
        if "settings" in fact:  # test_report_settings_come_from_the_saved_configs
            continue
        if "rule" in fact:  # a claim: the same rule on the same saved values, the same text
            from experiments.report.claims import RULES
            from experiments.report.facts import resolve

            values = {k: resolve(made["RESULTS"], fact["experiment"], tuple(ref))
                      for k, ref in fact["inputs"].items()}
            assert RULES[fact["rule"]](**values, **fact["params"]).text == fact["text"], fact
            assert fact["text"] in text, fact
            continue
        value = json.loads((made["RESULTS"] / fact["experiment"] / "summary.json").read_text())
        for key in fact["path"]:  # a path into summary.json, e.g. ["summary", "whole", …]
            value = value[key]
        assert value == fact["value"], fact  # read, not retyped: exact equality
        assert fact["text"] in text, fact


def test_report_settings_come_from_the_saved_configs(made):
    """Every setting of every section's saved config is in facts.json with the value used and
    where it came from (the report's tables show only what each question asks for)."""
    facts = json.loads((made["REPORT"] / "facts.json").read_text())
    recorded = {}
    for fact in facts:
        if "settings" in fact:
            recorded.setdefault(fact["experiment"], {}).update(
                {row["key"]: row for row in fact["settings"]})
    sources = ("default", "--quick preset", "command line", "Adam's default", "offline default",
               "offline default (no --data-root)")
    for section in REGISTRY:
        config = json.loads((made["RESULTS"] / section / "summary.json").read_text())["config"]
        assert set(recorded[section]) == set(config), section
        for key, value in config.items():
            row = recorded[section][key]
            assert row["source"] in sources, (section, row)
            if value == "":  # a run-time choice ('' = decided at run time): shows what was chosen
                assert row["value"] != "", (section, key)
                continue
            if value == 0 and key in ("lr", "n_train"):  # 0 = decided at run time, likewise
                assert row["value"] != "0", (section, key)
                continue
            shown = (" ".join(map(str, value)) if isinstance(value, list) else
                     f"{value:g}" if isinstance(value, float) else str(value))
            assert row["value"] == shown, (section, key)
    text = (made["REPORT"] / "report.md").read_text()
    assert "| setting | value |" in text  # the compact tables are there


def test_tables_are_complete_and_the_pdf_fits_ten_pages(made):
    from experiments.report.pdf import page_count

    lines = (made["REPORT"] / "report.md").read_text().splitlines()
    for i, line in enumerate(lines):
        if line.startswith("|") and not lines[i - 1].startswith("|"):  # a table's header
            width = line.count("|")
            j = i
            while j < len(lines) and lines[j].startswith("|"):
                assert lines[j].count("|") == width, lines[j]
                j += 1
    assert 1 <= page_count(made["REPORT"] / "report.pdf") <= 10


def test_every_figure_of_the_pdf_is_its_own_vector_pdf_at_print_size(made):
    """report.pdf draws, in report.md's order, each figure report.md shows as a PNG from the
    PDF beside it (the same drawing, as a form at its page's size), and no raster image."""
    import re

    import pikepdf
    from pdfpages import MM, drawn_xobjects

    shown = re.findall(r"^!\[[^\]]*\]\(([^)]+)\)$", (made["REPORT"] / "report.md").read_text(),
                       flags=re.M)
    drawn = drawn_xobjects(made["REPORT"] / "report.pdf")
    assert [kind for _, kind, *_ in drawn] == ["/Form"] * len(shown) and shown
    for png, (_, _, (_, _, w, h), content, _) in zip(shown, drawn, strict=True):
        with pikepdf.open(made["FIGURES"] / f"{Path(png).stem}.pdf") as figure:
            x0, y0, x1, y1 = (float(v) for v in figure.pages[0].mediabox)
            assert content == figure.pages[0].Contents.read_bytes(), png
        assert abs(w - (x1 - x0) * MM) < 0.01 and abs(h - (y1 - y0) * MM) < 0.01, png


def test_report_names_what_is_missing(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        report_main(["--results", str(tmp_path), "--figures", str(tmp_path), "--out",
                     str(tmp_path / "r")])
    err = capsys.readouterr().err
    assert exit_info.value.code == 2 and err.count("\n") == 1 and "deepshallow" in err
    assert not (tmp_path / "r").exists()


def test_gallery_writes_small_copies(made, tmp_path):
    report_main(["--results", str(made["RESULTS"]), "--figures", str(made["FIGURES"]),
                 "--gallery", str(tmp_path)])
    from PIL import Image

    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == sorted(f"{n}.png" for n in all_figures(load_metas(made["RESULTS"])))
    with Image.open(tmp_path / names[0]) as image:
        assert image.size[0] <= 640


# The report on a results set whose summary.json is valid JSON of the wrong structure: one line
# naming the file, exit 2, nothing written (experiments.report.schema, checked when the summaries
# are loaded, before any work); a KeyError of a section's own code stays an internal failure.
# They damage copies of make all's results (a second quick run of every experiment cost a minute).

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


def _refused(made, tmp_path, one_line_error, name, edit):
    """The report on a copy of make all's results whose <name>/summary.json went through
    edit(meta): one line naming its folder, exit 2, nothing written. Returns the line."""
    results = tmp_path / "results"
    shutil.copytree(made["RESULTS"], results)
    path = results / name / "summary.json"
    meta = json.loads(path.read_text())
    edit(meta)
    path.write_text(json.dumps(meta))
    line = one_line_error(_run(results, made["FIGURES"], tmp_path / "report"),
                          "experiments.report", str(path.parent))
    assert not (tmp_path / "report").exists()
    return line


@pytest.mark.parametrize("what", ["summary {}", "config {}", "a setting removed",
                                  "a setting of the wrong type"])
@pytest.mark.parametrize("name", list(REGISTRY))
def test_a_summary_of_the_wrong_structure_is_one_line(name, what, made, tmp_path,
                                                      one_line_error):
    _refused(made, tmp_path, one_line_error, name, lambda meta: _edit(meta, what))


def test_no_batch_sizes_is_one_line(made, tmp_path, one_line_error):
    """HW1-3's flatness names its first and last batch size: [] was an IndexError (exit 1)."""
    line = _refused(made, tmp_path, one_line_error, "generalization",
                    lambda meta: meta["config"].update(batch_sizes=[]))
    assert "config.batch_sizes holds 0 items" in line


@pytest.mark.parametrize("tasks", [5, {"sinc": {}}])
def test_gradnorm_tasks_of_the_wrong_type_are_one_line(tasks, made, tmp_path, one_line_error):
    _refused(made, tmp_path, one_line_error, "gradnorm",
             lambda meta: meta["summary"].update(tasks=tasks))


def test_a_key_error_of_a_section_is_an_internal_failure(made, tmp_path, monkeypatch, capsys):
    from experiments.report import sections

    def buggy(facts):
        raise KeyError("a key the code got wrong")

    monkeypatch.setitem(sections.REGISTRY, "gradnorm",
                        dataclasses.replace(sections.REGISTRY["gradnorm"], section=buggy))
    with pytest.raises(SystemExit) as exit_info:
        _run(made["RESULTS"], made["FIGURES"], tmp_path / "report")()
    err = capsys.readouterr().err
    assert exit_info.value.code == 1, err
    assert "internal error: KeyError" in err
    assert not (tmp_path / "report" / "report.pdf").exists()
