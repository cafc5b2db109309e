"""experiments.minratio.check: its own loss, Hessian and grouping against the engine's and by
hand; on the --quick preset (with and without a weight decay) every stored number agrees and it
exits 0; a tampered eigenvalue row or label is exit 1 naming the run; bad input is one line."""
import shutil

import numpy as np
import pytest
from conftest import quick_results, with_arrays
from numpy.testing import assert_allclose

from engine import MLP, mlp_gradient, mlp_hessian_autograd
from engine.io.results import load_summary
from experiments.harness.parallel import RunOptions
from experiments.minratio import check
from experiments.minratio import experiment as minratio
from experiments.minratio import recompute as numerics

PROG = "experiments.minratio.check"


@pytest.fixture(scope="module")
def quick(quick_minratio):
    """The --quick preset (--jobs 1), run once for the session (conftest's, the plots tests'):
    read here, or copied to be tampered with."""
    return quick_minratio


quick_wd = quick_results("minratio", "--jobs", 1, "--weight-decay", 1e-5)


def _points(folder):
    """(arrays, meta, points, bands) of a results folder, recomputed."""
    arrays, meta = check.load(folder)
    config, summary = meta["config"], meta["summary"]
    fns = numerics.objective(summary["sizes"], summary["activation"], arrays["x"], arrays["y"],
                             config["weight_decay"])
    points = [numerics.recompute(theta, fns, rtol=config["rtol"], decay=config["weight_decay"])
              for theta in arrays["theta"]]
    bands = [numerics.band(p, e, config)
             for p, e in zip(points, arrays["eigenvalues"], strict=True)]
    return arrays, meta, points, bands


def _tampered(folder, tmp_path, **changes):
    """A copy of folder whose summary.npz has the arrays in `changes` replaced."""
    return with_arrays(folder, tmp_path / "tampered", lambda arrays: changes)


# ----------------------------------------------------------------------------- the recomputation
@pytest.mark.parametrize("activation", ["tanh", "sigmoid", "softplus", "relu"])
def test_own_loss_gradient_and_hessian_match_the_engine(activation, rng):
    sizes, decay = (1, 3, 2, 1), 1e-3
    net = MLP(sizes, activation)
    theta, x = 2.0 * net.init(rng), np.linspace(-1.0, 1.0, 7)[:, None]
    y = np.sinc(5.0 * x)
    fns = numerics.objective(sizes, activation, x, y, decay)
    # two float64 routes through the same sums: agreement to a few ulps of the terms, and within
    # the rounding floor the check allows beyond its relative tolerance
    loss = net.loss(theta, x, y)
    assert_allclose(fns.loss(theta), loss, rtol=1e-13)
    assert abs(fns.loss(theta) - loss) <= 1e-9 * loss + fns.loss_floor(theta)
    assert 0 < fns.loss_floor(theta) < 1e-12
    assert_allclose(fns.total(theta), loss + 0.5 * decay * theta @ theta, rtol=1e-13)
    H = numerics.hessian(fns.total, theta)
    reference = mlp_hessian_autograd(net, theta, x, y) + decay * np.eye(net.n_params)
    assert_allclose(H, reference, rtol=0, atol=1e-13 * np.abs(reference).max())
    point = numerics.recompute(theta, fns, rtol=1e-6)
    g = mlp_gradient(net, theta, x, y) + decay * theta
    assert_allclose(point.grad_sq, g @ g, rtol=1e-12)
    assert_allclose(point.eigenvalues, np.linalg.eigvalsh(reference), rtol=0,
                    atol=1e-13 * point.h_norm)
    assert point.n_neg() == int(np.sum(point.eigenvalues < -1e-6 * point.h_norm))


def test_saturated_units_keep_the_hessian_finite():
    # |z| ≈ 1e3: cosh overflows in autograd's own tanh derivative; e^{−|z|} does not
    sizes = (1, 2, 1)
    x, y = np.array([[1.0], [-1.0]]), np.array([[0.5], [0.1]])
    theta = np.array([1e3, -1e3, 0.0, 0.0, 1.0, 1.0, 0.0])
    total = numerics.objective(sizes, "tanh", x, y, 0.0).total
    assert np.all(np.isfinite(numerics.hessian(total, theta)))


def test_distinct_joins_chains_of_equal_points():
    eig = np.array([[-1.0, 2.0], [-1.0, 2.0 + 1e-12], [-1.0, 3.0], [-1.0, 2.0], [-1.0, 3.0]])
    loss = np.array([0.5, 0.5 * (1 + 1e-12), 0.5, 0.7, 0.5 * (1 + 5e-8)])
    # 0 ~ 1 (a permuted copy), 2 ~ 4 (loss within 1e-7); 3 has another loss
    assert numerics.distinct(loss, eig).tolist() == [0, 2, 3]
    assert numerics.distinct(np.zeros(0), np.zeros((0, 2))).size == 0


def test_headline_counts_saddles_by_hand():
    """Five critical points: 0 and 1 one saddle (a copy), 2 another (index 3, a decade lower
    in loss), 3 a saddle at the trivial loss, 4 escaping; the rule is met by all."""
    spectra = [[-2.0, 1.0, 5.0], [-2.0, 1.0, 5.0], [-3.0, -2.0, -1.0], [-1.0, 1.0, 5.0],
               [-1.0, 2.0, 5.0]]
    mse = [1e-3, 1e-3 * (1 + 1e-12), 1e-4, 0.5, 1e-3]
    points = [numerics.Point(m, m, 0.0, 0.0, np.array(e), np.zeros(3), 5.0, 5e-6, 1.0)
              for m, e in zip(mse, spectra, strict=True)]
    bands = [numerics.Band(0.0, (p.n_neg(),) * 2, (0.0, 0.0), (True, True)) for p in points]
    arrays = {"y": np.array([[-1.0], [1.0]]),  # the constant fit's ½Var(y) = 0.5: run 3 is trivial
              "verdict": np.array(["stays"] * 4 + ["escaping"]),
              "escaping": np.array([False] * 4 + [True])}
    meta = {"config": {"grad_sq_tol": 1e-10, "newton_tol": 1e-6}, "summary": {"wall_time": 3.0}}
    head = check.headline(points, bands, arrays, meta)
    assert (head["critical"], head["not_escaping"]) == (5, 4)
    assert head["staying"].tolist() == [0, 1, 2] and head["distinct"].tolist() == [0, 2]
    assert head["index_range"] == (1, 3)
    assert_allclose(head["decades"], 1.0)
    assert head["wall_time"] == 3.0 and head["borderline"] == []


# ----------------------------------------------------------------------------- on saved results
@pytest.mark.slow
@pytest.mark.parametrize("which", ["quick", "quick_wd"])
def test_recomputed_numbers_agree_and_exit_0(which, request, capsys):
    folder = request.getfixturevalue(which)[0]
    arrays, meta, points, bands = _points(folder)
    before = sorted((p, p.stat().st_mtime_ns) for p in folder.rglob("*"))
    # the tolerances of minratio_recompute's docstring, here as plain asserts on the arrays
    assert_allclose([p.loss for p in points], arrays["loss"], rtol=1e-9)
    assert_allclose([p.total for p in points], arrays["loss_total"], rtol=1e-9)
    assert_allclose(np.sqrt([p.grad_sq for p in points]), np.sqrt(arrays["grad_sq"]),
                    rtol=1e-6, atol=1e-11)
    for point, stored in zip(points, arrays["eigenvalues"], strict=True):
        assert_allclose(point.eigenvalues, stored, rtol=0, atol=1e-8 * point.h_norm)
    assert [p.n_neg() for p in points] == arrays["n_neg"].tolist()
    tols = meta["config"]["grad_sq_tol"], meta["config"]["newton_tol"]
    assert [p.critical(*tols) for p in points] == (arrays["label"] == "critical").tolist()
    assert not any(b.borderline for b in bands)
    assert check.main([str(folder)]) is None
    out = capsys.readouterr().out
    assert f"{folder}: {len(points)} runs of 1-4-4-1 tanh" in out
    assert "quantity" in out and "recomputed" in out and "target" in out and " NO" not in out
    assert sorted((p, p.stat().st_mtime_ns) for p in folder.rglob("*")) == before  # reads only


@pytest.mark.slow
def test_a_headline_count_is_the_hand_count(quick):
    arrays, meta, points, bands = _points(quick[0])
    head = check.headline(points, bands, arrays, meta)
    critical = arrays["label"] == "critical"
    assert head["runs"] == len(arrays["theta"])
    assert head["critical"] == int(critical.sum())
    assert head["not_escaping"] == int((critical & (arrays["verdict"] != "escaping")).sum())
    assert head["wall_time"] == meta["summary"]["wall_time"]


@pytest.mark.slow
def test_a_nonfinite_run_agrees_when_both_sides_are_nan(monkeypatch, tmp_path, capsys):
    """A run whose θ is nan (recorded by the experiment, never dropped) has nan loss and
    spectrum on both sides: no disagreement, and it counts nowhere."""
    train_until, calls = minratio.train_until, []

    def poisoned(*args, **kwargs):
        calls.append(1)
        theta, steps = train_until(*args, **kwargs)
        return (np.full_like(theta, np.nan) if len(calls) == 1 else theta), steps

    monkeypatch.setattr(minratio, "train_until", poisoned)
    config = minratio.Config(runs=2, hidden=(3, 3), n_samples=30, switch_max=20,
                             n_directions=50, continue_evals=10)
    out = minratio.run(config, out_dir=tmp_path / "r", options=RunOptions(jobs=1))
    arrays, meta, points, bands = _points(out)
    assert np.isnan(arrays["theta"][0]).all() and np.isnan(points[0].loss)
    assert points[0].n_neg() == -1 and not bands[0].critical[1]
    assert check.main([str(out)]) is None
    assert " NO" not in capsys.readouterr().out


@pytest.mark.slow
def test_a_tampered_eigenvalue_row_is_exit_1_naming_the_run(quick, tmp_path, capsys):
    arrays, _ = load_summary(quick[0])
    run = 1
    eigenvalues = arrays["eigenvalues"].copy()
    eigenvalues[run] += 1e-6 * np.abs(eigenvalues[run]).max()  # ≫ 1e-8·‖H‖₂
    folder = _tampered(quick[0], tmp_path, eigenvalues=eigenvalues)
    with pytest.raises(SystemExit) as exit_info:
        check.main([str(quick[0]), str(folder)])
    captured = capsys.readouterr()
    assert exit_info.value.code == 1
    assert captured.err.count("\n") == 1, captured.err
    assert captured.err.startswith(f"{PROG}: inconsistent: {folder} run {run}: eigenvalues of")
    assert captured.out.count("quantity") == 2  # both folders' tables are printed


@pytest.mark.slow
def test_a_tampered_label_is_exit_1_naming_the_run(quick, tmp_path, capsys):
    arrays, _ = load_summary(quick[0])
    run = int(np.argmin(arrays["grad_sq"]))  # far below grad_sq_tol: surely critical
    assert arrays["grad_sq"][run] < 1e-20 and arrays["label"][run] == "critical"
    label = arrays["label"].copy()
    label[run] = "not-converged"
    folder = _tampered(quick[0], tmp_path, label=label)
    with pytest.raises(SystemExit) as exit_info:
        check.main([str(folder)])
    err = capsys.readouterr().err
    assert exit_info.value.code == 1 and err.count("\n") == 1
    assert f"{folder} run {run}: critical rule vs label" in err


# ----------------------------------------------------------------------------- bad input
def test_a_missing_folder_is_one_line_exit_2(tmp_path, one_line_error, capsys):
    missing = tmp_path / "nope"
    line = one_line_error(lambda: check.main([str(missing)]), PROG, f"{missing} does not exist")
    assert "python -m experiments.minratio --out" in line  # what to do
    assert capsys.readouterr().out == "" and not any(tmp_path.iterdir())


def test_a_folder_without_a_summary_or_a_damaged_one_is_one_line_exit_2(tmp_path,
                                                                       one_line_error):
    empty, damaged = tmp_path / "empty", tmp_path / "damaged"
    empty.mkdir()
    damaged.mkdir()
    (damaged / "summary.npz").write_bytes(b"not a zip")
    (damaged / "summary.json").write_text('{"experiment": "minratio", "config": {}, '
                                          '"summary": {}}')
    one_line_error(lambda: check.main([str(empty)]), PROG, "holds no finished results")
    one_line_error(lambda: check.main([str(damaged)]), PROG, "cannot be read as .npz")
    assert sorted(p.name for p in tmp_path.rglob("*")) == [
        "damaged", "empty", "summary.json", "summary.npz"]


@pytest.mark.parametrize("sizes", [[], [1], 5, ["a", 1]])
def test_sizes_that_are_no_network_are_one_line_exit_2(sizes, quick, tmp_path, one_line_error):
    """sizes [] gave 0 parameters and then an IndexError at sizes[0] (exit 1)."""
    import json

    folder = tmp_path / "r"
    shutil.copytree(quick[0], folder)
    meta = json.loads((folder / "summary.json").read_text())
    meta["summary"]["sizes"] = sizes
    (folder / "summary.json").write_text(json.dumps(meta))
    one_line_error(lambda: check.main([str(folder)]), PROG, f"{folder}/summary.json: sizes")


@pytest.mark.parametrize("key, change", [
    ("loss", lambda loss: loss.astype(str)),  # arithmetic on strings: a TypeError
    ("escaping", lambda escaping: escaping.astype(float)),  # `~escaping`: a TypeError
    ("label", lambda label: np.zeros(label.shape)),  # compared with names: never critical
    ("theta", lambda theta: theta[0, 0])])  # len() of a 0-d array: a TypeError
def test_an_array_of_a_foreign_dtype_or_rank_is_one_line_exit_2(key, change, quick, tmp_path,
                                                                one_line_error):
    arrays, _ = load_summary(quick[0])
    folder = _tampered(quick[0], tmp_path, **{key: change(arrays[key])})
    line = one_line_error(lambda: check.main([str(folder)]), PROG, f"{folder}/summary.npz")
    assert f"{key!r} of" in line
