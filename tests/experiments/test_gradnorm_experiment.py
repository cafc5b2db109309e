"""experiments.gradnorm and plots.gradnorm: the --quick preset end to end, the recorded gradient
norms against an independent recomputation, figures re-rendered from the saved files, resume,
bad flags, and the smoothing and rise facts on curves whose answer is known."""
import json
import shutil

import matplotlib.image
import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from engine import MLP, grad_norm, mlp_gradient
from engine.data.datasets import function_dataset, load_dataset
from engine.io.results import load_summary
from engine.training.recording import N_CHECKS
from experiments import gradnorm
from experiments.harness.config import main
from experiments.harness.parallel import RunOptions
from plots.gradnorm import render

QUICK_RUNS = {
    # the preset itself: sinc full batch, the DNN on a digits subset with minibatches, p = 2
    "default": [],
    # the other two cases: sinc with minibatches, and a p ≠ 2
    "sinc_minibatch_p1.5": ["--task", "sinc", "--sinc-minibatch", "--sinc-batch-size", "64",
                            "--p", "1.5"],
    "dnn_pinf": ["--task", "dnn", "--p", "inf"],
}


@pytest.fixture(scope="module")
def quick(tmp_path_factory):
    """{name: (results folder, figures folder)} of the quick runs, each run once per module."""
    out = {}
    for name, flags in QUICK_RUNS.items():
        base = tmp_path_factory.mktemp(name)
        _main([*flags, "--quick", "--out", str(base / "results"),
               "--figures", str(base / "figures"), "--jobs", "1"])
        out[name] = (base / "results", base / "figures")
    return out


def _main(argv):
    """`python -m experiments.gradnorm ARGV`, in process."""
    main(gradnorm.Config, gradnorm.run, render, argv=argv, prog="experiments.gradnorm")


def test_quick_writes_results_and_both_figures(quick):
    results, figures = quick["default"]
    arrays, meta = load_summary(results)
    assert meta["experiment"] == "gradnorm" and meta["config"]["p"] == "2"
    assert set(meta["summary"]["tasks"]) == {"sinc", "dnn"}
    for task in ("sinc", "dnn"):
        info = meta["summary"]["tasks"][task]
        n_steps = info["n_steps"]
        assert arrays[f"{task}_step_loss"].shape == (n_steps,)
        assert arrays[f"{task}_step_grad_norm"].shape == (n_steps,)
        full_step = arrays[f"{task}_full_step"]
        assert full_step[0] == 0 and full_step[-1] == n_steps
        gaps = np.diff(full_step)  # every k steps, and the final θ at most k steps after the last
        assert np.all(gaps[:-1] == info["full_every"]) and 1 <= gaps[-1] <= info["full_every"]
        for key in ("step_loss", "step_grad_norm", "full_loss", "full_grad_norm"):
            values = arrays[f"{task}_{key}"]
            assert np.all(np.isfinite(values)) and np.all(values > 0)
        facts = info["facts"]["full"]
        assert facts["final"]["step"] == n_steps
        assert facts["min_grad_norm"]["value"] == arrays[f"{task}_full_grad_norm"].min()
        for ext in ("png", "pdf"):
            name = "sinc" if task == "sinc" else info["dataset"]  # named by its data
            assert (figures / f"gradnorm_{name}.{ext}").stat().st_size > 0
    sinc, dnn = meta["summary"]["tasks"]["sinc"], meta["summary"]["tasks"]["dnn"]
    assert sinc["full_batch"] and sinc["n_steps"] == meta["config"]["sinc_steps"]
    assert not dnn["full_batch"] and dnn["dataset"] == "digits" and "step" in dnn["facts"]
    # whole epochs of ⌈300/64⌉ = 5 steps, at least `steps` of them
    assert dnn["n_steps"] == 5 * int(np.ceil(meta["config"]["steps"] / 5))


def test_full_batch_series_is_the_step_series(quick):
    arrays, _ = load_summary(quick["default"][0])
    # in full-batch training the minibatch is the training set: the same numbers, not recomputed
    assert_array_equal(arrays["sinc_full_grad_norm"][:-1], arrays["sinc_step_grad_norm"])
    assert_array_equal(arrays["sinc_full_loss"][:-1], arrays["sinc_step_loss"])


@pytest.mark.parametrize("name, task", [("default", "sinc"), ("default", "dnn"),
                                        ("sinc_minibatch_p1.5", "sinc"), ("dnn_pinf", "dnn")])
def test_recorded_norms_equal_a_recomputation(quick, name, task):
    arrays, meta = load_summary(quick[name][0])
    config, info = meta["config"], meta["summary"]["tasks"][task]
    p = float(config["p"])
    net = MLP(tuple(info["sizes"]), info["activation"], info["loss"])
    if task == "sinc":
        data = function_dataset("sinc", n_samples=config["sinc_samples"])
    else:
        data = load_dataset("digits", n_train=config["n_train"] or None,
                            rng=np.random.default_rng(config["seed"]))
    x, y = data.x_train, data.y_train
    a = {k[len(task) + 1:]: v for k, v in arrays.items() if k.startswith(task + "_")}
    assert len(a["check_step"]) == N_CHECKS and a["check_step"][-1] == info["n_steps"]
    n_minibatch_checks = 0
    for c, step in enumerate(a["check_step"]):
        theta = a["check_theta"][c]
        # Whole data: one autograd pass here against the recorded (chunked, weighted) sum. Both are
        # float64 sums of the same terms in another order: ~1e-15 relative; 1e-12 leaves room.
        (where,) = np.nonzero(a["full_step"] == step)
        assert_allclose(grad_norm(mlp_gradient(net, theta, x, y), p), a["full_grad_norm"][where[0]],
                        rtol=1e-12)
        assert_allclose(net.loss(theta, x, y), a["full_loss"][where[0]], rtol=1e-12)
        batch = a["check_batch"][a["check_batch_start"][c]:a["check_batch_start"][c + 1]]
        if step == info["n_steps"]:
            assert batch.size == 0  # the final θ takes no step
            continue
        n_minibatch_checks += 1
        # the epoch's last batch is short
        position = step % int(np.ceil(len(x) / info["batch_size"]))
        assert batch.size == min(info["batch_size"], len(x) - position * info["batch_size"])
        # The minibatch the step used: the same pass on the same rows, so equal up to rounding
        # of a differently ordered sum (rtol 1e-12 as above).
        xb, yb = x[batch], y[batch]
        assert_allclose(grad_norm(mlp_gradient(net, theta, xb, yb), p), a["step_grad_norm"][step],
                        rtol=1e-12)
        assert_allclose(net.loss(theta, xb, yb), a["step_loss"][step], rtol=1e-12)
    assert n_minibatch_checks == N_CHECKS - 1


def test_minibatches_are_the_epoch_permutation(quick):
    """Minibatch runs: a check step's batch is a slice of a permutation (no repeats, in range)."""
    arrays, meta = load_summary(quick["dnn_pinf"][0])
    info = meta["summary"]["tasks"]["dnn"]
    start = arrays["dnn_check_batch_start"]
    for c in range(len(start) - 2):
        batch = arrays["dnn_check_batch"][start[c]:start[c + 1]]
        assert len(np.unique(batch)) == len(batch)
        assert batch.min() >= 0 and batch.max() < info["n_train"]


def test_render_from_saved_summary_only(quick, tmp_path):
    results, _ = quick["default"]
    copy = tmp_path / "copy"
    shutil.copytree(results, copy)
    shutil.rmtree(copy / "runs")  # the figures need the summary files only
    paths = render(copy, figures_dir=tmp_path / "figs")
    # the DNN's figure is named by its data: digits here, never "mnist" (issue 22)
    assert sorted(p.name for p in paths) == sorted(f"gradnorm_{t}.{e}" for t in ("sinc", "digits")
                                                   for e in ("png", "pdf"))
    image = matplotlib.image.imread(tmp_path / "figs" / "gradnorm_digits.png")
    # printed at half width, 7.8 cm, at 300 dpi: 921 pixels
    assert image.ndim == 3 and image.shape[0] > 500 and image.shape[1] == round(7.8 / 2.54 * 300)


def test_rerun_resumes_without_training(quick, monkeypatch):
    results, _ = quick["default"]

    def refuse(*args, **kwargs):
        raise AssertionError("a finished task was trained again")

    monkeypatch.setattr(gradnorm, "record_training", refuse)  # the name gradnorm calls
    before = json.loads((results / "runs" / "run_001.json").read_text())
    # the preset of "default"
    gradnorm.run(gradnorm.Config.quick(), out_dir=results, options=RunOptions(jobs=1))
    assert json.loads((results / "runs" / "run_001.json").read_text()) == before


@pytest.mark.parametrize("flags, expected", [
    (["--p", "0.5"], "p=0.5"),
    (["--p", "two"], "'inf'"),
    (["--task", "cifar"], "--task: invalid choice: 'cifar' (choose from 'both', 'sinc', 'dnn')"),
    (["--sinc-hidden", "5", "0"], "--sinc-hidden 5 0: give integers ≥ 1"),
    (["--dataset", "sinc"], "--dataset: invalid choice: 'sinc'"),
    (["--dataset", "mnist"], "--dataset mnist needs --data-root"),
    (["--seed", "-1"], "--seed -1: give an integer ≥ 0"),
    (["--steps", "0"], "--steps 0"),
    (["--smooth", "1.5"], "--smooth 1.5"),
    (["--rise-factor", "0.9"], "--rise-factor"),
])
def test_bad_flags_are_one_line_errors(flags, expected, tmp_path, one_line_error):
    one_line_error(lambda: _main([*flags, "--quick", "--out", str(tmp_path / "r"), "--figures",
                                  str(tmp_path)]), "experiments.gradnorm", expected)
    assert not (tmp_path / "r").exists()


def test_a_folder_of_another_config_is_refused(quick, tmp_path, capsys):
    results, _ = quick["default"]
    with pytest.raises(SystemExit) as excinfo:
        _main(["--quick", "--p", "inf", "--out", str(results), "--figures", str(tmp_path)])
    assert excinfo.value.code == 2 and "p: '2' there, 'inf' now" in capsys.readouterr().err


@pytest.mark.parametrize("window", [3, 5, 21, 49])
def test_smooth_log_keeps_exponentials_and_constants(window):
    steps = np.arange(50)
    curve = np.exp(0.3 - 0.07 * steps)
    half = window // 2
    # a centred average of a linear log-curve is the curve: only rounding differs, sums of ≤ 49
    # terms of size ≤ 4, ε·4·49 ≈ 4e-14 in the log
    smooth = gradnorm.smooth_log(curve, window)
    assert_allclose(smooth[half:50 - half], curve[half:50 - half], rtol=1e-12)
    constant = gradnorm.smooth_log(np.full(50, 3.0), window)
    assert_allclose(constant[half:50 - half], 3.0, rtol=1e-13)  # same sums of log 3


@pytest.mark.parametrize("window", [1, 2, 4, 7])
def test_smooth_log_leaves_values_without_an_odd_window_that_fits(window):
    values = np.array([1.0, 5.0, 2.0, 0.5, 3.0])
    # windows < 3, even, or longer than the series: nothing is averaged; exp(log v) is v up to
    # a few ulp of the round trip
    assert_allclose(gradnorm.smooth_log(values, window), values, rtol=1e-14)


def test_smooth_log_middle_averages_and_has_no_edge_values():
    logs = np.array([0.0, 3.0, 1.0, 9.0, 4.0])
    # window 3: the middle points are means of three logs; at the ends no centred window fits,
    # so no value (issue 22: a line fitted there made a ×2.39 "rise" of the last two samples)
    expected = np.array([np.nan, 4 / 3, 13 / 3, 14 / 3, np.nan])
    assert_allclose(np.log(gradnorm.smooth_log(np.exp(logs), 3)), expected, rtol=1e-13)


def test_the_end_value_is_robust_to_a_spike_on_the_last_step():
    steps = np.arange(21)
    g = np.full(21, 0.1)
    g[-1] = 50.0  # an Adam spike on the last step
    smooth = gradnorm.smooth_log(g, 5)
    facts = gradnorm.series_facts(steps, g, g, smooth, smooth, rise_factor=1.5, loss_drop=0.05)
    assert facts["final"]["grad_norm"] == 50.0 and facts["end"]["grad_norm"] == 0.1
    assert facts["end"]["from_step"] == 16  # the last window: 5 points


def _bump(loss_falls: bool):
    """‖g‖ falls to 0.2 at step 40, rises to 0.8 at step 60, falls to 0.41 at step 99; the loss
    falls all along, or only until step 40."""
    steps = np.arange(100)
    g = np.select([steps <= 40, steps <= 60], [1.0 - 0.02 * steps, 0.2 + 0.03 * (steps - 40)],
                  0.8 - 0.01 * (steps - 60))
    loss = np.exp(-0.05 * (steps if loss_falls else np.minimum(steps, 40)))
    return steps, loss, g


def test_rise_while_falling_finds_the_bump():
    steps, loss, g = _bump(loss_falls=True)
    facts = gradnorm.series_facts(steps, loss, g, loss, g, rise_factor=1.5, loss_drop=0.05)
    rise = facts["rise"]
    assert rise["occurred"] and rise["from_step"] == 40 and rise["to_step"] == 60
    assert_allclose(rise["ratio"], 4.0, rtol=1e-14)  # 0.8 / 0.2, each a few roundings
    assert_allclose(rise["loss_to"] / rise["loss_from"], np.exp(-1.0), rtol=1e-14)
    assert facts["min_grad_norm"]["step"] == 40 and facts["final"]["step"] == 99
    assert facts["min_grad_norm"]["loss"] == loss[40] and facts["final"]["grad_norm"] == g[-1]


def test_rise_on_a_flat_loss_does_not_count():
    steps, loss, g = _bump(loss_falls=False)
    facts = gradnorm.series_facts(steps, loss, g, loss, g, rise_factor=1.5, loss_drop=0.05)
    assert facts["rise"]["occurred"] is False


def test_help_lists_every_field():
    from experiments.harness.config import build_parser

    text = build_parser(gradnorm.Config, "experiments.gradnorm").format_help()  # '%' would raise
    for name in gradnorm.Config.__dataclass_fields__:
        assert "--" + name.replace("_", "-") in text


def test_figures_are_readable_on_paper(quick, tmp_path, monkeypatch):
    # issue 22.4: no literal '_'/'^', no overlapping texts, no legend over the data, ≥ 2
    # labels on every log axis — in every figure, as saved at its print size
    from figurefaults import rendered_faults

    import plots.gradnorm

    faults = rendered_faults(plots.gradnorm, quick["default"][0], tmp_path, monkeypatch)
    assert not any(faults.values()), faults
