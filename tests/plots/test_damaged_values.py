"""Lengths and values a reader relies on: a real quick folder damaged in one of them is bad input
(one line, exit 2, naming the file and the key), not an IndexError, ValueError or
ZeroDivisionError while drawing (exit 1) — or, where the value can occur in results the
experiment writes, it draws. Each case edits a copy of the reader's quick results in exactly one
way (with what must change along, so that nothing else is damaged): a list indexed at a fixed
place or unpacked (Len), an array indexed so or reduced (a shape, AtLeast), arrays drawn against
each other (by_arrays), a saved value divided by, parsed, converted by int() or indexed by
(Check). Every case was an internal error (exit 1) before these checks."""
import json
import shutil

import numpy as np
import pytest
from conftest import cli
from readerresults import reader_results

globals().update(reader_results())  # census, deepshallow, …: each reader's quick results


def meta(*path, value):
    """An edit of summary.json's meta: meta[path] = value."""
    def edit(data):
        for key in path[:-1]:
            data = data[key]
        data[path[-1]] = value
    return "summary.json", edit


def array(name, change):
    """An edit of summary.npz: arrays[name] = change(arrays[name])."""
    def edit(arrays):
        arrays[name] = change(arrays[name])
    return "summary.npz", edit


def first(n):
    return lambda a: a[:n]


_POWER = {"alpha0": 1.0, "loss_c": 0.01, "exponent": 1.5, "low": 1.0, "high": 2.0, "n_boot": 9,
          "contains": True}
_FIT = ("summary", "index_loss_fit")
# minratio's quick critical point escapes: made settled (the fit is made of settled ones)
_SETTLE = [array("escaping", np.zeros_like), array("verdict", lambda v: np.full(v.shape, "stays"))]
_RISE = ("summary", "tasks", "sinc", "facts", "full", "rise")


def _no_seed(arrays):
    """deepshallow's curves of no seed: each function's and depth's, each task's and depth's."""
    for key, values in arrays.items():
        axis = 2 if key in ("function_iters", "function_loss", "function_n_checks",
                            "function_prediction", "function_test_loss") else (
            1 if key.startswith(("task_", "checkerboard_")) else None)
        if axis is not None:
            arrays[key] = np.take(values, [], axis=axis)


# each case: the reader, its edits, the file and the words its one line must name
REFUSED = {
    "generalization interp_pair of three": ("generalization", [meta(
        "config", "interp_pair", value=[16, 64, 256])], "summary.json", "config.interp_pair"),
    "generalization no widths": ("generalization", [meta("config", "widths", value=[])],
                                 "summary.json", "config.widths"),
    "generalization width curves of no seed": ("generalization", [array(
        "width_test_acc", lambda a: a[:, :0])], "summary.npz", "'width_test_acc'"),
    "generalization random curve short": ("generalization", [array("random_test_loss", first(
        2))], "summary.npz", "'random_test_loss'"),
    "generalization batch measure short": ("generalization", [array("batch_lambda_max", first(
        2))], "summary.npz", "'batch_lambda_max'"),
    # on a log axis with fixed ticks: matplotlib's minor locator raised on 0
    "generalization batch size 0": ("generalization", [array("batch_sizes", np.zeros_like)],
                                    "summary.npz", "'batch_sizes'"),
    "generalization interpolation short": ("generalization", [array("interp_lr_test_acc", first(
        3))], "summary.npz", "'interp_lr_test_acc'"),
    "gradnorm p not a number": ("gradnorm", [meta("summary", "p", value="two")], "summary.json",
                                "summary.p"),
    "gradnorm no epoch start": ("gradnorm", [array("dnn_epoch_start", first(0))], "summary.npz",
                                "'dnn_epoch_start'"),
    "gradnorm minibatch series not n_steps": ("gradnorm", [array("dnn_step_grad_norm", first(
        5))], "summary.npz", "'dnn_step_grad_norm'"),
    "gradnorm whole-data series short": ("gradnorm", [array("sinc_full_loss_smooth", first(
        5))], "summary.npz", "'sinc_full_loss_smooth'"),
    "minratio no band": ("minratio", [meta("config", "band", value=[])], "summary.json",
                         "config.band"),
    "minratio power without a settled point": ("minratio", [meta(*_FIT, "power", value=_POWER)],
                                               "summary.json", "index_loss_fit.power"),
    "minratio power at loss_c 0": ("minratio", [*_SETTLE, meta(*_FIT, "power", value=_POWER | {
        "loss_c": 0.0})], "summary.json", "index_loss_fit.power.loss_c"),
    "minratio trace starts short": ("minratio", [array("trace_start", first(4))], "summary.npz",
                                    "'trace_start'"),
    "minratio trace starts not positions": ("minratio", [array("trace_start", lambda s: s * 1.0)],
                                            "summary.npz", "'trace_start'"),
    "minratio sampled ratio of fewer radii": ("minratio", [array(
        "sampled_low", lambda a: a[:, :2])], "summary.npz", "'sampled_low'"),
    "minratio run entries short": ("minratio", [array("resolved_ratio", first(3))],
                                   "summary.npz", "'resolved_ratio'"),
    "spectrum tau 0": ("spectrum", [meta("summary", "sinc", "counts", "H", "tau", value=0.0)],
                       "summary.json", "sinc.counts.H.tau"),
    # its decades of ticks run from log10 τ: an infinite τ asked numpy for an infinite range
    "spectrum tau infinite": ("spectrum", [meta("summary", "sinc", "counts", "H", "tau",
                                                value=float("inf"))], "summary.json",
                              "sinc.counts.H.tau"),
    "spectrum no eigenvalues": ("spectrum", [array("sinc_eigenvalues_H", first(0))],
                                "summary.npz", "'sinc_eigenvalues_H'"),
    "spectrum eigenvalues all zero": ("spectrum", [array(f"sinc_eigenvalues_{m}", np.zeros_like)
                                                  for m in "HG"], "summary.npz",
                                      "'sinc_eigenvalues_H'"),
    "spectrum eigenvalue nan": ("spectrum", [array("sinc_eigenvalues_H", lambda a: np.where(
        a == a.max(), np.nan, a))], "summary.npz", "'sinc_eigenvalues_H'"),
    "spectrum eigenvalue of G infinite": ("spectrum", [array("sinc_eigenvalues_G", lambda a: (
        np.where(a == a.max(), np.inf, a)))], "summary.npz", "'sinc_eigenvalues_G'"),
    "spectrum no density grid": ("spectrum", [array("dnn_density_grid", first(0)), array(
        "dnn_density", first(0))], "summary.npz", "'dnn_density_grid'"),
    # its peak sets the log axis's limits: NaN ones raised
    "spectrum density nan": ("spectrum", [array("dnn_density", lambda d: np.where(
        d == d.max(), np.nan, d))], "summary.npz", "'dnn_density'"),
    "spectrum density short": ("spectrum", [array("dnn_density", first(10))], "summary.npz",
                               "'dnn_density'"),
    **{f"surface {key} of one": ("surface", [array(f"sinc_plane/{key}", first(1))],
                                 "summary.npz", f"'sinc_plane/{key}'")
       for key in ("lam", "slopes", "pca_ratio")},
    # L(θ*) under the plane's cuts: an infinite one made their axis limits infinite
    "surface plane loss infinite": ("surface", [array("sinc_plane/loss0", lambda v: np.full_like(
        v, np.inf))], "summary.npz", "'sinc_plane/loss0'"),
    # |Hᵢᵢ| sets the limits of the curves' log colour scale: a NaN made LogNorm raise
    "surface perturbation curvature nan": ("surface", [array(
        "sinc_perturb/H_diag", lambda h: np.where(h == h.max(), np.nan, h))], "summary.npz",
        "'sinc_perturb/H_diag'"),
    "surface pca path empty": ("surface", [array("dnn_plane/pca_coords", first(0))],
                               "summary.npz", "'dnn_plane/pca_coords'"),
    "surface training path no epoch": ("surface", [array("sinc_train/epochs", first(0))],
                                       "summary.npz", "'sinc_train/epochs'"),
    "surface training path epochs not integers": ("surface", [array(
        "dnn_train/epochs", lambda e: np.where(e == e.min(), np.nan, e))], "summary.npz",
        "'dnn_train/epochs'"),
    "surface plane axis of one point": ("surface", [array("dnn_plane/random_a", first(1)), array(
        "dnn_plane/random_Z", lambda z: z[:, :1])], "summary.npz", "'dnn_plane/random_a'"),
    "surface plane grid not its axes": ("surface", [array("sinc_plane/hessian_Z", lambda z: z[
        :, :5])], "summary.npz", "'sinc_plane/hessian_Z'"),
    "surface line loss short": ("surface", [array("dnn_line/test_loss", first(4))],
                                "summary.npz", "'dnn_line/test_loss'"),
    "surface perturbed net of one width": ("surface", [meta(
        "summary", "sinc_perturb", "sizes", value=[13])], "summary.json",
        "summary.sinc_perturb.sizes"),
    "surface perturbation of fewer parameters": ("surface", [array("sinc_perturb/H_diag", first(
        9))], "summary.npz", "'sinc_perturb/H_diag'"),
    "surface perturbation no delta": ("surface", [array("sinc_perturb/deltas", first(0)), array(
        "sinc_perturb/curves", lambda c: c[:, :0])], "summary.npz", "'sinc_perturb/deltas'"),
    "surface t-SNE without the path": ("surface", [array("tiny_tsne/kind", lambda k: np.full_like(
        k, 2))], "summary.npz", "'tiny_tsne/kind'"),
    # the log of the losses colours the points: LogNorm raised on a loss of 0
    "surface t-SNE loss of 0": ("surface", [array("tiny_tsne/loss", lambda loss: np.where(
        loss == loss.min(), 0.0, loss))], "summary.npz", "'tiny_tsne/loss'"),
    "surface t-SNE loss short": ("surface", [array("tiny_tsne/loss", first(10))], "summary.npz",
                                 "'tiny_tsne/loss'"),
    "trajectory explained variance of one": ("trajectory", [array(
        "whole_explained_variance", first(1))], "summary.npz", "'whole_explained_variance'"),
    "trajectory motion variance of one": ("trajectory", [array(
        "layer1_motion_explained_variance", first(1))], "summary.npz",
        "'layer1_motion_explained_variance'"),
    "trajectory no sizes": ("trajectory", [meta("summary", "sizes", value=[])], "summary.json",
                            "summary.sizes"),
    "trajectory coordinates short": ("trajectory", [array("whole_coords", first(5))],
                                     "summary.npz", "'whole_coords'"),
    "trajectory run numbers not integers": ("trajectory", [array("run", lambda r: np.where(
        r == r.max(), np.nan, r))], "summary.npz", "'run'"),
    "trajectory values short": ("trajectory", [array("train_acc", first(5))], "summary.npz",
                                "'train_acc'"),
    "deepshallow no seed": ("deepshallow", [meta("config", "seeds", value=0), (
        "summary.npz", _no_seed)], "summary.json", "config.seeds"),
    "deepshallow checks beyond the curve": ("deepshallow", [array(
        "function_n_checks", lambda n: n + 1)], "summary.npz", "'function_n_checks'"),
    "deepshallow checks not counts": ("deepshallow", [array(
        "checkerboard_n_checks", lambda n: n / 2)], "summary.npz", "'checkerboard_n_checks'"),
    # every search labelled outside the classification's classes: no point in any panel, and
    # matplotlib's log axis raised on the empty panels
    **{f"{name} label of no class": (name, [array("label", lambda label: np.full(
        label.shape, "minimum"))], "summary.npz", "'label'") for name in ("census", "minratio")},
    "census entries of another number": ("census", [array("error", lambda a: np.tile(a, 2))],
                                         "summary.npz", "'error'"),
}


def _damaged(results, tmp_path, edits):
    """A copy of the results folder with each edit made to its file."""
    folder = tmp_path / "r"
    shutil.copytree(results, folder)
    for file in {file for file, _ in edits}:
        changes = [edit for name, edit in edits if name == file]
        if file == "summary.json":
            data = json.loads((folder / file).read_text())
            for edit in changes:
                edit(data)
            (folder / file).write_text(json.dumps(data))
        else:
            with np.load(folder / file) as saved:
                data = dict(saved)
            for edit in changes:
                edit(data)
            np.savez(folder / file, **data)
    return folder


@pytest.mark.parametrize("case", list(REFUSED))
def test_a_damaged_length_or_value_is_one_line(case, request, tmp_path, one_line_error, capsys):
    name, edits, file, key = REFUSED[case]
    folder = _damaged(request.getfixturevalue(name)[0], tmp_path, edits)
    capsys.readouterr()  # the experiment's progress, when this test ran it
    figures = tmp_path / "f"
    line = one_line_error(lambda: cli(f"plots.{name}")([folder, "--figures", figures]),
                          f"plots.{name}", str(folder / file))
    assert key in line, line
    assert not figures.exists()


def test_a_rise_from_a_loss_of_zero_draws(gradnorm, tmp_path):
    """A smoothed cross-entropy can reach exactly 0 and stay there (0 ≤ (1 − drop)·0 counts as
    falling): the rise found there is drawn without the loss's relative drop, which would divide
    by 0."""
    folder = _damaged(gradnorm[0], tmp_path, [meta(*_RISE, "loss_from", value=0.0),
                                              meta(*_RISE, "loss_to", value=0.0)])
    cli("plots.gradnorm")([folder, "--figures", tmp_path / "f"])
    assert (tmp_path / "f" / "gradnorm_sinc.png").exists()


def test_a_run_whose_every_search_diverged_draws(minratio, tmp_path):
    """Every search not converged, with non-finite losses and ratios (the classification's
    non_finite="not-converged"): results the experiment can write. The panels against the loss
    have no positive value for their log axis; they are drawn linear and say so (matplotlib's log
    locator raised: an internal error)."""
    def nan(values):
        return np.full(values.shape, np.nan)

    folder = _damaged(minratio[0], tmp_path, [
        array("label", lambda a: np.full(a.shape, "not-converged")),
        array("flat", lambda a: np.zeros(a.shape, bool)),
        *[array(key, nan) for key in ("loss", "minimal_ratio", "resolved_ratio", "index",
                                      "minimal_ratio_band")],
        meta("summary", "index_loss_fit", value=None)])
    cli("plots.minratio")([folder, "--figures", tmp_path / "f"])
    assert (tmp_path / "f" / "minratio.png").exists()


@pytest.mark.filterwarnings("ignore:Data has no positive values")  # the case itself
def test_a_log_axis_with_nothing_positive_is_drawn_linear_and_says_so():
    import matplotlib.pyplot as plt

    from plots.common import linear_where_nothing_is_positive

    fig, (empty, ticked, shown) = plt.subplots(1, 3)
    empty.scatter([np.nan], [1.0])  # nothing positive and finite (NaN: every search diverged)
    ticked.plot([0, 0], [1.0, 2.0])
    shown.scatter([1e-3, 1.0], [1.0, 2.0])
    for ax in (empty, ticked, shown):
        ax.get_xlim()  # the linear view, fixed before the scale changes (as minratio's panels)
        ax.set_xscale("log")
        ax.set_xlabel("loss (log scale)")
    ticked.set_xticks([0])  # fixed major ticks: the minor locator raises
    assert linear_where_nothing_is_positive(fig) == 2
    for ax in (empty, ticked):
        assert ax.get_xscale() == "linear" and ax.get_xlabel() == "loss (none > 0)"
    assert shown.get_xscale() == "log" and shown.get_xlabel() == "loss (log scale)"
    plt.close(fig)


def test_len_check_and_at_least_say_what_they_want():
    from plots.schema import AtLeast, Check, Len, problem

    pair, some = Len(int, 2, 2), Len(int, min=1)
    assert problem([16, 256], pair, "c") is None and problem([1], some, "c") is None
    assert "holds 3 items, not 2" in problem([1, 2, 3], pair, "c.pair")
    assert "holds 0 items, not at least 1" in problem([], some, "c")
    assert "c[1] is str" in problem([1, "2"], pair, "c")  # its items are checked too
    assert isinstance(pair, list) and pair == [int]  # walked as [int] by whatever walks specs
    positive = Check(float, lambda v: v > 0, "a positive number")
    assert problem(1.5, positive, "t") is None
    assert "not a positive number" in problem(0.0, positive, "t")
    assert "not a number" in problem("x", positive, "t")  # its spec first
    assert not Check(str, lambda v: float(v), "").holds("two")  # a test that raises is false
    assert AtLeast(2).n == 2
