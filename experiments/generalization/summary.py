"""The summary of experiments.generalization: stacked arrays, the interpolation lines, and the
facts the report quotes (what rose, what fell, where it saturated), each computed from the
saved units.

Trends against batch size are Spearman rank correlations with log batch size (scipy.stats): the
sign says "rises" or "falls", the p-value how much six points can say.
"""
from __future__ import annotations

import numpy as np

from engine import MLP
from engine.landscape.generalization import interpolation
from engine.training.stopping import count_stops

FLAT_MEASURES = ("sensitivity", "lambda_max", "sharpness")
METRICS = ("train_loss", "test_loss", "train_acc", "test_acc")


def summarize(config, runs, data) -> tuple[dict, dict]:
    """(arrays, summary) from the units in config.units order, each (arrays, info)."""
    units = config.units
    arrays, summary = {}, {}
    # random labels
    curves, info = runs[0]
    arrays |= {f"random_{k}": v for k, v in curves.items() if k != "theta"}
    arrays["random_epoch"] = curves["step"] // -(-len(data.x_train) // config.random_batch)
    best = int(np.argmin(curves["test_loss"]))
    summary["random"] = {
        "sizes": info["sizes"], "n_params": info["n_params"], "stopped_by": info["stopped_by"],
        "epochs": info["epochs"], "labels_unchanged": info["labels_unchanged"],
        **{f"final_{k}": float(curves[k][-1]) for k in METRICS},
        "min_test_loss": float(curves["test_loss"][best]),
        "min_test_loss_epoch": int(arrays["random_epoch"][best])}
    # parameters against generalization: (widths, seeds) per metric
    ids = [i for i, u in enumerate(units) if u[0] == "width"]
    shape = (len(config.widths), config.width_seeds)
    for k in METRICS:
        arrays[f"width_{k}"] = np.array([runs[i][0][k][-1] for i in ids]).reshape(shape)
    arrays["width_n_params"] = np.array([runs[i][1]["n_params"] for i in ids]).reshape(shape)[:, 0]
    arrays["widths"] = np.array(config.widths)
    summary["parameters"] = _parameter_facts(arrays, [runs[i][1] for i in ids])
    # flatness: one model per batch size, and the lr variant last
    ids = [i for i, u in enumerate(units) if u[0] == "batch"]
    sweep, variant = ids[:-1], ids[-1]
    arrays["batch_sizes"] = np.array(config.batch_sizes)
    for k in (*METRICS, *FLAT_MEASURES, "steps"):
        arrays[f"batch_{k}"] = np.array([_final(runs[i], k) for i in sweep])
    summary["flatness"] = _flatness_facts(config, arrays, [runs[i][1] for i in sweep])
    summary["flatness"]["lr_variant"] = {k: _final(runs[variant], k) for k in
                                         (*METRICS, *FLAT_MEASURES, "steps")}
    summary["flatness"]["lr_variant"]["stopped_by"] = runs[variant][1]["stopped_by"]
    # interpolation, from the saved θ
    net = MLP(tuple(runs[sweep[0]][1]["sizes"]), config.activation, "cross_entropy")
    alphas = np.linspace(-1.0, 2.0, config.n_alphas)
    theta = {b: runs[i][0]["theta"] for b, i in zip(config.batch_sizes, sweep, strict=True)}
    pairs = {"batch": (theta[config.interp_pair[0]], theta[config.interp_pair[1]]),
             "lr": (theta[64], runs[variant][0]["theta"])}
    summary["interpolation"] = {}
    for name, (a, b) in pairs.items():
        line = interpolation(net, a, b, alphas, data)
        arrays |= {f"interp_{name}_{k}": v for k, v in line.items()}
        summary["interpolation"][name] = _line_facts(line)
    summary["stopping"] = {
        "rule": {"window": config.stop_window, "rel_tol": config.stop_rel_tol,
                 "targets": {"random_train_acc": config.random_target_acc,
                             "width_train_loss": config.width_target,
                             "batch_train_loss": config.target_loss},
                 "caps": {"random_epochs": config.random_max_epochs,
                          "width_epochs": config.width_max_epochs,
                          "batch_steps": config.max_steps}},
        "stopped_by": count_stops(info["stopped_by"] for _, info in runs)}
    return arrays, summary


def _final(run, key):
    arrays, info = run
    return float(info[key]) if key in info else float(arrays[key][-1])


def _parameter_facts(arrays, infos) -> dict:
    n_params = arrays["width_n_params"]
    test_acc = np.median(arrays["width_test_acc"], axis=1)
    test_loss = np.median(arrays["width_test_loss"], axis=1)
    gap = np.median(arrays["width_test_loss"] - arrays["width_train_loss"], axis=1)
    # saturation: the fewest parameters whose median test accuracy is within 1 point of the best
    within = np.flatnonzero(test_acc >= test_acc.max() - 0.01)
    i_loss = int(np.argmin(test_loss))
    return {"n_params_min": int(n_params[0]), "n_params_max": int(n_params[-1]),
            "decades": float(np.log10(n_params[-1] / n_params[0])),
            "stopped_by_rule": int(sum(i["stopped_by"] != "cap" for i in infos)),
            "stopped_by": count_stops(i["stopped_by"] for i in infos),
            "epochs_min": int(min(i["epochs"] for i in infos)),
            "epochs_max": int(max(i["epochs"] for i in infos)),
            "n_models": len(infos),
            "test_acc_smallest": float(test_acc[0]), "test_acc_largest": float(test_acc[-1]),
            "test_acc_best": float(test_acc.max()),
            "saturation_n_params": int(n_params[within[0]]),
            "test_loss_best": float(test_loss[i_loss]),
            "test_loss_best_n_params": int(n_params[i_loss]),
            "test_loss_largest": float(test_loss[-1]),
            "test_loss_interior_minimum": bool(0 < i_loss < len(n_params) - 1),
            "gap_smallest": float(gap[0]), "gap_largest": float(gap[-1]),
            "train_loss_largest": float(np.median(arrays["width_train_loss"][-1]))}


def _flatness_facts(config, arrays, infos) -> dict:
    # imported here, not at the top: scipy.stats is ≈ 0.7 s of a command's start
    from scipy.stats import spearmanr

    log_b = np.log(arrays["batch_sizes"])
    facts = {"stopped_by_rule": int(sum(i["stopped_by"] != "cap" for i in infos)),
             "stopped_by": count_stops(i["stopped_by"] for i in infos),
             "n_models": len(infos), "n_params": infos[0]["n_params"]}
    for k in (*FLAT_MEASURES, "test_acc", "test_loss", "train_loss"):
        values = arrays[f"batch_{k}"]
        rho, p = spearmanr(log_b, values)
        facts[k] = {"spearman": float(rho), "p_value": float(p),
                    "trend": "rises" if rho > 0 else "falls" if rho < 0 else "is flat",
                    "smallest_batch": float(values[0]), "largest_batch": float(values[-1]),
                    "ratio": float(values[-1] / values[0]) if values[0] else None}
    return facts


def _line_facts(line) -> dict:
    """Loss at the ends, the barrier between them, and how fast the training loss rises beyond
    each end over a quarter of the distance between them (α = −0.25 and 1.25)."""
    alpha, loss = line["alpha"], line["train_loss"]

    def at(a):
        return float(np.interp(a, alpha, loss))

    inside = (alpha >= 0) & (alpha <= 1)
    return {"train_loss_a": at(0.0), "train_loss_b": at(1.0),
            "test_acc_a": float(np.interp(0.0, alpha, line["test_acc"])),
            "test_acc_b": float(np.interp(1.0, alpha, line["test_acc"])),
            "barrier": float(loss[inside].max() - max(at(0.0), at(1.0))),
            "rise_beyond_a": at(-0.25) - at(0.0), "rise_beyond_b": at(1.25) - at(1.0)}
