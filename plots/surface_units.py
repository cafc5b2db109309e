"""The units of experiments.surface as its plots module reads them: the figures of each unit
and the schema (plots.schema) of what render and figure_names read from its results."""
from plots.schema import NONE, NUM

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
_PLANE = {f"{kind}_{axis}": 1 for kind in ("random", "pca", "hessian") for axis in "ab"} | {
    f"{kind}_Z": 2 for kind in ("random", "pca", "hessian")} | {
    "pca_coords": 2, "pca_ratio": 1, "lam": 1, "loss0": 0, "slopes": 1}
# the arrays the figures of each unit read ("<unit>/<name>" in summary.npz), when it did not
# diverge (a diverged unit is drawn from its summary alone)
UNIT_ARRAYS = {
    **{f"{m}_line": {"alphas": 1, "train_loss": 1, "test_loss": 1} for m in ("sinc", "dnn")},
    **{f"{m}_plane": _PLANE for m in ("sinc", "dnn")},
    "sinc_perturb": {"deltas": 1, "curves": 2, "H_diag": 1, "grad": 1, "loss0": 0},
    "tiny_tsne": {"embedding": 2, "loss": 1, "kind": 1}}


def _drawn(meta) -> list[str]:
    """The units of the summary that are drawn from their arrays (present, not diverged); none
    while the summary is no mapping (its own check then says so)."""
    summary = meta.get("summary")
    if not isinstance(summary, dict):
        return []
    return [unit for unit in UNIT_FIGURES
            if isinstance(summary.get(unit), dict) and not summary[unit].get("diverged")]


# what render and figure_names read, checked when the results are loaded (plots.schema)
SCHEMA = {
    "config": {"tiny_hidden": [int], "tiny_samples": int, "gd_epochs": int, "extra_steps": int,
               "perplexity": NUM, "sample_radius": NUM},
    "summary": lambda meta: {**{f"{unit}?": _UNIT for unit in UNIT_FIGURES},
                             **({"tiny_tsne": _UNIT | _TSNE} if "tiny_tsne" in _drawn(meta)
                                else {})},
    "arrays": lambda meta: {f"{unit}/{name}": ndim for unit in _drawn(meta)
                            for name, ndim in UNIT_ARRAYS[unit].items()} | {
        f"{m}_train/epochs": 1 for m in ("sinc", "dnn") if f"{m}_plane" in _drawn(meta)},
}
