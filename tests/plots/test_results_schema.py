"""Bad input to `python -m plots.<name>` is one line, exit 2, nothing written (engine.io.cli):
a figures folder that cannot be one (checked before any work), and a summary.json whose
structure is not what the reader relies on (plots.schema, checked when it loads); a KeyError of
the plotting code itself stays an internal failure (exit 1)."""
import json

import numpy as np
import pytest
from conftest import cli
from readerresults import reader_results

from engine.io.files import save_json, save_npz, versions

READERS = ["census", "deepshallow", "generalization", "gradnorm", "minratio", "spectrum",
           "surface", "trajectory"]
globals().update(reader_results("gradnorm"))


def _fake(folder, experiment, config, summary):
    """A finished-looking results folder of `experiment` holding the given config and summary."""
    folder.mkdir(parents=True)
    save_npz(folder / "summary.npz", {"x": np.zeros(1)})
    save_json(folder / "summary.json", {"experiment": experiment, "config": config,
                                        "summary": summary, "versions": versions()})
    return folder


def _figures_cases(tmp_path):
    afile = tmp_path / "afile"
    afile.write_text("not a folder")
    return {"a file": afile, "under a file": afile / "sub", "empty": ""}


@pytest.mark.parametrize("case", ["a file", "under a file", "empty"])
@pytest.mark.parametrize("name", READERS)
def test_a_figures_folder_that_cannot_be_one_is_one_line(name, case, gradnorm, tmp_path,
                                                         one_line_error, monkeypatch):
    results = gradnorm[0] if name == "gradnorm" else tmp_path / "none"
    figures = _figures_cases(tmp_path)[case]
    monkeypatch.chdir(tmp_path)  # --figures "" must not write here
    before = sorted(tmp_path.rglob("*"))
    one_line_error(lambda: cli(f"plots.{name}")([results, "--figures", figures]),
                   f"plots.{name}", "--figures")
    assert sorted(tmp_path.rglob("*")) == before  # nothing written


# a summary.json of each reader: without what it reads, or with every setting of a wrong type
DAMAGED = {
    "missing": lambda name: ({}, {"tiny_tsne": {}} if name == "surface" else {}),
    "wrong type": lambda name: ({k: "oops" for k in _schema(name)["config"]} or {},
                                {k.rstrip("?"): "oops" for k in _summary_keys(name)}),
}


def _schema(name):
    import importlib

    schema = importlib.import_module(f"plots.{name}").SCHEMA
    return {"config": schema.get("config", {}), "summary": schema.get("summary", {})}


def _summary_keys(name):
    summary = _schema(name)["summary"]
    return summary if isinstance(summary, dict) else {"dataset": str, "task": dict}


@pytest.mark.parametrize("damage", list(DAMAGED))
@pytest.mark.parametrize("name", READERS)
def test_a_summary_of_the_wrong_structure_is_one_line_naming_it(name, damage, tmp_path,
                                                                one_line_error):
    config, summary = DAMAGED[damage](name)
    folder = _fake(tmp_path / "r", name, config, summary)
    figures = tmp_path / "f"
    line = one_line_error(lambda: cli(f"plots.{name}")([folder, "--figures", figures]),
                          f"plots.{name}", str(folder / "summary.json"))
    assert ("lacks" if damage == "missing" else "not ") in line
    assert not figures.exists()


@pytest.mark.parametrize("edit", ["summary {}", "config {}", "tasks 5", "task info 5"])
def test_gradnorm_results_edited_by_hand_are_one_line(edit, gradnorm, tmp_path, one_line_error):
    """The audit's examples on real results: summary {} (was KeyError 'tasks'), config {}
    (KeyError 'rise_factor'), summary.tasks 5 (AttributeError)."""
    import shutil

    folder = tmp_path / "r"
    shutil.copytree(gradnorm[0], folder)
    meta = json.loads((folder / "summary.json").read_text())
    if edit == "summary {}":
        meta["summary"] = {}
    elif edit == "config {}":
        meta["config"] = {}
    elif edit == "tasks 5":
        meta["summary"]["tasks"] = 5
    else:
        meta["summary"]["tasks"]["sinc"] = 5
    (folder / "summary.json").write_text(json.dumps(meta))
    one_line_error(lambda: cli("plots.gradnorm")([folder, "--figures", tmp_path / "f"]),
                   "plots.gradnorm", str(folder / "summary.json"))
    assert not (tmp_path / "f").exists()


def test_a_key_error_of_the_plotting_code_is_an_internal_failure(gradnorm, tmp_path,
                                                                 monkeypatch, capsys):
    import plots.gradnorm

    def buggy(*args, **kwargs):
        raise KeyError("a key the code got wrong")

    monkeypatch.setattr(plots.gradnorm, "task_figure", buggy)
    with pytest.raises(SystemExit) as exit_info:
        cli("plots.gradnorm")([gradnorm[0], "--figures", tmp_path / "f"])
    err = capsys.readouterr().err
    assert exit_info.value.code == 1, err
    assert "internal error: KeyError" in err and "error: " not in err.split("internal")[0]


def test_a_tuple_of_specs_takes_any_of_them():
    """census's ρ is {"rho", "low", "high"} or null: a tuple mixing a mapping spec with a type
    raised TypeError from isinstance on the real census results (plots.census exit 1)."""
    from plots.schema import NONE, NUM, problem

    rho = ({"rho": NUM, "low": NUM, "high": NUM}, NONE)
    assert problem({"rho": 0.5, "low": 0.1, "high": 0.9}, rho, "fit.spearman") is None
    assert problem(None, rho, "fit.spearman") is None
    assert "lacks" in problem({"rho": 0.5}, rho, "fit.spearman")
    assert problem("x", rho, "fit.spearman") is not None
