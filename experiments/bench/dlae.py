"""The known-answer benchmark: critical points of the deep linear autoencoder found by each finder
and scored against Baldi & Hornik's closed form (`python -m experiments.bench.dlae`).

The model is engine.critical.linear_autoencoder's with k = 16, p = 4 and data second moment
C = Q diag(1, …, 16) Qᵀ (Q a seeded rotation): 2517 analytic classes, each with its loss and
Hessian counts n₋/n₀/n₊. Starts (Frye et al. 2019's three kinds, --per-kind of each):
  perturbed   an analytic point of a random class at a random point of its GL(r) orbit
              (Γ with singular values log-uniform in [1/s, s], s = --orbit-scale, so some are
              badly scaled), plus Gaussian noise of standard deviation --noise;
  random      θ ~ N(0, 1/k) entries;
  path        points of one gradient-descent path from a small random init (it passes the
              saddles near 0), drawn uniformly in loss (Pennington & Bahri 2017).
Every finder (--finders) searches from every start; each end point is classified by
engine.critical.classification.classify with the cut of --cut (engine.critical.cut), then
matched: S from M = V₀V₁ (within 1e-4 of a projector U_S U_Sᵀ), its loss within 1e-8
(relative) and its counts. Per finder the table gives the shares:
  correct      labelled critical, at an analytic class, counts n₋/n₀/n₊ exact;
  wrong counts labelled critical at an analytic class, counts not the theory's;
  false        labelled critical, at no analytic class (the label is wrong);
  flat         labelled gradient-flat;   not conv.  labelled not converged;
and the CPU seconds per search (one BLAS thread). A search is deterministic: the table repeats.
"""
from __future__ import annotations

import argparse
import json
import time

import numpy as np
from threadpoolctl import threadpool_limits

from engine.critical.classification import classify
from engine.critical.cut import CUTS, sign_cut
from engine.critical.finders import find_critical
from engine.critical.linear_autoencoder import (
    LinearAutoencoder,
    analytic_point,
    critical_classes,
    nearest_subset,
)
from engine.io.cli import OneLineParser, guarded
from experiments.bench.scale import check_output_file

FINDERS = ("newton", "lm", "lm+newton", "gradnorm")
KINDS = ("perturbed", "random", "path")
# Newton-MR steps on the whole spectrum (its cut at the rounding floor, rtol 0): a relative cut
# (1e-6·‖H‖₂) drops the real but small curvatures of a badly scaled orbit point, ∇L lies along
# them, and the search stalls there as at a gradient-flat point (measured: 2 of 10 perturbed
# starts with rtol 1e-6, orbit scale 10)
FINDER_OPTIONS = {"newton": {"rtol": 0.0}, "lm+newton": {"rtol": 0.0}}


def problem(k=16, width=4, seed=0):
    """(model, basis U, eigenvalues, {S: CriticalClass}) of the benchmark."""
    rng = np.random.default_rng(seed)
    lam = np.arange(1.0, k + 1.0)
    basis = np.linalg.qr(rng.standard_normal((k, k)))[0]
    model = LinearAutoencoder(basis @ np.diag(lam) @ basis.T, width)
    return model, basis, lam, {c.subset: c for c in critical_classes(lam, width)}


def starts(model, basis, classes, per_kind, rng, orbit_scale=10.0, noise=0.1):
    """[(kind, θ₀)], per_kind of each kind in KINDS (module docstring)."""
    out, subsets = [], list(classes)
    for _ in range(per_kind):
        S = subsets[rng.integers(len(subsets))]
        r = len(S)
        U, V = (np.linalg.qr(rng.standard_normal((r, r)))[0] for _ in range(2))
        gamma = U @ np.diag(orbit_scale ** rng.uniform(-1, 1, r)) @ V.T if r else None
        theta = analytic_point(basis, S, model.width, gamma)
        out.append(("perturbed", theta + noise * rng.standard_normal(theta.size)))
    out += [("random", model.init(rng)) for _ in range(per_kind)]
    theta, path = model.init(rng, scale=1e-3), []
    for _ in range(3000):  # gradient descent, step 1/(2 λ_max): stable
        path.append(theta)
        theta = theta - 0.5 / 16.0 * model.gradient(theta)
    path = np.array(path)
    losses = model.loss(path)
    for level in rng.uniform(losses.min(), losses.max(), per_kind):
        out.append(("path", path[np.argmin(np.abs(losses - level))]))
    return out


def score(model, basis, classes, theta, cut):
    """(outcome, counts) of an end point θ: outcome one of correct, wrong counts, false, flat,
    not conv. (module docstring)."""
    g, H = model.gradient(theta), model.hessian(theta)
    point = classify(theta, g, H, non_finite="not-converged",
                     **sign_cut(cut, theta, g, H, model.hessian))
    if point.label == "gradient-flat":
        return "flat", None
    if point.label != "critical":
        return "not conv.", None
    spec = point.spectrum
    counts = (spec.n_neg, spec.n_zero, spec.n_pos)
    S = nearest_subset(model, basis, theta)
    if S is None or abs(model.loss(theta) - classes[S].loss) > 1e-8 * classes[S].loss + 1e-14:
        return "false", counts
    c = classes[S]
    return ("correct" if counts == (c.n_neg, c.n_zero, c.n_pos) else "wrong counts"), counts


def bench(per_kind=30, finders=FINDERS, cut="certified", seed=0, orbit_scale=10.0,
          noise=0.1):
    """{finder: {outcome: count, 'n', 'cpu_s', 'by_kind'}} over per_kind·3 starts."""
    model, basis, _, classes = problem(seed=seed)
    todo = starts(model, basis, classes, per_kind, np.random.default_rng(seed + 1),
                  orbit_scale, noise)
    table = {}
    with threadpool_limits(limits=1):
        for finder in finders:
            row = {k: 0 for k in ("correct", "wrong counts", "false", "flat", "not conv.")}
            row |= {"n": len(todo), "cpu_s": 0.0, "by_kind": {k: 0 for k in KINDS},
                    "wrong": []}
            for kind, theta0 in todo:
                start = time.process_time()
                found = find_critical(theta0, model.gradient, model.hessian, method=finder,
                                      hvp_fn=model.hvp, **FINDER_OPTIONS.get(finder, {}))
                row["cpu_s"] += time.process_time() - start
                outcome, counts = score(model, basis, classes, found.theta, cut)
                row[outcome] += 1
                row["by_kind"][kind] += outcome == "correct"
                if outcome in ("wrong counts", "false"):
                    row["wrong"].append({"kind": kind, "outcome": outcome, "counts": counts})
            table[finder] = row
    return table


def render(table) -> str:
    """The table as Markdown: shares in %, CPU seconds per search."""
    head = ("| finder | correct | wrong counts | false critical | gradient-flat | not converged "
            "| correct by start (perturbed/random/path) | CPU s per search |")
    lines = [head, "|" + "---|" * 8]
    for finder, row in table.items():
        n = row["n"]
        pct = {k: f"{100 * row[k] / n:.0f} %" for k in ("correct", "wrong counts", "false",
                                                        "flat", "not conv.")}
        kinds = "/".join(str(v) for v in row["by_kind"].values())
        lines.append(f"| {finder} | {pct['correct']} | {pct['wrong counts']} | {pct['false']} "
                     f"| {pct['flat']} | {pct['not conv.']} | {kinds} of {n // 3} each "
                     f"| {row['cpu_s'] / n:.3f} |")
    return "\n".join(lines)


def main(argv=None):
    parser = OneLineParser(prog="experiments.bench.dlae", description=__doc__,
                           formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--per-kind", type=int, default=30, help="starts of each kind (30)")
    parser.add_argument("--finders", nargs="+", default=list(FINDERS), choices=FINDERS)
    parser.add_argument("--cut", default="certified", choices=CUTS,
                        help="the eigenvalue cut (engine.critical.cut; default certified)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--orbit-scale", type=float, default=10.0,
                        help="Γ's singular values in [1/s, s] (10)")
    parser.add_argument("--noise", type=float, default=0.1, help="start noise σ (0.1)")
    parser.add_argument("--json", default="", help="also write the table to this file")
    args = parser.parse_args(argv)
    if args.per_kind < 1 or not args.orbit_scale >= 1 or not args.noise >= 0:
        parser.error("--per-kind ≥ 1, --orbit-scale ≥ 1 and --noise ≥ 0, please")
    if args.seed < 0:
        parser.error(f"--seed {args.seed}: give an integer ≥ 0")
    if len(set(args.finders)) != len(args.finders):
        parser.error(f"--finders {' '.join(args.finders)}: list each finder once")
    guarded(parser.prog, lambda: _run(args))


def _run(args):
    """The benchmark, its --json file checked before it starts."""
    if args.json:
        check_output_file(args.json, "--json")
    table = bench(args.per_kind, args.finders, args.cut, args.seed, args.orbit_scale,
                  args.noise)
    print(render(table))
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"args": vars(args), "table": table}, f, indent=1)


if __name__ == "__main__":
    main()
