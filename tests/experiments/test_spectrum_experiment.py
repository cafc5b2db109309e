"""experiments.spectrum and plots.spectrum: --quick end to end, the result contract checked against
an independent recomputation, rendering from saved files, resuming and bad flags."""
import numpy as np
import pytest
from conftest import cli, quick_results
from numpy.testing import assert_allclose

from engine import MLP, mlp_hessian_autograd
from engine.data.datasets import function_dataset
from engine.io import results as common
from experiments.spectrum import Config
from plots.spectrum import render

pytestmark = pytest.mark.slow
PROG = "experiments.spectrum"


def _main(*argv):
    cli(PROG)(argv)  # python -m PROG ARGV, in process


quick = quick_results("spectrum")  # the --quick preset, run once for the module


def test_sinc_spectrum_is_the_exact_hessians(quick):
    arrays, meta = common.load_summary(quick[0])
    config = Config.quick()
    net = MLP((1, *config.sinc_hidden, 1), config.sinc_activation, "mse")
    data = function_dataset("sinc", n_samples=config.sinc_samples)
    theta = arrays["sinc_theta"]
    expected = np.linalg.eigvalsh(mlp_hessian_autograd(net, theta, data.x_train, data.y_train))
    eig = arrays["sinc_eigenvalues_H"]
    # two exact Hessians (structured vs autograd) agree to ~1e-13·‖H‖; eigvalsh is backward
    # stable, so the eigenvalues agree to a few n·ε·‖H‖
    assert_allclose(eig, expected, rtol=0, atol=1e-10 * np.abs(expected).max())
    assert np.all(np.diff(eig) >= 0)
    counts = meta["summary"]["sinc"]["counts"]
    assert counts["H"]["n_pos"] + counts["H"]["n_neg"] + counts["H"]["n_zero"] == net.n_params
    # L-BFGS ran the iterations --sinc-iterations says (its function-call limit does not bind)
    sinc = meta["summary"]["sinc"]
    assert sinc["lbfgs_iterations"] == config.sinc_iterations and "ITERATIONS" in sinc[
        "lbfgs_message"]
    # G = JᵀΛJ is positive semi-definite: nothing below −τ
    assert counts["G"]["n_neg"] == 0 and arrays["sinc_eigenvalues_G"].min() > -counts["G"]["tau"]


def test_dnn_part_keeps_its_contract(quick):
    arrays, meta = common.load_summary(quick[0])
    dnn, config = meta["summary"]["dnn"], Config.quick()
    assert dnn["dataset"] == "digits" and dnn["n_train"] == config.n_train
    top = arrays["dnn_top_eigenvalues"]
    assert top.shape == (config.top_k,) and np.all(np.diff(top) <= 0)
    weights = arrays["dnn_slq_weights"]
    # SLQ weights of each probe are squared components of a unit vector: they sum to 1 overall
    assert_allclose(weights.sum(), 1.0, rtol=1e-12)
    # Ritz values lie inside the spectrum: none above λ_max (up to Lanczos' convergence tol 1e-8)
    assert arrays["dnn_slq_nodes"].max() <= top[0] * (1 + 1e-6)
    assert dnn["trace_se"] > 0 and all(np.all(np.isfinite(v)) for v in arrays.values())
    # eigsh's answer was checked (residuals, nothing missed above the k-th) and says so
    assert dnn["top_verified"] is True and dnn["top_message"] == "verified"
    assert dnn["diverged"] is None


def test_figures_render_from_saved_files(quick, tmp_path):
    paths = render(quick[0], figures_dir=tmp_path)
    assert sorted(p.name for p in paths) == sorted(
        f"spectrum_{n}.{e}" for n in ("sinc", "dnn") for e in ("png", "pdf"))
    assert all(p.stat().st_size > 1000 for p in paths)
    assert {p.name for p in quick[1].iterdir()} == {p.name for p in paths}


def test_rerun_reuses_the_saved_parts(quick, tmp_path):
    before = {p: p.stat().st_mtime_ns for p in (quick[0] / "runs").iterdir()}
    _main("--quick", "--out", quick[0], "--figures", tmp_path)
    assert {p: p.stat().st_mtime_ns for p in (quick[0] / "runs").iterdir()} == before


@pytest.mark.parametrize("flag", [["--epochs", "0"], ["--rtol", "2"], ["--dataset", "svhn"],
                                  ["--sinc-activation", "swish"]])
def test_bad_flags_are_one_line_and_exit_2(flag, tmp_path, one_line_error):
    one_line_error(lambda: _main("--quick", "--out", tmp_path, *flag), PROG)


@pytest.mark.slow
def test_figures_are_readable_on_paper(quick, tmp_path, monkeypatch):
    # issue 22.4, as for the other experiments' figures: no literal '_'/'^', no overlapping or
    # clipped texts, no legend over the data, ≥ 2 labels on every log axis
    from figurefaults import rendered_faults

    import plots.spectrum

    faults = rendered_faults(plots.spectrum, quick[0], tmp_path, monkeypatch)
    assert not any(faults.values()), faults


def test_the_dnn_legend_is_under_the_panel_not_over_the_eigenvalue_lines():
    # the top eigenvalues are vertical lines (axvline), which the fault finder reads as guides:
    # inside the axes the legend covered them (spectrum_dnn of make all)
    import matplotlib.pyplot as plt

    from plots.spectrum import dnn_figure

    arrays = {"dnn_density_grid": np.linspace(-1.0, 8.0, 50),
              "dnn_density": np.exp(-np.linspace(-1.0, 8.0, 50) ** 2) + 1e-3,
              "dnn_top_eigenvalues": np.array([7.0, 6.0, 5.0])}
    info = {"dataset": "digits", "sizes": [64, 8, 10], "n_params": 610, "trace": 4.0,
            "trace_se": 0.1, "lambda_max": 7.0, "lambda_min_ritz": -0.1}
    fig = dnn_figure(arrays, info, {"activation": "relu"})
    fig.canvas.draw()
    (ax,) = fig.axes
    assert not ax.get_legend() and len(fig.legends) == 1
    legend = fig.legends[0].get_window_extent()
    assert legend.y1 <= ax.get_window_extent().y0
    plt.close(fig)
