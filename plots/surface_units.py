"""The units of experiments.surface as its plots module reads them: the figures of each unit
and the schema (plots.schema) of what render and figure_names read from its results."""
import numpy as np

from engine import Layout
from plots.schema import NONE, NUM, AtLeast, Check, Holding, Len

# the figures of each unit of experiments.surface, in the order render draws them
UNIT_FIGURES = {
    **{f"{m}_line": [f"surface_line_{m}"] for m in ("sinc", "dnn")},
    **{f"{m}_plane": [f"surface_plane_{kind}_{m}" for kind in ("random", "pca", "hessian")]
       for m in ("sinc", "dnn")},
    "sinc_perturb": ["surface_perturb_sinc"], "tiny_tsne": ["surface_tsne"]}

# a diverged unit is drawn from where it diverged (plot_diverged)
_DIVERGED = {"step": int, "epoch": int, "phase?": str, "reason?": str}
_UNIT = {"sizes": [int], "n_params": int, "data": str, "n_train": int,
         "diverged?": (_DIVERGED, NONE), "skipped?": (str, NONE)}
_TSNE = {"newton_iterations": int, "gd_loss": NUM, "newton_loss": NUM}  # saved unless diverged
# the perturbed net's layers split its parameters (engine.Layout): two or more positive widths
_NET = Check(Len(int, min=2), lambda sizes: all(s >= 1 for s in sizes),
             "a network: two or more positive widths")
_KINDS = ("random", "pca", "hessian")
# L(θ*), the level the plane's cuts and the perturbations are drawn from (an axis limit: finite)
_LOSS0 = Check(0, lambda loss: np.isfinite(loss), "a finite loss")
# each plane's axes (two points or more: a contour's grid) and grid; the path in the PCA plane
# (a point or more: its start and end are marked) and its two PCs' variance ratios; H's extreme
# eigenvalues (λ_max, λ_min), the slopes ∇L·v along their eigenvectors and L(θ*)
_PLANE = {f"{kind}_{axis}": (AtLeast(2),) for kind in _KINDS for axis in "ab"} | {
    f"{kind}_Z": 2 for kind in _KINDS} | {
    "pca_coords": (AtLeast(1), 2), "pca_ratio": (2,), "lam": (2,), "loss0": _LOSS0,
    "slopes": (2,)}
# the arrays the figures of each unit read ("<unit>/<name>" in summary.npz), when it did not
# diverge (a diverged unit is drawn from its summary alone)
UNIT_ARRAYS = {
    **{f"{m}_line": {"alphas": 1, "train_loss": 1, "test_loss": 1} for m in ("sinc", "dnn")},
    **{f"{m}_plane": _PLANE for m in ("sinc", "dnn")},
    # the exact Hᵢᵢ colour the curves on a log scale: finite
    "sinc_perturb": {"deltas": (AtLeast(1),), "curves": 2, "H_diag": Check(
        1, lambda h: np.isfinite(h).all(), "finite curvatures"), "grad": 1, "loss0": _LOSS0},
    "tiny_tsne": {"embedding": (AtLeast(1), 2), "loss": 1, "kind": Holding("integers", 1)}}


def _drawn(meta) -> list[str]:
    """The units of the summary that are drawn from their arrays (present, not diverged); none
    while the summary is no mapping (its own check then says so)."""
    summary = meta.get("summary")
    if not isinstance(summary, dict):
        return []
    return [unit for unit in UNIT_FIGURES
            if isinstance(summary.get(unit), dict) and not summary[unit].get("diverged")]


def _by_arrays(meta, arrays) -> dict:
    """What the arrays' lengths ask of one another (plots.schema's by_arrays): a line's losses
    one per α; a plane's grids one row per b and one column per a; one perturbation curve per
    parameter of the net (each on the deltas); the t-SNE's losses and kinds one per embedded
    point, of which one or more is the path's (kind 0: GD, 1: Newton; its end is marked)."""
    drawn, specs = _drawn(meta), {}
    for m in ("sinc", "dnn"):
        if f"{m}_line" in drawn:
            n = len(arrays[f"{m}_line/alphas"])
            specs |= {f"{m}_line/{k}": (n,) for k in ("train_loss", "test_loss")}
        if f"{m}_plane" in drawn:
            specs |= {f"{m}_plane/{kind}_Z": (len(arrays[f"{m}_plane/{kind}_b"]),
                                              len(arrays[f"{m}_plane/{kind}_a"]))
                      for kind in _KINDS}
    if "sinc_perturb" in drawn:
        n = Layout(tuple(meta["summary"]["sinc_perturb"]["sizes"])).n_params
        specs |= {"sinc_perturb/curves": (n, len(arrays["sinc_perturb/deltas"])),
                  "sinc_perturb/H_diag": (n,), "sinc_perturb/grad": (n,)}
    if "tiny_tsne" in drawn:
        n = len(arrays["tiny_tsne/embedding"])
        specs |= {
            "tiny_tsne/loss": Check((n,), lambda loss: np.isfinite(loss).all() and (
                loss > 0).all(), "losses: finite, > 0 (their log colours the points)"),
            "tiny_tsne/kind": Check((n,), lambda kind: (kind < 2).any(),
                                    "one with a point of the path (kind 0 or 1)")}
    return {"arrays": specs}


# the training path's epochs (of a plane's unit): one or more integers, the first and last
# printed, their step taken by int()
_EPOCHS = Holding("integers", (AtLeast(1),))
# what render and figure_names read, checked when the results are loaded (plots.schema)
SCHEMA = {
    "config": {"tiny_hidden": [int], "tiny_samples": int, "gd_epochs": int, "extra_steps": int,
               "perplexity": NUM, "sample_radius": NUM},
    "summary": lambda meta: {**{f"{unit}?": _UNIT for unit in UNIT_FIGURES},
                             **({"tiny_tsne": _UNIT | _TSNE} if "tiny_tsne" in _drawn(meta)
                                else {}),
                             **({"sinc_perturb": _UNIT | {"sizes": _NET}}
                                if "sinc_perturb" in _drawn(meta) else {})},
    "arrays": lambda meta: {f"{unit}/{name}": ndim for unit in _drawn(meta)
                            for name, ndim in UNIT_ARRAYS[unit].items()} | {
        f"{m}_train/epochs": _EPOCHS for m in ("sinc", "dnn")
        if f"{m}_plane" in _drawn(meta)},
    "by_arrays": _by_arrays,
}
