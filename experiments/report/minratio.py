"""The report's sections for HW1-2 question 3, what happens when the gradient is almost zero:
the plain MSE run and, side by side with it, the same searches on MSE + (λ/2)‖θ‖². Each is a
function of `Facts` returning markdown lines; every number goes through `Facts.num`.
"""
from __future__ import annotations

from engine import Layout
from experiments.report.facts import Facts, figures

_LM = ("scipy's Levenberg–Marquardt (`least_squares`, method {}) on r(θ) = ∇L(θ) with the exact "
       "Hessian as Jacobian")
_NEWTON = ("Newton-MR steps (the least-norm solution of H p = −∇L over the eigenvalues above a "
           "cut — the classification's τ on the plain MSE, the rounding floor with a weight decay "
           "— damped by a trust region on ‖p‖ that follows the actual decrease of ‖∇L‖², with "
           "geodesic acceleration: a second-order correction for the curvature of ∇L along the "
           "step)")
FINDERS = {  # what each --finder does, in the report's words
    "lm": _LM.format("'lm'") + ".",
    "trf": _LM.format("'trf'") + ".",
    "newton": _NEWTON[0].upper() + _NEWTON[1:] + ".",
    "lm+newton": _LM.format("'lm'") + ", then " + _NEWTON + ".",
    "gradnorm": "the slides' method i: L-BFGS on ½‖∇L‖² with its exact gradient H∇L (an HVP).",
}


def minratio_section(f: Facts) -> list[str]:
    """HW1-2 question 3 on the plain MSE: how the points with ∇L ≈ 0 are found, how the minimal
    ratio is defined, the counts per class, the continuation verdicts, the saddles and the
    index–loss fit (every number through Facts.num)."""
    s = ("minratio", "summary")
    c = f.get("minratio", "config")
    lines = ["## 1-2.3 What happens when the gradient is almost zero — how ∇L = 0 is reached and "
             "the minimal ratio defined (2 %); 100 runs, minimal ratio against loss (2 %); "
             "comment (1 %)", "",
             "**How the points with ∇L ≈ 0 are found.** Each run trains the network "
             f"{'-'.join(map(str, [1, *c['hidden'], 1]))} ({c['activation']}) on sin(5πx)/(5πx) "
             "from its "
             "own seeded initialization for its own seeded number of steps (spread from early to "
             f"late training), then hands θ to the finder `{c['finder']}`: "
             f"{FINDERS[c['finder']]} A search stops when it no longer makes progress.",
             "",
             "**Classification** (after the search): *critical* when ‖∇L‖² ≤ "
             f"{c['grad_sq_tol']:g} and the truncated Newton step ‖H_τ⁺∇L‖ ≤ "
             f"{c['newton_tol']:g} (in units of θ: it must not loosen as ‖θ‖ grows); "
             "*gradient-flat* when not critical and the gradient "
             f"lies in the Hessian's near-kernel (κ ≥ {c['kappa_tol']:g} or ‖H∇L‖/(‖H‖₂‖∇L‖) ≤ "
             f"{c['cos_tol']:g}); *not converged* otherwise.", "",
             "**Minimal ratio.** The share n₊/n of Hessian eigenvalues λ > τ, τ = max(n·ε, "
             f"{c['rtol']:g})·‖H‖₂: below n·ε·‖H‖₂ the sign of an eigenvalue is rounding noise. "
             "Also reported: the resolved ratio n₊/(n₊ + n₋), the index n₋/n, and the sampled "
             "ratio (the share of random neighbours θ + r·d, ‖d‖ = 1, with a higher loss).", ""]
    lines += f.settings("minratio", [
        ("task", f"sin(5πx)/(5πx) on {c['n_samples']} points, MSE"),
        ("model", f"{'-'.join(map(str, f.get(*s, 'sizes')))} {c['activation']}, "
                  f"{Layout(f.get(*s, 'sizes')).n_params} parameters"),
        ("runs", f"{c['runs']}, each trained by `{c['trainer']}`"
                 + (f" (learning rate {c['lr']:g})" if c["trainer"] == "adam" else "") + " for "
                 f"a seeded number of steps in [{c['switch_min']}, {c['switch_max']}], then "
                 f"searched by `{c['finder']}`"),
        ("ratio", f"sampled with {c['n_directions']} directions at radii "
                  f"{', '.join(f'{r:g}' for r in c['radii'])}; band rtol "
                  f"{' … '.join(f'{r:g}' for r in c['band'])}"),
    ])
    for label in ("critical", "gradient-flat", "not-converged"):
        p = (*s, "per_class", label)
        lines.append(f"- {label}: {f.num(*p, 'count', fmt='{:d}')} of {c['runs']} runs; median "
                     f"final ‖∇L‖ {f.num(*p, 'median_grad_norm')}.")
    lines.append(f"- Critical points that are saddles (n₋ > 0): "
                 f"{f.num(*s, 'critical_saddles', fmt='{:d}')}; critical points whose residual "
                 f"gradient lies in the near-kernel (κ ≥ {c['kappa_tol']:g}, flagged flat): "
                 f"{f.num(*s, 'critical_flat', fmt='{:d}')}. A converged Newton polish leaves "
                 "only that part of ∇L, so after one this flag says how the search ended more "
                 "than "
                 "where; at the start of the searches that end critical the median κ was "
                 f"{f.num(*s, 'per_class', 'critical', 'median_kappa_start', fmt='{:.2g}')}.")
    lines.append("- The losses of the end points span "
                 f"{f.num(*s, 'loss_range', 'decades', fmt='{:.2f}')} decades, from "
                 f"{f.num(*s, 'loss_range', 'min')} to "
                 f"{f.num(*s, 'loss_range', 'max')}.")
    lines.append("- Spearman correlation of the minimal ratio and the loss over the "
                 f"{f.num(*s, 'critical_correlated', fmt='{:d}')} settled critical points below "
                 "the constant fit's loss: ρ = "
                 f"{f.num(*s, 'spearman_minimal_ratio_loss')} (asymptotic p = "
                 f"{f.num(*s, 'spearman_p_value', fmt='{:.2g}')}; the comment applies the "
                 "bootstrap rule).")
    decay = c.get("weight_decay", 0.0)
    lines.append(f"- Objective: {'MSE + (λ/2)‖θ‖², λ = %g' % decay if decay else 'the MSE'}. "
                 "A continuation from each critical point says whether it stays put, slides "
                 "along a connected set of critical points, or escapes to infinity (‖θ‖ growing "
                 f"as hidden units saturate): {f.num(*s, 'verdicts', 'stays', fmt='{:d}')} stay, "
                 f"{f.num(*s, 'verdicts', 'manifold', fmt='{:d}')} slide, "
                 f"{f.num(*s, 'verdicts', 'escaping', fmt='{:d}')} escape, "
                 f"{f.num(*s, 'verdicts', 'drifted', fmt='{:d}')} drift off.")
    lines += saddle_lines(f, "minratio")
    return lines + [""] + figures(f, "minratio", f.figures["minratio"][:1]) + ratio_comment(
        f, "minratio")


def ratio_comment(f: Facts, name: str, first: bool = True) -> list[str]:
    """The **Comment** on the ratios against loss: the trend rule over the settled critical
    points (neither escaping nor drifting under continuation), for the minimal ratio n₊/n and
    for the resolved ratio n₊/(n₊ + n₋). first: the run whose figure the report shows (the
    second run's comment does not repeat how to read it)."""
    s = (name, "summary")
    trends = {key: f.claim("trend", name, {"x": ("arrays", "loss", "mask:correlated"),
                                           "y": ("arrays", key, "mask:correlated")},
                           what=f"the {key.replace('_', ' ')}", against="the loss")
              for key in ("minimal_ratio", "resolved_ratio")}
    direction = {key: claim.stats.get("direction") for key, claim in trends.items()}
    named = {"minimal_ratio": "the minimal ratio", "resolved_ratio": "the resolved ratio"}

    def which(way):
        keys = [k for k, d in direction.items() if d == way]
        return "both ratios" if len(keys) == 2 else named[keys[0]] if keys else None

    text = [f"**Comment.** Over the {f.num(*s, 'critical_correlated', fmt='{:d}')} settled "
            "critical points below the constant fit's loss (copies of the constant fit, "
            f"{f.num(*s, 'critical_drifting', fmt='{:d}')} drifting and "
            f"{f.num(*s, 'verdicts', 'escaping', fmt='{:d}')} escaping ones are left out): "
            f"{trends['minimal_ratio'].text}; {trends['resolved_ratio'].text}. "]
    if which("falls"):
        text.append(f"By {which('falls')}, lower loss goes with a higher ratio, as the course "
                    "expects: low critical points are more like minima, higher ones saddles "
                    "with more descending directions (Dauphin et al. 2014"
                    + ("; Pennington & Bahri 2017). " if first else "). "))
        if first and which("falls") == "the resolved ratio" and direction["minimal_ratio"] is None:
            text.append("The minimal ratio n₊/n also counts the directions too flat to sign "
                        "(|λ| ≤ τ) as not positive, and their number varies from point to point; "
                        "the resolved ratio leaves them out. ")
    if which("rises"):
        text.append(f"By {which('rises')}, lower loss goes with a lower ratio, against the "
                    "course's expectation. ")
    if not which("falls") and not which("rises"):
        text.append("The course expects lower loss to go with a higher ratio (low critical "
                    "points more like minima); this run does not show it by either ratio. What "
                    "would settle it: more settled critical points spread over a wider range of "
                    "loss. ")
    if first:
        text.append("The bars show each ratio at the two ends of the cut's band: where "
                    "eigenvalues are tiny their sign depends on the cut τ.")
    return ["".join(text), ""]


def minratio_wd_section(f: Facts) -> list[str]:
    """HW1-2 question 3, second run: the same searches on the coercive L_λ = MSE + (λ/2)‖θ‖²,
    side by side with the plain MSE's counts, then its saddles, index–loss fit and figure (every
    number through Facts.num)."""
    runs = [("minratio", "MSE"), ("minratio_wd", "MSE + (λ/2)‖θ‖²")]
    c, c0 = f.get("minratio_wd", "config"), f.get("minratio", "config")
    changed = {k: v for k, v in c.items() if c0.get(k) != v}
    lines = ["**The same searches with a weight decay.** With L_λ = MSE + (λ/2)‖θ‖², "
             f"λ = {c['weight_decay']:g}, no critical point can sit at infinity (L_λ grows "
             "without bound), so a search cannot end on an escaping asymptote. Settings that "
             "differ from the run above:", ""]
    lines += f.settings("minratio_wd", [(f"`{k}`", f.setting("minratio_wd", k))
                                        for k in changed])
    lines += ["| | " + " | ".join(title for _, title in runs) + " |",
              "|---|" + "---|" * len(runs)]

    def row(what, *path, fmt="{:d}"):
        cells = (f.num(name, "summary", *path, fmt=fmt) for name, _ in runs)
        lines.append(f"| {what} | " + " | ".join(cells) + " |")

    for label in ("critical", "gradient-flat", "not-converged"):
        row(label, "counts", label)
    row("critical, staying put", "verdicts", "stays")
    row("critical, escaping", "verdicts", "escaping")
    row("non-trivial saddles staying put (distinct)", "saddles", "distinct")
    row("critical, reducible (embedded from a smaller net)", "critical_reducible")
    # the runs' own times: wall_time is the last build's, a few seconds when it only resumed
    row("time of the runs (training, search, checks; sum over runs), s", "run_time_sum",
        fmt="{:.0f}")
    s, m = ("minratio_wd", "summary"), ("minratio", "summary")
    more = f.get(*s, "saddles", "distinct") > f.get(*m, "saddles", "distinct")
    lines += ["", "The weight decay " + ("found more finite, non-trivial saddles that stay put, "
                                        "as the coercive objective promises." if more else
                                        "did not find more finite, non-trivial saddles that "
                                        "stay put.") +
              " With the decay the classification's cut is capped at τ ≤ λ/10 = "
              f"{c['weight_decay'] / 10:g}, so every direction curved by the decay alone counts "
              "as curved, in n₊ and in the critical test; its saddles and index–loss fit are "
              "in its summary.json.", ""]
    # its figure (the same four panels) stays in the figures folder: the report has ten pages
    return lines + ["", f"The figure of this run is `{f.figures['minratio_wd'][0]}` in the "
                    "figures folder (the same panels as above).", ""] + ratio_comment(
        f, "minratio_wd", first=False)


def saddle_lines(f: Facts, name: str) -> list[str]:
    """The saddles among run `name`'s critical points and the fit of their index against the loss
    (markdown list items; every number through Facts.num)."""
    s = (name, "summary")
    lines = []
    sad = (*s, "saddles")
    lines.append(f"- Saddles among the critical points that do not escape: "
                 f"{f.num(*sad, 'not_escaping', fmt='{:d}')}; below 0.99·½Var(y) = 0.99·"
                 f"{f.num(*s, 'trivial_loss')} (the constant fit's loss) and staying put: "
                 f"{f.num(*sad, 'nontrivial_staying', fmt='{:d}')}, of which "
                 f"{f.num(*sad, 'distinct', fmt='{:d}')} distinct (loss and spectrum).")
    if f.get(*sad, "index_range"):
        lines.append(f"  Their index n₋ runs from {f.num(*sad, 'index_range', 0, fmt='{:d}')} to "
                     f"{f.num(*sad, 'index_range', 1, fmt='{:d}')}; their MSE spans "
                     f"{f.num(*sad, 'loss_range', 'decades', fmt='{:.2f}')} decades; "
                     f"{f.num(*sad, 'reducible', fmt='{:d}')} of them are reducible — copies of "
                     "a unit, or dead units: critical points of a smaller network, embedded.")
    fit = (*s, "index_loss_fit")
    if f.get(*fit, "spearman"):
        lines.append(f"- Index against loss over the critical points that do not escape: "
                     f"Spearman ρ = {f.num(*fit, 'spearman', 'rho', fmt='{:.2f}')} (95 % "
                     f"bootstrap interval {f.num(*fit, 'spearman', 'low', fmt='{:.2f}')} … "
                     f"{f.num(*fit, 'spearman', 'high', fmt='{:.2f}')}); the index rises by "
                     f"{f.num(*fit, 'slope', 'per_decade', fmt='{:.3f}')} per decade of loss "
                     f"({f.num(*fit, 'slope', 'low', fmt='{:.3f}')} … "
                     f"{f.num(*fit, 'slope', 'high', fmt='{:.3f}')}); copies of the constant "
                     f"fit left out: {f.num(*fit, 'n_trivial', fmt='{:d}')}.")
    if f.get(*fit, "power"):
        inside = f.get(*fit, "power", "contains")
        lines.append(f"  Pennington & Bahri's α = α₀·((ε − ε_c)/ε_c)^p: p = "
                     f"{f.num(*fit, 'power', 'exponent', fmt='{:.2f}')} (95 % interval "
                     f"{f.num(*fit, 'power', 'low', fmt='{:.2f}')} … "
                     f"{f.num(*fit, 'power', 'high', fmt='{:.2f}')}; no parameter on a bound; "
                     f"{f.num(*fit, 'power_status', 'parameters_per_point', fmt='{:.2f}')} "
                     "parameters per point); " + (
                         "p sits at its bound: the data do not determine it." if f.get(
                             *fit, "power").get("at_bound") else
                         f"3/2 lies {'inside' if inside else 'outside: the data reject it'}."))
    else:
        lines.append("  Pennington & Bahri's power law cannot be fitted: "
                     f"{f.get(*fit, 'power_status', 'reason')}.")
    return lines
