"""Issue 20: the README's measured minratio table is written from the results by a command
(`make docs`), with the versions that produced it; the Makefile quotes paths and reads QUICK as
a yes/no."""
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from conftest import cli

from engine.io.results import Store, load_summary
from experiments.minratio import readme_table

ROOT = Path(__file__).resolve().parents[2]
README = ("intro\n\n" + readme_table.BEGIN + "\n| old | table |\n" + readme_table.END
          + "\n\nafter\n")


def _check_rows(readme, results):
    text = readme.read_text()
    assert text.startswith("intro\n\n") and text.endswith("\n\nafter\n")  # the rest untouched
    block = text.split(readme_table.BEGIN)[1].split(readme_table.END)[0]
    assert "| old | table |" not in block
    _, meta = load_summary(results / "minratio", "minratio")
    summary = meta["summary"]
    row = next(line for line in block.splitlines() if line.startswith("| MSE"))
    cells = [c.strip() for c in row.strip("|").split("|")]
    assert cells[1].startswith(f"{summary['counts']['critical']} "
                               f"({summary['verdicts']['stays']})")
    assert cells[2] == str(summary["counts"]["gradient-flat"])
    assert cells[3] == str(summary["counts"]["not-converged"])
    assert cells[-1] == f"{summary['wall_time']:.0f} s"
    versions = meta["versions"]
    assert f"numpy {versions['numpy']}, scipy {versions['scipy']}" in block
    assert f"losslab {versions['losslab']}" in block


@pytest.mark.slow
def test_the_table_is_written_from_quick_results(tmp_path):
    results = tmp_path / "results"
    cli("experiments.minratio")(["--quick", "--jobs", "1", "--out", results / "minratio",
                                 "--figures", tmp_path / "f"])
    readme = tmp_path / "README.md"
    readme.write_text(README)
    readme_table.main([str(results), "--readme", str(readme)])
    _check_rows(readme, results)


def test_the_writer_refuses_in_one_line_and_leaves_the_readme(tmp_path, one_line_error):
    readme = tmp_path / "README.md"
    readme.write_text("no markers\n")
    prog = readme_table.PROG
    one_line_error(lambda: readme_table.main([str(tmp_path), "--readme", str(readme)]), prog,
                   "holds neither minratio nor minratio_wd")
    Store(tmp_path / "minratio", "minratio", {"runs": 1}).save_summary(
        {"x": np.zeros(1)}, {"counts": {}})
    one_line_error(lambda: readme_table.main([str(tmp_path), "--readme", str(readme)]), prog,
                   "summary.json lacks ['summary.counts.critical']")
    assert readme.read_text() == "no markers\n"


def test_a_key_error_of_the_rows_own_code_is_not_bad_input(tmp_path, monkeypatch):
    """The row's code was wrapped in `except (KeyError, TypeError, …)` → exit 2 "lacks what the
    table reads": a bug in it read as a damaged file. The schema check decides that now."""
    from engine.io.results import UsageError
    from plots.schema import problem

    summary = {"counts": {"critical": 1, "gradient-flat": 0, "not-converged": 0},
               "verdicts": {"escaping": 0, "stays": 1},
               "saddles": {"distinct": 0, "reducible": 0, "index_range": None, "loss_range": None},
               "index_loss_fit": {"spearman": None}, "wall_time": 1.0}
    assert problem(summary, readme_table.ROW_SCHEMA["summary"], "summary") is None
    Store(tmp_path / "minratio", "minratio", {"runs": 1}).save_summary({"x": np.zeros(1)},
                                                                        summary)
    monkeypatch.setattr(readme_table, "commit_label", lambda commit: {}["a key the code got"])
    with pytest.raises(KeyError, match="a key the code got") as caught:
        readme_table.block(tmp_path)
    assert not isinstance(caught.value, UsageError)


def test_the_readme_has_the_measured_block_and_make_docs_writes_it():
    text = (ROOT / "README.md").read_text()
    assert text.count(readme_table.BEGIN) == 1 and text.count(readme_table.END) >= 1
    assert "experiments.minratio.readme_table" in (ROOT / "Makefile").read_text()


def _make_n(*args):
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    done = subprocess.run(["make", "-n", "-C", str(ROOT), *args, "PY=python"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return [line for line in done.stdout.splitlines() if "experiments.minratio " in line
            or "experiments.minratio\t" in line or line.endswith("experiments.minratio")
            or "-m experiments.minratio --" in line]


@pytest.mark.parametrize("value, quick", [("1", True), ("yes", True), ("true", True),
                                          ("0", False), ("no", False), ("false", False),
                                          ("", False)])
def test_make_reads_quick_as_yes_or_no(value, quick):
    lines = _make_n("minratio", f"QUICK={value}")
    assert lines and all(("--quick" in line) == quick for line in lines), lines


def test_make_quotes_paths_with_spaces():
    lines = _make_n("minratio", "RESULTS=/tmp/a b", "FIGURES=/tmp/f g")
    assert lines and '--out "/tmp/a b/minratio" --figures "/tmp/f g"' in lines[0], lines


def test_every_make_command_the_docs_give_names_a_target_and_only_variables():
    """`make X …` in README.md, CHANGELOG.md and the notebooks: X a Makefile target, the rest
    VAR=value (make takes no --flags of ours: `make bench --only hvp` failed as written)."""
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    makefile = (root / "Makefile").read_text().replace("\\\n", " ")  # join continued lines
    targets = set(re.findall(r"^([A-Za-z0-9_.-]+):", makefile, re.M))
    targets |= {t for line in re.findall(r"^\.PHONY:(.*)$", makefile, re.M) for t in line.split()}
    texts = [root / "README.md", root / "CHANGELOG.md", *sorted((root / "docs").rglob("*.md"))]
    commands = [(path.name, c) for path in texts
                for c in re.findall(r"`make ([^`]*)`", path.read_text(encoding="utf-8"))]
    assert commands
    for name, command in commands:
        words = command.split()
        assert words and words[0] in targets, f"{name}: `make {command}` names no target"
        assert all(re.fullmatch(r"[A-Z_]+=\S+", w) for w in words[1:]), \
            f"{name}: `make {command}` gives make something other than VAR=value"
