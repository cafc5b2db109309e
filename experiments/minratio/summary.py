"""The summary of experiments.minratio: per-run units stacked into the results contract's arrays,
and the facts the figure and the report quote — counts per class, continuation verdicts, the
saddles that count (critical, not escaping, non-trivial, staying put, distinct under the
network's symmetries), the index–loss fit and the finder's statuses and times.
"""
from __future__ import annotations

import numpy as np

from engine.critical.classification import LABELS, VERDICTS
from engine.critical.finders import STATUS_NAMES
from engine.critical.index_loss import index_loss_fit


def stack(runs, config):
    """Per-run arrays stacked (n_runs, …), scalars as (n_runs,) arrays; ragged traces
    concatenated with their start offsets."""
    ragged = ("trace", "theta_norm_trace", "continuation_norms")
    out = {k: np.stack([a[k] for a, _ in runs]) for k in runs[0][0] if k not in ragged}
    # .get: runs saved before a key was added to the contract resume as nan, not KeyError
    out |= {k: np.array([np.nan if info.get(k) is None else info[k] for _, info in runs]) for k in (
        "switch_step", "train_loss", "loss", "loss_total", "theta_norm", "grad_norm", "flat",
        "grad_sq", "newton_norm", "kappa", "flat_cosine", "kappa_start", "tau", "minimal_ratio",
        "resolved_ratio", "index", "n_neg", "saturated_share", "max_preactivation",
        "n_near_tau")}
    out["label"] = np.array([info["label"] for _, info in runs])
    widths = [info.get("effective_hidden") for _, info in runs]
    out["effective_units"] = np.array([np.nan if w is None else sum(w) for w in widths])
    out["reducible"] = out["effective_units"] < sum(config.hidden)
    cont = [info["continuation"] or {} for _, info in runs]
    out["verdict"] = np.array([c.get("verdict", "") for c in cont])
    out["escaping"] = out["verdict"] == "escaping"
    # "critical" by the end-point test, but the continuation moved it and L or ∇L changed: not a
    # critical point the search stopped on, so a class of its own, outside every correlation
    out["drifting"] = out["verdict"] == "drifted"
    out["settled"] = (out["label"] == "critical") & ~out["escaping"] & ~out["drifting"]
    for key in ("moved", "growth"):
        out[f"continuation_{key}"] = np.array([c.get(key, np.nan) for c in cont])
    for key in ragged:
        out[key] = np.concatenate([a[key] for a, _ in runs])
    out["trace_start"] = np.cumsum([0] + [a["trace"].size for a, _ in runs])
    out["continuation_start"] = np.cumsum([0] + [a["continuation_norms"].size for a, _ in runs])
    return out


def distinct(loss, eigenvalues, *, rtol=1e-7):
    """Indices of the first of each group of points with the same loss (to rtol) and the same
    spectrum (each eigenvalue to rtol·‖H‖₂): copies under the network's symmetries (permuted
    or sign-flipped units) share both, so they count once."""
    kept = []
    for i in range(len(loss)):
        scale = np.max(np.abs(eigenvalues[i]))
        if not any(abs(loss[i] - loss[j]) <= rtol * abs(loss[j]) and np.all(
                np.abs(eigenvalues[i] - eigenvalues[j]) <= rtol * scale) for j in kept):
            kept.append(i)
    return np.array(kept, dtype=int)


def summarize(arrays, infos, config) -> dict:
    """Counts per class with the median final ‖∇L‖, κ at the start and end (what stops the
    finder) and loss range of each; the continuation verdicts of the critical points; the
    saddles (index > 0) among critical points that are not escaping: how many (and how many
    settled), distinct, non-trivial (MSE < 0.99·½Var(y), the constant fit's), staying put,
    their index range, MSE span and how many are reducible (embedded critical points of a
    smaller net: copies of a unit, dead or constant units). The index–loss fit is over the
    settled critical points only (neither escaping nor drifting under continuation: a drifting
    point is not where the search stopped), Spearman ρ(minimal ratio, loss) over those below
    the constant fit's loss (arrays["correlated"], set here). Also the finder's statuses and
    times."""
    label, loss = arrays["label"], arrays["loss"]
    per_class = {name: {"count": int((label == name).sum()), "loss_range": decade_span(
        loss[label == name])} | {f"median_{k}": _finite(arrays[k][label == name]) for k in (
            "grad_norm", "kappa_start", "kappa", "flat_cosine")} for name in LABELS}
    crit = label == "critical"
    settled = arrays["settled"]  # critical, neither escaping nor drifting
    trivial_loss = constant_fit_loss(arrays["y"], config)
    # what the ratios are correlated over: settled, and no copy of the constant fit (a cluster
    # of trivial saddles at one loss would make any rank correlation a two-group one)
    arrays["correlated"] = kept = settled & (loss < 0.99 * trivial_loss)
    ratio, rho, p_value = arrays["minimal_ratio"][kept], None, None
    if kept.sum() >= 3 and np.ptp(ratio) > 0 and np.ptp(loss[kept]) > 0:
        # imported here, not at the top: scipy.stats is ≈ 0.7 s of a command's start
        import scipy.stats

        rho, p_value = map(float, scipy.stats.spearmanr(ratio, loss[kept]))
    statuses = [info["finder"]["status"] for info in infos]
    saddle = crit & ~arrays["escaping"] & (arrays["n_neg"] > 0)
    nontrivial = saddle & (loss < 0.99 * trivial_loss)
    staying = np.flatnonzero(nontrivial & (arrays["verdict"] == "stays"))
    unique = staying[distinct(loss[staying], arrays["eigenvalues"][staying])]
    # the constant fit's copies (several indices at one loss) are trivial: out of the fit
    fit = index_loss_fit(loss[settled], arrays["index"][settled],
                         rng=np.random.default_rng(config.seed), trivial_loss=trivial_loss)
    return {
        "counts": {name: per_class[name]["count"] for name in LABELS},
        "critical_flat": int((crit & (arrays["flat"] == 1)).sum()),
        "critical_saddles": int((crit & (arrays["index"] > 0)).sum()),
        "weight_decay": config.weight_decay, "trivial_loss": trivial_loss,
        "verdicts": {v: int((crit & (arrays["verdict"] == v)).sum()) for v in VERDICTS},
        "critical_not_escaping": int((crit & ~arrays["escaping"]).sum()),
        "critical_drifting": int((crit & arrays["drifting"]).sum()),
        "critical_settled": int(settled.sum()),
        "critical_correlated": int(arrays["correlated"].sum()),
        "critical_reducible": int((settled & arrays["reducible"]).sum()),
        "near_tau": {"median": _finite(arrays["n_near_tau"][crit]),
                     "max": _finite(arrays["n_near_tau"][crit], np.max)},
        "saddles": {"not_escaping": int(saddle.sum()), "settled": int((saddle & settled).sum()),
                    "nontrivial": int(nontrivial.sum()),
                    "nontrivial_staying": int(staying.size), "distinct": int(unique.size),
                    "index_range": _int_range(arrays["n_neg"][unique]),
                    "reducible": int(arrays["reducible"][unique].sum()),
                    "loss_range": decade_span(loss[unique]), "runs": unique.tolist()},
        "index_loss_fit": fit,
        "per_class": per_class, "spearman_minimal_ratio_loss": rho, "spearman_p_value": p_value,
        "loss_range": decade_span(loss),
        "finder": {"method": config.finder, "status_counts": {
            s: statuses.count(s) for s in STATUS_NAMES.values() if s in statuses}} | {
            f"median_{k}": float(np.median([i["finder"][k] for i in infos]))
            for k in ("n_eval", "wall_time")},
        "run_time_sum": float(sum(info["wall_time"] for info in infos)),
        "run_time_median": float(np.median([info["wall_time"] for info in infos])),
        "run_cpu_sum": float(sum(info.get("cpu_time", np.nan) for info in infos)),
        "runs": [{k: info[k] for k in ("run", "switch_step", "loss", "label", "finder",
                                       "continuation")} for info in infos]}


def constant_fit_loss(y, config) -> float:
    """The loss of the best constant output: ½ mean‖y − ȳ‖² = ½ Σ_k Var(y_k) (MSE, f = ȳ; the
    homework's trivial fit — ½Var(y) of the flattened y only for one output),
    the class frequencies' entropy −Σ p_c log p_c (cross-entropy, softmax of log p); without
    biases (the autoencoder, --no-bias) θ = 0, f = 0: ½‖y‖²/N (MSE; no bias can output ȳ) and
    log k (cross-entropy, the uniform softmax) — experiments.minratio.independent's
    trivial_loss, recomputed by the checker."""
    y = np.asarray(y, dtype=np.float64)
    biased = getattr(config, "bias", True) and getattr(config, "task", "sinc") != "dlae"
    cross_entropy = getattr(config, "loss", "mse") == "cross_entropy"
    if not biased:
        return float(np.log(y.shape[1])) if cross_entropy else \
            0.5 * float(np.mean(np.sum(y * y, axis=1)))
    if cross_entropy:
        p = y.mean(axis=0)
        return float(-np.sum(p[p > 0] * np.log(p[p > 0])))
    # per column, then summed: the variance of the flattened (N, 10) one-hot y of digits is 10×
    # too small (0.09 instead of Σ_k p_k(1 − p_k) ≈ 0.9), and saddles below ½·0.9 were counted
    # as the constant fit's copies
    return 0.5 * float(np.sum(np.var(y, axis=0)))


def _int_range(values):
    return [int(values.min()), int(values.max())] if values.size else None


def _finite(values, reduce=np.median):
    """reduce (the median, unless given) over the finite values, None when there are none."""
    values = values[np.isfinite(values)]
    return float(reduce(values)) if values.size else None


def decade_span(values):
    """{min, max, decades} of the finite positive values (decades = log₁₀ max/min), None when
    there are none."""
    values = values[np.isfinite(values) & (values > 0)]
    if not values.size:
        return None
    low, high = float(values.min()), float(values.max())
    return {"min": low, "max": high, "decades": float(np.log10(high / low))}
