"""The units of experiments.surface as its plots module reads them: the figures of each unit
and the schema (plots.schema) of what render and figure_names read from its results."""
from plots.schema import NONE, NUM

# the figures of each unit of experiments.surface, in the order render draws them
UNIT_FIGURES = {
    **{f"{m}_line": [f"surface_line_{m}"] for m in ("sinc", "dnn")},
    **{f"{m}_plane": [f"surface_plane_{kind}_{m}" for kind in ("random", "pca", "hessian")]
       for m in ("sinc", "dnn")},
    "sinc_perturb": ["surface_perturb_sinc"], "tiny_tsne": ["surface_tsne"]}

_UNIT = {"sizes": [int], "n_params": int, "data": str, "n_train": int, "diverged?": (dict, NONE),
         "skipped?": (str, NONE)}
# what render and figure_names read, checked when the results are loaded (plots.schema)
SCHEMA = {
    "config": {"tiny_hidden": [int], "tiny_samples": int, "gd_epochs": int, "extra_steps": int,
               "perplexity": NUM, "sample_radius": NUM},
    "summary": {**{f"{unit}?": _UNIT for unit in UNIT_FIGURES},
                # a diverged run saves no Newton steps: read only when it did not diverge
                "tiny_tsne?": {**_UNIT, "newton_iterations?": int, "gd_loss?": NUM,
                               "newton_loss?": NUM}},
}
