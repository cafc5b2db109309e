"""experiments.minratio and plots.minratio: the --quick preset end to end, the results contract
checked against an independent recomputation, figures re-rendered from the saved files, resume
after a kill, a non-finite run recorded without stopping the others, and bad flags."""
import json
import shutil

import matplotlib.image
import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from engine import MLP, mlp_gradient, mlp_hessian_autograd
from engine.critical.classification import LABELS, VERDICTS, classify
from engine.critical.embedding import effective_widths
from engine.critical.finders import find_critical
from engine.data.datasets import function_dataset
from engine.derivatives.curvature import exact_hessian
from engine.io.results import load_summary
from engine.nets.passes import mlp_mse_gradient
from engine.spectra.dense import spectrum_from_eigenvalues
from experiments.harness.parallel import RunOptions
from experiments.minratio import experiment as minratio
from experiments.minratio import summary as minratio_summary
from experiments.minratio.objective import finder_options, tau_max
from plots.minratio import render

pytestmark = pytest.mark.slow
CONTRACT = ("theta", "x", "y", "loss", "grad_norm", "eigenvalues", "minimal_ratio",
            "resolved_ratio", "index", "label")


def _main(argv):
    from experiments.harness.config import main

    main(minratio.Config, minratio.run, render, argv=argv, prog="experiments.minratio")


@pytest.fixture(scope="module")
def quick(tmp_path_factory):
    """(results folder, figures folder) of one --quick run."""
    base = tmp_path_factory.mktemp("minratio")
    _main(["--quick", "--out", str(base / "results"), "--figures", str(base / "figures"),
           "--jobs", "1"])
    return base / "results", base / "figures"


def test_quick_holds_the_results_contract(quick):
    results, figures = quick
    arrays, meta = load_summary(results)
    config = minratio.Config.quick()
    net = MLP(config.sizes, config.activation)
    n_runs, n = config.runs, net.n_params
    assert set(CONTRACT) <= set(arrays)
    assert meta["summary"]["sizes"] == list(config.sizes)
    assert meta["config"]["activation"] == config.activation
    assert arrays["theta"].shape == arrays["eigenvalues"].shape == (n_runs, n)
    assert arrays["x"].shape == arrays["y"].shape == (config.n_samples, 1)
    for key in ("loss", "grad_norm", "minimal_ratio", "index", "switch_step", "kappa"):
        assert arrays[key].shape == (n_runs,) and np.all(np.isfinite(arrays[key])), key
    assert set(arrays["label"]) <= set(LABELS)
    assert np.all(np.diff(arrays["eigenvalues"], axis=1) >= 0)
    assert arrays["minimal_ratio_band"].shape == (n_runs, len(config.band))
    assert arrays["sampled_ratio"].shape == (n_runs, len(config.radii))
    assert np.all((arrays["sampled_low"] <= arrays["sampled_ratio"])
                  & (arrays["sampled_ratio"] <= arrays["sampled_high"]))
    starts = arrays["trace_start"]
    assert starts.shape == (n_runs + 1,) and starts[-1] == arrays["trace"].size
    assert np.all(np.diff(starts) >= 1)
    # switch steps are log-uniform in [switch_min, switch_max], one per run, saved
    assert np.all((config.switch_min <= arrays["switch_step"])
                  & (arrays["switch_step"] <= config.switch_max))
    summary = meta["summary"]
    assert sum(summary["counts"].values()) == n_runs
    assert summary["counts"] == {k: int((arrays["label"] == k).sum()) for k in LABELS}
    assert summary["wall_time"] > 0 and summary["runs_computed"] == n_runs
    assert sorted(p.name for p in figures.iterdir()) == sorted(
        f"{name}.{ext}" for name in ("minratio", "minratio_traces") for ext in ("png", "pdf"))
    # ‖θ‖ along each search, aligned with the ‖∇L‖ trace; the continuation's own trace
    assert arrays["theta_norm_trace"].shape == arrays["trace"].shape
    assert_allclose(arrays["theta_norm_trace"][starts[1:] - 1],
                    np.linalg.norm(arrays["theta"], axis=1), rtol=1e-15)
    cont = arrays["continuation_start"]
    assert cont.shape == (n_runs + 1,) and cont[-1] == arrays["continuation_norms"].size
    assert set(arrays["verdict"]) <= set(VERDICTS) | {""}
    assert np.all((arrays["verdict"] != "") == (arrays["label"] == "critical"))


def test_summary_counts_are_recomputed_independently(quick):
    """Escaping, saddles, distinctness and the trivial loss, from the arrays by other code."""
    arrays, meta = load_summary(quick[0])
    summary = meta["summary"]
    crit = arrays["label"] == "critical"
    escaping = crit & (arrays["verdict"] == "escaping")
    assert_array_equal(arrays["escaping"], escaping)
    assert summary["critical_not_escaping"] == int(crit.sum() - escaping.sum())
    assert summary["verdicts"] == {v: int((arrays["verdict"][crit] == v).sum()) for v in VERDICTS}
    y = arrays["y"].ravel()
    assert_allclose(summary["trivial_loss"], 0.5 * np.mean((y - y.mean()) ** 2), rtol=1e-12)
    n_neg = np.array([spectrum_from_eigenvalues(e, meta["config"]["rtol"]).n_neg
                      if np.all(np.isfinite(e)) else -1 for e in arrays["eigenvalues"]])
    saddles = crit & ~escaping & (n_neg > 0)
    assert summary["saddles"]["not_escaping"] == int(saddles.sum())
    staying = saddles & (arrays["loss"] < 0.99 * summary["trivial_loss"]) & (
        arrays["verdict"] == "stays")
    assert summary["saddles"]["nontrivial_staying"] == int(staying.sum())
    assert set(summary["saddles"]["runs"]) <= set(np.flatnonzero(staying).tolist())
    # the ratios' correlation leaves out drifting, escaping and constant-fit points
    settled = crit & ~escaping & (arrays["verdict"] != "drifted")
    correlated = settled & (arrays["loss"] < 0.99 * summary["trivial_loss"])
    assert_array_equal(arrays["correlated"], correlated)
    assert summary["critical_correlated"] == int(correlated.sum())


def test_distinct_counts_symmetric_copies_once():
    eig = np.array([[-1.0, 2.0], [-1.0, 2.0 + 1e-12], [-1.0, 3.0], [-1.0, 2.0]])
    loss = np.array([0.5, 0.5 * (1 + 1e-12), 0.5, 0.7])
    # 0 and 1 agree to rounding (a permuted copy); 2 has another spectrum, 3 another loss
    assert minratio_summary.distinct(loss, eig).tolist() == [0, 2, 3]


@pytest.mark.parametrize("starts", ["trained", "embedded"])
def test_weight_decay_and_embedded_starts_end_to_end(starts, tmp_path):
    """--weight-decay: loss is the MSE part, loss_total L_λ, eigenvalues those of ∇²L_λ."""
    decay = 1e-3
    config = minratio.Config(runs=2, hidden=(3, 3), n_samples=30, switch_max=30,
                             n_directions=50, weight_decay=decay, starts=starts,
                             embed_hidden=(2, 2), continue_evals=10)
    arrays, meta = load_summary(minratio.run(config, out_dir=tmp_path, options=RunOptions(jobs=1)))
    assert meta["config"]["weight_decay"] == decay and meta["summary"]["weight_decay"] == decay
    net = MLP(config.sizes, config.activation)
    x, y = arrays["x"], arrays["y"]
    for run, theta in enumerate(arrays["theta"]):
        mse = net.loss(theta, x, y)
        assert_allclose(arrays["loss"][run], mse, rtol=1e-14)
        assert_allclose(arrays["loss_total"][run], mse + 0.5 * decay * theta @ theta, rtol=1e-14)
        g = mlp_gradient(net, theta, x, y) + decay * theta
        # atol: the run's ∇L is mlp_mse_gradient's, another summation order than autograd's; at the
        # rounding floor (‖∇L‖ ~ 1e-16) only the absolute difference (~1e-18) is meaningful
        assert_allclose(arrays["grad_norm"][run], np.linalg.norm(g), rtol=1e-12, atol=1e-15)
        eig = np.linalg.eigvalsh(mlp_hessian_autograd(net, theta, x, y)
                                 + decay * np.eye(net.n_params))
        assert_allclose(arrays["eigenvalues"][run], eig, rtol=0, atol=1e-11 * np.abs(eig).max())
    if starts == "embedded":  # (2, 2) → (3, 3): one split per hidden layer, logged
        assert all(len(r["embedding"]) == 2 for r in _run_infos(tmp_path))


def _run_infos(out):
    return [json.loads(p.read_text()) for p in sorted((out / "runs").glob("run_*.json"))]


def test_saved_numbers_are_recomputed_from_theta_alone(quick):
    """The contract's promise: sizes, activation and θ rebuild loss, gradient and spectrum."""
    arrays, meta = load_summary(quick[0])
    net = MLP(tuple(meta["summary"]["sizes"]), meta["summary"]["activation"], "mse")
    x, y = arrays["x"], arrays["y"]
    for run, theta in enumerate(arrays["theta"]):
        assert_allclose(net.loss(theta, x, y), arrays["loss"][run], rtol=1e-14)  # same operations
        g = mlp_gradient(net, theta, x, y)
        # another summation order (mlp_mse_gradient): equal to rounding, ~1e-18 at the floor
        assert_allclose(np.linalg.norm(g), arrays["grad_norm"][run], rtol=1e-12, atol=1e-15)
        # autograd's Hessian is an independent route; by Weyl |Δλ| ≤ ‖ΔH‖₂, and the two agree to
        # ~1e-13·‖H‖ (tests/engine/derivatives/test_curvature.py checks 1e-12 in Frobenius norm)
        eig = np.linalg.eigvalsh(mlp_hessian_autograd(net, theta, x, y))
        scale = np.abs(eig).max()
        assert_allclose(eig, arrays["eigenvalues"][run], rtol=0, atol=1e-11 * scale)
        spec = spectrum_from_eigenvalues(arrays["eigenvalues"][run], meta["config"]["rtol"])
        assert spec.minimal_ratio == arrays["minimal_ratio"][run]
        assert spec.index == arrays["index"][run]
        point = classify(theta, g, exact_hessian(net, theta, x, y), rtol=meta["config"]["rtol"])
        assert point.label == arrays["label"][run]


def test_figures_render_from_the_summary_files_alone(quick, tmp_path):
    copy = tmp_path / "copy"
    shutil.copytree(quick[0], copy)
    shutil.rmtree(copy / "runs")
    paths = render(copy, figures_dir=tmp_path / "figs")
    assert sorted(p.name for p in paths) == sorted(
        f"{name}.{ext}" for name in ("minratio", "minratio_traces") for ext in ("png", "pdf"))
    image = matplotlib.image.imread(tmp_path / "figs" / "minratio.png")
    assert image.ndim == 3 and image.shape[1] > 1000


def test_rerun_skips_finished_runs(quick, monkeypatch):
    results = quick[0]
    before, _ = load_summary(results)

    def refuse(*args, **kwargs):
        raise AssertionError("a finished run was computed again")

    monkeypatch.setattr(minratio, "search_unit", refuse)
    minratio.run(minratio.Config.quick(), out_dir=results, options=RunOptions(jobs=1))
    after, meta = load_summary(results)
    assert meta["summary"]["runs_computed"] == 0
    assert_array_equal(after["theta"], before["theta"])


def test_a_killed_run_is_recomputed_identically(quick, monkeypatch, tmp_path):
    """A kill between a run's .npz and its .json (or mid-write: writes are atomic) leaves a run
    without its .json; the rerun recomputes exactly that run, with the same numbers."""
    results = tmp_path / "results"
    shutil.copytree(quick[0], results)
    before, _ = load_summary(results)
    (results / "runs" / "run_002.json").unlink()
    (results / "runs" / "run_002.npz").write_bytes(b"half a file")
    computed = []
    one_run = minratio.search_unit

    def spy(config, run):
        computed.append(run)
        return one_run(config, run)

    monkeypatch.setattr(minratio, "search_unit", spy)
    minratio.run(minratio.Config.quick(), out_dir=results, options=RunOptions(jobs=1))
    assert computed == [2]
    after, _ = load_summary(results)
    for key in ("theta", "eigenvalues", "loss", "sampled_ratio", "trace"):
        assert_array_equal(after[key], before[key])
    assert not [p for p in (results / "runs").iterdir() if p.suffix == ".tmp"]


def test_a_nonfinite_run_is_recorded_and_the_others_finish(monkeypatch, tmp_path):
    train_until = minratio.train_until

    def poisoned(*args, **kwargs):
        theta, steps = train_until(*args, **kwargs)
        return (np.full_like(theta, np.nan) if len(train_calls) == 1 else theta), steps

    train_calls = []
    monkeypatch.setattr(minratio, "train_until",
                        lambda *a, **k: train_calls.append(1) or poisoned(*a, **k))
    config = minratio.Config(runs=3, hidden=(3, 3), n_samples=30, switch_max=20,
                             n_directions=50)
    out = minratio.run(config, out_dir=tmp_path / "r", options=RunOptions(jobs=1))
    arrays, meta = load_summary(out)
    assert list(arrays["label"]).count("not-converged") >= 1 and np.isnan(arrays["loss"][0])
    assert np.isnan(arrays["eigenvalues"][0]).all()
    assert np.all(np.isfinite(arrays["loss"][1:]))
    assert meta["summary"]["runs"][0]["finder"]["status"] == "diverged"
    assert json.loads((out / "summary.json").read_text())["summary"]["counts"]
    render(out, figures_dir=tmp_path / "f")


@pytest.mark.parametrize("activation", ["tanh", "sigmoid", "softplus", "relu"])
def test_the_numpy_gradient_is_autograds_to_rounding(activation):
    """mlp_mse_gradient (the searches' ∇L) against engine.mlp_gradient, with units in their
    linear range and saturated (θ ×30: tanh' down to ~1e-20, taken in closed form from z by
    both)."""
    data = function_dataset("sinc", n_samples=40)
    net = MLP((1, 5, 4, 1), activation, "mse")
    fast = mlp_mse_gradient(net, data.x_train, data.y_train)
    for scale in (1.0, 30.0):
        theta = scale * net.init(np.random.default_rng(1))
        g = mlp_gradient(net, theta, data.x_train, data.y_train)
        assert_allclose(fast(theta), g, rtol=0, atol=1e-14 * np.abs(g).max())


def test_the_fast_gradient_leaves_the_search_unchanged():
    """The speed-up changes rounding, not results: from the same weight-decay start, the search
    on the NumPy gradient and on autograd's ends at the same point, label and index."""
    config = minratio.Config(hidden=(4, 4), n_samples=40, weight_decay=1e-5)
    data = function_dataset("sinc", n_samples=config.n_samples)
    x, y = data.x_train, data.y_train
    net = MLP(config.sizes, config.activation, "mse")
    _, gradient, hessian_fn = minratio.objective_fns(net, x, y, config.weight_decay)

    def reference(theta):
        return mlp_gradient(net, theta, x, y) + config.weight_decay * theta

    theta0 = minratio.train_until(net, net.init(np.random.default_rng(3)), data, "trf", 100,
                                  None, weight_decay=config.weight_decay)[0]
    ends = []
    for fn in (gradient, reference):
        found = find_critical(theta0, fn, hessian_fn, **finder_options(config))
        point = classify(found.theta, fn(found.theta), hessian_fn(found.theta),
                         tau_max=tau_max(config))
        ends.append((found.theta, point.label, point.spectrum.n_neg))
    assert ends[0][1:] == ends[1][1:] and ends[0][1] == "critical"
    assert_allclose(ends[0][0], ends[1][0], rtol=0, atol=1e-6 * np.linalg.norm(ends[1][0]))


@pytest.fixture
def finder_options_seen(monkeypatch):
    """The options of every find_critical call minratio makes, in order (the calls still run)."""
    seen = []

    def spy(theta, *args, **opts):
        seen.append(opts)
        return find_critical(theta, *args, **opts)

    monkeypatch.setattr(minratio, "find_critical", spy)
    return seen


def test_stall_window_reaches_every_stage_of_the_finder(finder_options_seen):
    seen = finder_options_seen
    config = minratio.Config.quick()
    minratio.search_unit(config, 0)
    minratio.search_unit(minratio.Config(**{**vars(config), "stall_window": 7}), 0)
    assert seen[0] == {"method": "lm+newton", "rtol": config.rtol}
    assert seen[1] == {"method": "lm+newton", "rtol": config.rtol, "window": 7}


def test_with_a_weight_decay_the_cut_resolves_the_decay(finder_options_seen):
    # the classification cuts at τ ≤ λ/10: every direction curved by the decay alone counts as
    # curved, whatever ‖H‖₂ (rtol·‖H‖₂ alone sat on λ); the search resolves the whole spectrum
    # (rtol 0: τ = n·ε·‖H‖₂), down to the eigenvalues of merging units, below λ/10
    seen = finder_options_seen
    config = minratio.Config(**{**vars(minratio.Config.quick()), "weight_decay": 1e-3})
    arrays, info = minratio.search_unit(config, 1)
    assert seen[0] == {"method": "lm+newton", "rtol": 0.0}
    assert info["tau"] <= 1e-4 and info["tau"] == max(
        arrays["eigenvalues"].size * np.finfo(float).eps * np.abs(arrays["eigenvalues"]).max(),
        min(config.rtol * np.abs(arrays["eigenvalues"]).max(), 1e-4))


@pytest.mark.parametrize("finder, trainer", [("gradnorm", "lbfgs"), ("newton", "adam"),
                                             ("trf", "lm"), ("lm", "lm")])
def test_every_finder_and_trainer_runs_end_to_end(finder, trainer, tmp_path):
    config = minratio.Config(runs=2, hidden=(3, 3), n_samples=30, switch_max=30,
                             n_directions=50, finder=finder, trainer=trainer)
    arrays, meta = load_summary(minratio.run(config, out_dir=tmp_path, options=RunOptions(jobs=1)))
    assert set(arrays["label"]) <= set(LABELS)
    assert all(r["finder"]["method"] == finder for r in meta["summary"]["runs"])
    assert np.all(np.isfinite(arrays["loss"]))


@pytest.mark.parametrize("flags, expected", [
    (["--finder", "newtn"], "--finder: invalid choice: 'newtn' (choose from 'lm+newton', "
                            "'lm', 'trf', 'newton', 'gradnorm')"),
    (["--trainer", "sgd"], "--trainer: invalid choice: 'sgd'"),
    (["--switch-min", "50", "--switch-max", "10"], "--switch-max 10: give an integer ≥ 50"),
    (["--hidden", "10", "10", "--trainer", "lm"],
     "--trainer lm needs --n-samples ≥ n_params = 141"),
    (["--radii", "0.1", "-1"], "--radii"),
    (["--grad-sq-tol", "0"], "--grad-sq-tol 0.0: give a finite number in (0, inf)"),
    (["--kappa-tol", "2"], "--kappa-tol 2.0: give a finite number in (0, 1]"),
    (["--seed", "-1"], "--seed -1: give an integer ≥ 0"),
    (["--n-samples", "1", "--trainer", "lbfgs"], "--n-samples 1: give an integer ≥ 2"),
    (["--weight-decay", "-1"], "--weight-decay -1.0: give a finite number in [0, inf)"),
    (["--embed-hidden", "5", "5"], "--embed-hidden 5 5: give one width per hidden layer"),
    (["--stall-window", "-3"], "--stall-window -3: give an integer ≥ 0"),
])
def test_bad_flags_are_one_line_errors(flags, expected, tmp_path, one_line_error):
    one_line_error(lambda: _main([*flags, "--quick", "--out", str(tmp_path / "r"), "--figures",
                                  str(tmp_path)]), "experiments.minratio", expected)
    assert not (tmp_path / "r").exists()


def test_reducible_end_points_are_recounted_from_the_weights(quick):
    arrays, meta = load_summary(quick[0])
    config = minratio.Config.quick()
    units = [sum(effective_widths(config.sizes, t, config.activation)) for t in arrays["theta"]]
    assert_array_equal(arrays["effective_units"], units)
    assert_array_equal(arrays["reducible"], np.array(units) < sum(config.hidden))
    honest = (arrays["label"] == "critical") & ~arrays["escaping"]
    assert meta["summary"]["critical_reducible"] == int((honest & arrays["reducible"]).sum())


def test_eigenvalues_near_the_cut_are_recounted(quick):
    arrays, meta = load_summary(quick[0])
    size = np.abs(arrays["eigenvalues"])
    tau = arrays["tau"][:, None]
    assert_array_equal(arrays["n_near_tau"], ((size >= tau / 3) & (size <= 3 * tau)).sum(axis=1))
    crit = arrays["label"] == "critical"
    if crit.any():
        assert meta["summary"]["near_tau"]["max"] == arrays["n_near_tau"][crit].max()


def test_figures_are_readable_on_paper(quick, tmp_path, monkeypatch):
    # issue 22.4: no literal '_'/'^', no overlapping texts, no legend over the data, ≥ 2
    # labels on every log axis — in every figure, as saved at its print size
    from figurefaults import rendered_faults

    import plots.minratio

    faults = rendered_faults(plots.minratio, quick[0], tmp_path, monkeypatch)
    assert not any(faults.values()), faults
