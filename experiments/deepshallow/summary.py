"""The summary of experiments.deepshallow: the units stacked as (target, depth, seed, …), the
depths ranked per target by the median final training loss, and which rule stopped each model.
"""
from __future__ import annotations

import numpy as np

from engine.data.datasets import function_dataset
from engine.training.stopping import count_stops

TASK_METRICS = ("train_loss", "test_loss", "train_acc", "test_acc")


def summarize(config, runs) -> tuple[dict, dict]:
    """Stack the units as (target, depth, seed, …), curves held at their final value to the
    longest run, and rank the depths of each target; say which rule stopped every model."""
    shape = (len(config.functions) + len(config.tasks), len(config.depths), config.seeds)
    grid = np.array([runs[u][0] for u in range(len(runs))], dtype=object).reshape(shape)
    infos = np.array([runs[u][1] for u in range(len(runs))], dtype=object).reshape(shape)
    arrays, summary = {"depths": np.array(config.depths)}, {"functions": {}, "task": {}}
    n_f = len(config.functions)
    if n_f:
        arrays["function_loss"], arrays["function_n_checks"] = _stack(grid[:n_f], "train_loss")
        arrays["function_iters"] = _stack(grid[:n_f], "loss_iters")[0]
        arrays["function_prediction"] = _stack(grid[:n_f], "prediction")[0]
        arrays["function_test_loss"] = _stack(grid[:n_f], "test_loss")[0]
        data = [function_dataset(f, n_samples=config.function_samples) for f in config.functions]
        arrays["function_x_test"] = data[0].x_test[:, 0]
        arrays["function_y_test"] = np.stack([d.y_test[:, 0] for d in data])
        for i, name in enumerate(config.functions):
            summary["functions"][name] = rank(config.depths, arrays["function_loss"][i, :, :, -1],
                                              infos[i, :, 0]) | _stops(infos[i])
            for d, depth in enumerate(config.depths):  # ‖∇L‖ at the end: ≈ 0 where it stopped
                norms = [info["final_grad_norm"] for info in infos[i, d]]
                summary["functions"][name]["models"][str(depth)] |= {
                    "final_grad_norm_median": float(np.median(norms)),
                    "final_grad_norm_max": float(np.max(norms))}
    for t, task in enumerate(config.tasks):
        row, prefix = n_f + t, task
        for key in TASK_METRICS:
            arrays[f"{prefix}_{key}"], arrays[f"{prefix}_n_checks"] = (
                a[0] for a in _stack(grid[row:row + 1], key))
        # epochs each model trained (depths, seeds): where every model stopped at the target,
        # the report compares these, not the final losses (all at the target)
        arrays[f"{prefix}_steps"] = np.array([[info["steps"] for info in r] for r in infos[row]])
        facts = rank(config.depths, arrays[f"{prefix}_train_loss"][:, :, -1], infos[row, :, 0])
        for d, depth in enumerate(config.depths):
            steps = arrays[f"{prefix}_steps"][d]
            facts["models"][str(depth)] |= {"steps_median": float(np.median(steps))}
        for key in ("train_acc", "test_acc", "test_loss"):
            final = arrays[f"{prefix}_{key}"][:, :, -1]
            for d, depth in enumerate(config.depths):
                facts["models"][str(depth)] |= {f"{key}_median": float(np.median(final[d])),
                                                f"{key}_min": float(final[d].min()),
                                                f"{key}_max": float(final[d].max())}
        summary[task] = facts | _stops(infos[row]) | {"dataset": infos[row, 0, 0]["target"]}
    summary["stopping"] = {
        "rule": {"window": config.stop_window, "rel_tol": config.stop_rel_tol,
                 "task_target": config.task_target, "function_max_iters":
                 config.function_max_iters, "task_max_epochs": config.task_max_epochs},
        "stopped_by": count_stops(info["stopped_by"] for info in infos.ravel())}
    # (largest − smallest)/smallest parameter count among the depths, worst over the targets
    summary["budget_spread"] = max(_spread([info["n_params"] for info in row[:, 0]])
                                   for row in infos)
    return arrays, summary


def _stops(infos) -> dict:
    """Which rule stopped the models of one target (depths, seeds) and after how many steps
    (L-BFGS iterations or epochs): counts overall and per depth."""
    steps = np.array([[info["steps"] for info in row] for row in infos])
    return {"stopped_by": count_stops(info["stopped_by"] for info in infos.ravel()),
            "steps_min": int(steps.min()), "steps_max": int(steps.max()),
            "stopped_by_depth": {str(row[0]["depth"]): count_stops(i["stopped_by"] for i in row)
                                 for row in infos}}


def rank(depths, final, infos) -> dict:
    """Facts about the final training losses `final` (depths, seeds): per depth the sizes, the
    parameter count, the median and range; the depth of the lowest median, its factor to the
    runner-up's median, and the number of seeds in which it was the best."""
    median = np.median(final, axis=1)
    order = np.argsort(median)
    best_per_seed = np.argmin(final, axis=0)
    models = {str(depth): {"sizes": list(info["sizes"]), "n_params": info["n_params"],
                           "final_loss_median": float(median[d]),
                           "final_loss_min": float(final[d].min()),
                           "final_loss_max": float(final[d].max())}
              for d, (depth, info) in enumerate(zip(depths, infos, strict=True))}
    return {"models": models, "best_depth": int(depths[order[0]]),
            "runner_up_depth": int(depths[order[1]]),
            "factor_to_runner_up": float(median[order[1]] / median[order[0]]),
            "best_in_seeds": int(np.sum(best_per_seed == order[0])), "n_seeds": final.shape[1],
            "worst_depth": int(depths[order[-1]]),
            "ranking": [int(depths[d]) for d in order],
            "same_ranking_every_seed": bool(all(
                list(np.argsort(final[:, s])) == list(order) for s in range(final.shape[1])))}


def _stack(grid, key) -> tuple[np.ndarray, np.ndarray]:
    """(values (target, depth, seed, n), lengths (target, depth, seed)) of the runs' arrays
    `key`: a curve shorter than the longest is held at its last value (the model stopped there
    and no longer changes); a scalar or fixed-size array stacks as it is."""
    cells = [cell[key] for part in grid for row in part for cell in row]
    lengths = np.array([np.size(c) if np.ndim(c) else 1 for c in cells]).reshape(grid.shape)
    if key in TASK_METRICS + ("loss_iters",) and np.ndim(cells[0]) == 1:  # curves
        n = max(len(c) for c in cells)
        cells = [np.concatenate([c, np.full(n - len(c), c[-1])]) for c in cells]
    return np.stack(cells).reshape(*grid.shape, *np.shape(cells[0])), lengths


def _spread(counts) -> float:
    return float((max(counts) - min(counts)) / min(counts))
