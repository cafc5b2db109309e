"""What one saved value names another by: a damaged file is bad input (one line, exit 2, naming
the file and the key), not a KeyError while drawing (exit 1). The cases are the ones found on
real quick results: deepshallow's model per depth of its depths array and curves per function,
depth and seed; trajectory's optimizer, a name looked up in a title table; surface's arrays of
each unit it draws and the t-SNE unit's Newton fields; every Literal setting of a Config, which
the report's sections look up by name."""
import json
import shutil
from typing import Literal

import numpy as np
import pytest
from conftest import cli
from readerresults import reader_results

from experiments.report.schema import field_spec
from plots.schema import NONE, OneOf, problem

globals().update(reader_results("deepshallow", "trajectory", "surface"))


def _damaged(results, tmp_path, summary=None, arrays=None):
    """A copy of the results folder with summary.json's meta and the npz arrays edited."""
    folder = tmp_path / "r"
    shutil.copytree(results, folder)
    if summary:
        meta = json.loads((folder / "summary.json").read_text())
        summary(meta)
        (folder / "summary.json").write_text(json.dumps(meta))
    if arrays:
        with np.load(folder / "summary.npz") as saved:
            data = dict(saved)
        arrays(data)
        np.savez(folder / "summary.npz", **data)
    return folder


def _refused(name, folder, tmp_path, one_line_error, file, *words):
    figures = tmp_path / "f"
    line = one_line_error(lambda: cli(f"plots.{name}")([folder, "--figures", figures]),
                          f"plots.{name}", str(folder / file))
    assert all(word in line for word in words), line
    assert not figures.exists()


def test_a_depth_without_its_model_is_one_line(deepshallow, tmp_path, one_line_error):
    depth = str(int(np.load(deepshallow[0] / "summary.npz")["depths"][-1]))
    folder = _damaged(deepshallow[0], tmp_path,
                      summary=lambda meta: meta["summary"]["task"]["models"].pop(depth))
    _refused("deepshallow", folder, tmp_path, one_line_error, "summary.json",
             f"summary.task.models.{depth}")


@pytest.mark.parametrize("key", ["task_n_checks", "function_loss"])
def test_curves_of_another_number_of_seeds_are_one_line(key, deepshallow, tmp_path,
                                                        one_line_error):
    """The figures zip each depth's seeds with their lengths (strict): a seed short was a
    ValueError of zip."""
    def drop_a_seed(data):
        index = (slice(None),) * (data[key].ndim - (1 if key.endswith("checks") else 2))
        data[key] = data[key][index + (slice(0, 1),)]

    folder = _damaged(deepshallow[0], tmp_path, arrays=drop_a_seed)
    _refused("deepshallow", folder, tmp_path, one_line_error, "summary.npz", repr(key))


def test_an_unknown_optimizer_is_one_line(trajectory, tmp_path, one_line_error):
    folder = _damaged(trajectory[0], tmp_path,
                      summary=lambda meta: meta["config"].update(optimizer="rmsprop"))
    _refused("trajectory", folder, tmp_path, one_line_error, "summary.json",
             "config.optimizer", "'rmsprop'", "one of 'adam', 'sgd'")


def test_a_drawn_unit_without_its_array_is_one_line(surface, tmp_path, one_line_error):
    folder = _damaged(surface[0], tmp_path, arrays=lambda data: data.pop("dnn_plane/pca_Z"))
    _refused("surface", folder, tmp_path, one_line_error, "summary.npz", "'dnn_plane/pca_Z'")


def test_a_plane_without_its_training_path_is_one_line(surface, tmp_path, one_line_error):
    folder = _damaged(surface[0], tmp_path, arrays=lambda data: data.pop("sinc_train/epochs"))
    _refused("surface", folder, tmp_path, one_line_error, "summary.npz", "'sinc_train/epochs'")


def test_tsne_without_its_newton_fields_is_one_line(surface, tmp_path, one_line_error):
    folder = _damaged(surface[0], tmp_path,
                      summary=lambda meta: meta["summary"]["tiny_tsne"].pop("gd_loss"))
    _refused("surface", folder, tmp_path, one_line_error, "summary.json",
             "summary.tiny_tsne.gd_loss")


def test_a_diverged_unit_is_drawn_from_its_summary_without_arrays(surface, tmp_path):
    """A diverged unit saves no arrays of its figures: asking for them would refuse good
    results."""
    def diverge(meta):
        meta["summary"]["dnn_plane"]["diverged"] = {"step": 3, "epoch": 1}

    def drop(data):
        for key in [k for k in data if k.startswith("dnn_plane/")]:
            del data[key]

    folder = _damaged(surface[0], tmp_path, summary=diverge, arrays=drop)
    cli("plots.surface")([folder, "--figures", tmp_path / "f"])
    assert (tmp_path / "f" / "surface_plane_pca_dnn.png").exists()


def test_one_of_compares_type_and_value():
    """JSON's true is no 1 and "1" is no 1: a name must be the very value of the table."""
    spec = OneOf(1, "adam")
    assert problem(1, spec, "x") is None and problem("adam", spec, "x") is None
    assert "one of 1, 'adam'" in problem(True, spec, "x")
    assert problem("1", spec, "x") and problem(1.5, spec, "x") and problem(None, spec, "x")


def test_a_literal_setting_is_checked_by_value():
    spec = field_spec(Literal["adam", "sgd"])
    assert problem("sgd", spec, "config.optimizer") is None
    assert "not one of 'adam', 'sgd'" in problem("rmsprop", spec, "config.optimizer")
    optional = field_spec(Literal["tanh", None])
    assert problem(None, optional, "c") is None and problem("tanh", optional, "c") is None
    assert problem("relu", optional, "c")
    assert NONE in optional
