"""experiments.trajectory and plots.trajectory: the --quick preset end to end, its result contract,
the shared PCA basis, rendering from saved files, resuming, and bad flags."""
import json

import numpy as np
import pytest
from conftest import cli, quick_results
from numpy.testing import assert_allclose, assert_array_equal

from engine import MLP
from engine.data.datasets import load_digits
from engine.io import results as common
from engine.training.loop import evaluate
from experiments.trajectory import Config
from plots.common import plot_main
from plots.trajectory import render

pytestmark = pytest.mark.slow
PROG = "experiments.trajectory"


def _main(*argv):
    cli(PROG)(argv)  # python -m PROG ARGV, in process


quick = quick_results("trajectory", "--jobs", 1)  # the --quick preset, run once for the module


def test_quick_run_keeps_the_result_contract(quick):
    arrays, meta = common.load_summary(quick[0])
    config, summary = Config.quick(), meta["summary"]
    n_points = config.runs * config.n_snapshots
    n_params = MLP((64, *config.hidden, 10)).n_params
    assert config.n_snapshots == 3 and summary["n_points"] == n_points
    assert arrays["snapshots"].shape == (n_points, n_params)
    assert_array_equal(arrays["run"], np.repeat(np.arange(config.runs), config.n_snapshots))
    assert_array_equal(arrays["epoch"], np.tile([0, 1, 2], config.runs))
    for key in ("train_loss", "test_loss", "train_acc", "test_acc"):
        assert arrays[key].shape == (n_points,)
    for name in ("whole", "layer1"):
        assert arrays[f"{name}_coords"].shape == (n_points, 2)
        ratio, off = arrays[f"{name}_explained_variance"], arrays[f"{name}_off_plane"]
        assert np.all((ratio >= 0) & (ratio <= 1)) and ratio[0] >= ratio[1] and ratio.sum() <= 1
        assert np.all((off >= 0) & (off <= 1))
        assert summary[name]["explained_variance_pc1"] == ratio[0]
    assert all(np.all(np.isfinite(a)) for a in arrays.values())
    assert meta["config"] == json.loads(json.dumps(common.to_jsonable(config.__dict__)))
    assert summary["dataset"] == "digits" and summary["n_params"] == n_params
    assert len(summary["final"]["test_acc"]["per_run"]) == config.runs


def test_each_point_carries_its_own_losses_and_accuracies(quick):
    arrays, _ = common.load_summary(quick[0])
    config = Config.quick()
    data = load_digits(n_train=config.n_train)  # the experiment's fixed split and subset
    net = MLP((64, *config.hidden, 10), config.activation, "cross_entropy")
    for i in (0, 4, len(arrays["run"]) - 1):
        want = evaluate(net, arrays["snapshots"][i], data)
        for key, value in want.items():
            assert arrays[key][i] == value  # the same evaluation of the same θ


def test_runs_differ_but_each_is_saved_as_in_the_summary(quick):
    arrays, _ = common.load_summary(quick[0])
    store = common.Store(quick[0], "trajectory", Config.quick())
    starts = []
    for r in range(Config.quick().runs):
        run_arrays, info = store.load_run(r)
        assert_array_equal(run_arrays["snapshots"], arrays["snapshots"][arrays["run"] == r])
        assert_array_equal(run_arrays["test_acc"], arrays["test_acc"][arrays["run"] == r])
        assert info["n_steps"] == 2 * 3  # 2 epochs of ⌈120 / 40⌉ steps
        starts.append(run_arrays["snapshots"][0])
    assert len({s.tobytes() for s in starts}) == len(starts)  # independent initializations


@pytest.mark.parametrize("name, block", [("whole", slice(None)), ("layer1", slice(0, 64 * 8 + 8))])
def test_one_pca_basis_is_shared_by_all_runs(quick, name, block):
    """The coordinates are one PCA of all runs' points stacked, recomputed here by an SVD."""
    arrays, _ = common.load_summary(quick[0])
    points = arrays["snapshots"][:, block]
    d = points - points.mean(axis=0)
    _, s, vt = np.linalg.svd(d, full_matrices=False)
    coords = d @ vt[:2].T
    # a component's sign is arbitrary: compare up to one sign per component; both routes are
    # exact SVDs of a 9 × ≤ 1k matrix, so they agree to ~1e-12 relative
    signs = np.sign(np.sum(coords * arrays[f"{name}_coords"], axis=0))
    assert_allclose(arrays[f"{name}_coords"], coords * signs, rtol=1e-9,
                    atol=1e-9 * np.abs(coords).max())
    assert_allclose(arrays[f"{name}_explained_variance"], s[:2] ** 2 / np.sum(s**2), rtol=1e-9)
    # off-plane shares weighted by ‖dᵢ‖² add up to the variance the plane leaves out
    total = np.sum(d * d, axis=1)
    assert_allclose(np.sum(arrays[f"{name}_off_plane"] * total) / total.sum(),
                    1 - np.sum(s[:2] ** 2) / np.sum(s**2), rtol=1e-9)


def test_figures_render_from_the_saved_files_alone(quick, tmp_path, capsys):
    figures = tmp_path / "again"
    plot_main(render, argv=[str(quick[0]), "--figures", str(figures)], prog="plots.trajectory")
    written = sorted(p.name for p in figures.iterdir())
    assert written == ["trajectory_layer1.pdf", "trajectory_layer1.png", "trajectory_whole.pdf",
                       "trajectory_whole.png"]
    assert sorted(p.name for p in quick[1].iterdir()) == written  # the experiment drew them too
    assert all((figures / name).stat().st_size > 1000 for name in written)
    assert capsys.readouterr().out.count("\n") == 4


def test_rerun_skips_finished_runs_and_redoes_a_lost_one(tmp_path):
    out = tmp_path / "res"
    argv = ("--quick", "--runs", 2, "--jobs", 1, "--out", out, "--figures", tmp_path / "f")
    _main(*argv)
    runs = out / "runs"
    before = {p.name: p.stat().st_mtime_ns for p in runs.iterdir()}
    first, _ = common.load_summary(out)
    _main(*argv)
    assert {p.name: p.stat().st_mtime_ns for p in runs.iterdir()} == before
    (runs / "run_001.json").unlink()
    _main(*argv)
    after = {p.name: p.stat().st_mtime_ns for p in runs.iterdir()}
    assert after["run_000.npz"] == before["run_000.npz"]
    assert after["run_001.npz"] != before["run_001.npz"]
    again, _ = common.load_summary(out)
    for key, value in first.items():  # run 1's seed stream reproduces it exactly
        assert_array_equal(again[key], value)


def test_numbers_do_not_depend_on_jobs(quick, tmp_path):
    _main("--quick", "--jobs", 2, "--out", tmp_path, "--figures", tmp_path / "f")
    parallel, _ = common.load_summary(tmp_path)
    serial, _ = common.load_summary(quick[0])
    for key, value in serial.items():
        assert_array_equal(parallel[key], value)


def test_another_config_in_the_same_folder_is_refused(quick, capsys):
    with pytest.raises(SystemExit) as exit_info:
        _main("--quick", "--every", 2, "--out", quick[0], "--figures", quick[1])
    assert exit_info.value.code == 2
    assert "every: 1 there, 2 now" in capsys.readouterr().err


def test_sinc_points_carry_the_loss(tmp_path):
    _main("--quick", "--dataset", "sinc", "--jobs", 1, "--out", tmp_path, "--figures",
          tmp_path / "f")
    arrays, meta = common.load_summary(tmp_path)
    assert "train_acc" not in arrays and meta["summary"]["metrics"] == ["train_loss", "test_loss"]
    assert arrays["snapshots"].shape[1] == MLP((1, *Config.quick().hidden, 1)).n_params
    assert np.all(np.isfinite(arrays["train_loss"]))
    assert len(list((tmp_path / "f").glob("trajectory_*.png"))) == 2


@pytest.mark.parametrize("argv, message", [
    (["--epochs", "-1"], "--epochs -1: give an integer ≥ 1"),
    (["--every", "0"], "--every 0: give an integer ≥ 1"),
    (["--dataset", "imagenet"], "--dataset: invalid choice: 'imagenet' (choose from '', 'mnist'"),
    (["--dataset", "mnist"], "needs --data-root"),
    (["--optimizer", "rmsprop"],
     "--optimizer: invalid choice: 'rmsprop' (choose from 'adam', 'sgd')"),
    (["--activation", "rleu"], "--activation: invalid choice: 'rleu'"),
    (["--lr", "nan"], "--lr nan: give a finite number in [0, inf)"),
    (["--hidden", "100000", "100000"], "--hidden 100000 100000 with --runs 8 needs about"),
    (["--runs", "1", "--epochs", "1"], "at least 3 points"),
])
def test_bad_flags_are_one_line_and_exit_code_2(tmp_path, one_line_error, argv, message):
    one_line_error(lambda: _main(*argv, "--out", tmp_path), PROG, message)
    assert not any(tmp_path.iterdir())  # nothing was written


def test_missing_mnist_files_are_one_line(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        _main("--dataset", "mnist", "--data-root", tmp_path / "nowhere", "--out", tmp_path / "o")
    assert exit_info.value.code == 2
    assert "pip install" in capsys.readouterr().err


def test_render_refuses_a_folder_of_another_experiment(tmp_path):
    common.Store(tmp_path, "gradnorm", Config()).save_summary({"x": np.zeros(1)}, {})
    with pytest.raises(ValueError, match="not of trajectory"):
        render(tmp_path, tmp_path / "f")


def test_figures_are_readable_on_paper(quick, tmp_path, monkeypatch):
    # issue 22.4: no literal '_'/'^', no overlapping texts, no legend over the data, ≥ 2
    # labels on every log axis — in every figure, as saved at its print size
    from figurefaults import rendered_faults

    import plots.trajectory

    faults = rendered_faults(plots.trajectory, quick[0], tmp_path, monkeypatch)
    assert not any(faults.values()), faults
