"""experiments.surface and plots.surface: the --quick preset end to end, the saved views against
independent recomputations (line end points, filter norms, curvature of the perturbation curves),
figures re-rendered from the saved files, resume across --view, and one-line errors."""
import dataclasses
import json
import math

import numpy as np
import pytest
from numpy.testing import assert_allclose

from engine import MLP
from engine.io.results import load_summary
from experiments.harness.config import main
from experiments.harness.parallel import RunOptions
from experiments.surface import experiment as surface
from plots.common import plot_main
from plots.surface import render

FIGURES = [f"surface_{name}" for name in (
    "line_sinc", "line_dnn", "plane_random_sinc", "plane_pca_sinc", "plane_hessian_sinc",
    "plane_random_dnn", "plane_pca_dnn", "plane_hessian_dnn", "perturb_sinc", "tsne")]
# δ small enough that the second difference of a perturbation curve is its curvature H_ii
QUICK_FLAGS = ["--quick", "--perturb-range", "1e-3", "--jobs", "1"]


def _main(argv):
    main(surface.Config, surface.run, render, argv=argv, prog="experiments.surface")


@pytest.fixture(scope="module")
def quick(tmp_path_factory):
    base = tmp_path_factory.mktemp("surface")
    _main([*QUICK_FLAGS, "--out", str(base / "results"), "--figures", str(base / "figures")])
    return base / "results", base / "figures"


@pytest.mark.slow
def test_quick_writes_every_unit_and_figure(quick):
    results, figures = quick
    arrays, meta = load_summary(results)
    assert meta["experiment"] == "surface" and meta["config"]["view"] == "all"
    assert set(meta["summary"]) == {*surface.UNITS, "wall_time_total"}
    grid = meta["config"]["grid"]
    for model in ("sinc", "dnn"):
        n_params = meta["summary"][f"{model}_train"]["n_params"]
        for plane in ("random", "pca", "hessian"):
            Z = arrays[f"{model}_plane/{plane}_Z"]
            assert Z.shape == (grid, grid) and np.all(np.isfinite(Z)) and np.all(Z > 0)
            assert arrays[f"{model}_plane/{plane}_d1"].shape == (n_params,)
        assert arrays[f"{model}_line/train_loss"].shape == (meta["config"]["line_points"],)
    config = meta["config"]
    every = max(1, config["gd_epochs"] // 100)
    kind = arrays["tiny_tsne/kind"]
    assert np.sum(kind == 0) == math.ceil(config["gd_epochs"] / every) + 1  # GD snapshots + end
    assert np.sum(kind == 1) == meta["summary"]["tiny_tsne"]["newton_iterations"]
    assert np.sum(kind == 2) == config["extra_steps"] * config["neighbours"]
    n_points = kind.size
    assert arrays["tiny_tsne/embedding"].shape == (n_points, 2)
    assert np.all(arrays["tiny_tsne/loss"] > 0)
    tsne = meta["summary"]["tiny_tsne"]
    # the t-SNE the flags ask for: their perplexity (not clamped), and iterations past
    # scikit-learn's 250 of early exaggeration (n_iter_ counts from 0)
    assert tsne["perplexity"] == config["perplexity"] and tsne["tsne_iterations"] == \
        config["tsne_iter"] - 1
    assert all(info.get("diverged") is None for info in meta["summary"].values()
               if isinstance(info, dict))
    for name in FIGURES:
        for ext in ("png", "pdf"):
            assert (figures / f"{name}.{ext}").stat().st_size > 0


@pytest.mark.slow
def test_saved_views_agree_with_the_engine(quick):
    arrays, meta = load_summary(quick[0])
    config = surface.Config(**{k: tuple(v) if isinstance(v, list) else v
                               for k, v in meta["config"].items()})
    for model in ("sinc", "dnn"):
        net, data = surface.problem(config, model)
        theta0, theta1 = arrays[f"{model}_train/theta0"], arrays[f"{model}_train/theta_end"]
        alphas, losses = arrays[f"{model}_line/alphas"], arrays[f"{model}_line/train_loss"]
        assert np.sum(alphas == 0.0) == 1 and np.sum(alphas == 1.0) == 1  # both on the grid
        # batched vs single evaluation: the same arithmetic in another summation order
        assert_allclose(losses[alphas == 0.0], net.loss(theta0, data.x_train, data.y_train),
                        rtol=1e-12)
        assert_allclose(losses[alphas == 1.0], net.loss(theta1, data.x_train, data.y_train),
                        rtol=1e-12)
        d1 = arrays[f"{model}_plane/random_d1"]
        for (Wd, bd), (Wt, _) in zip(net.layout.unpack(d1), net.layout.unpack(theta1),
                                     strict=True):
            # filter normalization: one norm, division and product per unit, a few ulps
            assert_allclose(np.linalg.norm(Wd, axis=0), np.linalg.norm(Wt, axis=0), rtol=1e-12)
            assert np.all(bd == 0.0)
        Z = arrays[f"{model}_plane/hessian_Z"]
        centre = Z[config.grid // 2, config.grid // 2]  # odd grid: (0, 0) is its centre
        assert_allclose(centre, arrays[f"{model}_plane/loss0"], rtol=1e-12)


@pytest.mark.slow
def test_perturbation_curvature_matches_the_saved_hessian_diagonal(quick):
    arrays, _ = load_summary(quick[0])
    deltas, curves = arrays["sinc_perturb/deltas"], arrays["sinc_perturb/curves"]
    k = len(deltas) // 2
    h = deltas[k + 1]
    assert deltas[k] == 0.0 and h == 5e-4  # linspace(−1e-3, 1e-3, 5)
    curvature = (curves[:, k - 1] - 2 * curves[:, k] + curves[:, k + 1]) / h**2
    H = arrays["sinc_perturb/H_diag"]
    assert np.min(np.abs(H)) > 1e-5  # far above the rounding floor 4ε·L/h² ≈ 1e-9 used below
    # truncation h²/12·∂⁴L ≈ 2e-8·∂⁴L, rounding 4ε·L/h² ≈ 1e-9 absolute against |Hᵢᵢ| > 1e-5
    assert_allclose(curvature, H, rtol=1e-3)


@pytest.mark.slow
def test_plots_cli_rerenders_every_figure_from_the_saved_files(quick, tmp_path, capsys):
    plot_main(render, [str(quick[0]), "--figures", str(tmp_path)], prog="plots.surface")
    printed = capsys.readouterr().out.split()
    assert sorted(printed) == sorted(str(tmp_path / f"{n}.{e}") for n in FIGURES
                                     for e in ("png", "pdf"))


@pytest.mark.slow
def test_another_view_on_the_same_folder_computes_nothing(quick):
    results = quick[0]
    wall_time = json.loads((results / "summary.json").read_text())["summary"]["wall_time_total"]
    stamps = {p: p.stat().st_mtime_ns for p in (results / "runs").glob("*.json")}
    config = dataclasses.replace(surface.Config.quick(), perturb_range=1e-3, view="line")
    surface.run(config, out_dir=results, options=RunOptions(jobs=1))
    assert {p: p.stat().st_mtime_ns for p in (results / "runs").glob("*.json")} == stamps
    summary = json.loads((results / "summary.json").read_text())["summary"]
    assert summary["wall_time_total"] == wall_time


@pytest.mark.slow
def test_one_view_computes_only_its_units(tmp_path):
    out = tmp_path / "line"
    _main([*QUICK_FLAGS, "--view", "line", "--out", str(out), "--figures", str(tmp_path / "f")])
    _, meta = load_summary(out)
    assert set(meta["summary"]) == {"sinc_train", "dnn_train", "sinc_line", "dnn_line",
                                    "wall_time_total"}
    assert sorted(p.name for p in (tmp_path / "f").glob("*.png")) == [
        "surface_line_dnn.png", "surface_line_sinc.png"]


@pytest.mark.parametrize("flags, message", [
    (["--view", "plan"],
     "--view: invalid choice: 'plan' (choose from 'all', 'line', 'plane', 'tsne'"),
    (["--grid", "2"], "--grid 2"),
    (["--perturb-points", "4"], "odd number"),
    (["--dataset", "imagenet"], "--dataset: invalid choice: 'imagenet'"),
    (["--sample-radius", "0"], "--sample-radius 0.0: give a finite number in (0, inf)"),
    (["--sinc-hidden", "0", "--view", "line"], "--sinc-hidden 0: give integers ≥ 1"),
    (["--perplexity", "2"], "--perplexity 2.0: give a number in [5, 50]"),
])
def test_bad_flags_exit_with_one_line(flags, message, tmp_path, one_line_error):
    one_line_error(lambda: _main(["--quick", *flags, "--out", str(tmp_path / "r")]),
                   "experiments.surface", message)
    assert not (tmp_path / "r").exists()


def test_a_folder_of_another_config_is_refused(quick, tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        _main([*QUICK_FLAGS, "--grid", "9", "--out", str(quick[0])])
    assert exit_info.value.code == 2
    assert "holds results of another configuration (grid: 7 there, 9 now)" in (
        capsys.readouterr().err)


def test_render_refuses_other_experiments(tmp_path):
    from engine.io.results import Store

    Store(tmp_path, "trajectory", surface.Config.quick()).save_summary({"x": np.zeros(1)}, {})
    with pytest.raises(ValueError, match="not of surface"):
        render(tmp_path, figures_dir=tmp_path / "f")


def test_the_tiny_model_has_fewer_than_50_parameters():
    config = surface.Config()
    assert MLP((1, *config.tiny_hidden, 1)).n_params == 46  # 10 + 30 + 6: the slides' < 50


@pytest.mark.slow
def test_figures_are_readable_on_paper(quick, tmp_path, monkeypatch):
    # issue 22.4: no literal '_'/'^', no overlapping texts, no legend over the data, ≥ 2
    # labels on every log axis — in every figure, as saved at its print size
    from figurefaults import rendered_faults

    import plots.surface

    faults = rendered_faults(plots.surface, quick[0], tmp_path, monkeypatch)
    assert not any(faults.values()), faults
