"""Check minratio results by recomputing them: `python -m experiments.minratio.check DIR [DIR …]`.

Each DIR is a folder written by `python -m experiments.minratio --out DIR`: any task, loss and
weight decay λ (the deep linear autoencoder as the bias-free linear net it is). From
summary.npz's θ, x, y and summary.json's sizes, activation, loss, biases and config, every run
is recomputed from scratch by experiments.minratio.recompute, whose docstring lists the
quantities, why they are recomputed independently and their tolerances. A stored number outside
its tolerance is an internal inconsistency (exit 1). Each row of the first table gives the worst
run, the one nearest to or farthest beyond it.
Then the headline numbers, by the rule at τ: runs, critical end points, critical and not
escaping, the non-trivial saddles (n₋ > 0, L < 0.99 × the constant fit's loss, continuation
verdict "stays"), how many are distinct, their index range and loss span (decades), and the wall
time (summary.json's). The continuation (escaping, verdict) is NOT rerun: it is read from the
file. summary.json's runs, critical, critical and not escaping and non-trivial staying saddles
must equal the recomputed ones unless a run is borderline; its distinct count (its own
grouping) is shown as a note when it differs.
TARGETS are the homework run's for 100 searches (`make minratio`: sinc, MSE; another task shows
none); the table says whether they are met, and missing one is not an error (exit 0). The wall
time is that of the invocation that wrote the summary (a resumed run's is shorter). Bad input (no
folder, no summary, a damaged or incomplete file) is one line and exit 2 (engine.io.cli), before
any output; nothing is ever written. Cost: the recomputation of every run, on one BLAS thread:
~4 s per folder of 100 runs of 1-8-8-1 (measured).
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

from engine.io.cli import OneLineParser, guarded
from engine.io.results import UsageError, load_summary
from experiments.minratio.independent import model_of, n_params, trivial_loss
from experiments.minratio.recompute import (
    EIG_RTOL,
    EPS,
    GRAD_RTOL,
    LOSS_RTOL,
    NEWTON_RTOL,
    band,
    distinct,
    newton_floor,
    objective,
    recompute,
    sizes_disagree,
    stored_checks,
)
from plots.schema import Holding, check_results

PROG = "experiments.minratio.check"
# the experiment's targets for a run of 100 searches (module docstring); printed, never enforced
TARGETS = {"critical_not_escaping": 50, "distinct": 20, "index_range": (1, 10),
           "decades": 2.0, "wall_time": 120.0}
NONTRIVIAL = 0.99       # non-trivial: L < this × the constant fit's loss (independent.py)


def disagreements(points, bands, arrays, config) -> list[dict]:
    """Per checked quantity, the worst run: {'quantity', 'error', 'tolerance', 'run', 'ok'},
    error and tolerance as printable text, ok False when some run is outside its tolerance.
    A value nan on one side only is outside; nan on both sides (θ not finite) agrees."""
    rows, runs = [], range(len(points))

    def worst(quantity, tol_text, errors, tols, unit="", shown=None):
        # the run farthest outside its tolerance; when all are inside, the largest `shown`
        errors, tols = np.asarray(errors, dtype=float), np.asarray(tols, dtype=float)
        with np.errstate(all="ignore"):  # a nan tolerance (θ not finite) takes no error only
            ratios = np.where(errors == 0, 0.0, np.where(np.isnan(errors), np.inf, errors / tols))
        shown = errors if shown is None else np.asarray(shown, dtype=float)
        run = int(np.argmax(ratios) if ratios.max() > 0 else np.argmax(np.nan_to_num(shown)))
        text = f"{shown[run]:.0f}" if unit in (" eigenvalues", " labels") else f"{shown[run]:.1e}"
        rows.append({"quantity": quantity, "error": text + unit, "run": run,
                     "tolerance": tol_text, "ok": bool(np.all(ratios <= 1.0))})

    def diff(a, b):
        return 0.0 if np.isnan(a) and np.isnan(b) else abs(a - b)

    def rel(a, b):
        return diff(a, b) and diff(a, b) / max(abs(b), EPS * EPS)

    for key, attr, name in (("loss", "loss", "L vs loss"),
                            ("loss_total", "total", "L_λ vs loss_total")):
        if key in arrays:
            stored = arrays[key]
            worst(name, f"{LOSS_RTOL:.0e} relative + rounding floor",
                  [diff(getattr(points[r], attr), stored[r]) for r in runs],
                  [LOSS_RTOL * abs(stored[r]) + points[r].loss_floor for r in runs], " rel.",
                  [rel(getattr(points[r], attr), stored[r]) for r in runs])
    norms = [np.sqrt(p.grad_sq) for p in points]
    g_atol = GRAD_RTOL * np.sqrt(config["grad_sq_tol"])
    worst("‖∇L_λ‖ vs √grad_sq", f"{GRAD_RTOL:.0e}·‖∇L_λ‖ + {g_atol:.0e}",
          [diff(norms[r], np.sqrt(arrays["grad_sq"][r])) for r in runs],
          [GRAD_RTOL * g + g_atol for g in norms])
    worst("eigenvalues of ∇²L_λ vs eigenvalues", f"{EIG_RTOL:.0e}·‖H‖₂",
          [_eig_error(points[r], arrays["eigenvalues"][r]) for r in runs], EIG_RTOL, "·‖H‖₂")
    if "tau" in arrays:
        worst("τ vs tau", f"{EIG_RTOL:.0e} relative",
              [rel(points[r].tau, arrays["tau"][r]) for r in runs], EIG_RTOL, " rel.")
    stored = np.nan_to_num(arrays["n_neg"].astype(float), nan=-1.0)  # nan: no spectrum
    worst("n₋ vs n_neg", "n₋ at a threshold in τ ± δ",
          [not b.n_neg[0] <= s <= b.n_neg[1] for b, s in zip(bands, stored, strict=True)], 0.5,
          " eigenvalues", [abs(s - p.n_neg()) for p, s in zip(points, stored, strict=True)])
    if "newton_norm" in arrays:
        stored, misses, slacks = arrays["newton_norm"], [], []
        for p, b, s in zip(points, bands, stored, strict=True):
            slacks.append(NEWTON_RTOL * b.newton[1] + newton_floor(p))
            if np.isnan(s) or np.isnan(p.tau):  # nan on both sides agrees, on one does not
                misses.append(0.0 if np.isnan(s) and np.isnan(p.tau) else np.nan)
            else:
                low, high = b.newton[0] - slacks[-1], b.newton[1] + slacks[-1]
                misses.append(max(low - s, s - high, 0.0))
        worst("‖H_τ⁺∇L_λ‖ vs newton_norm", f"its range over τ ± δ, ± {NEWTON_RTOL:.0e} rel. "
              "+ ε‖H‖‖θ‖/τ", misses, [max(t, EPS * EPS) for t in slacks], "",
              [diff(p.newton(), s) for p, s in zip(points, stored, strict=True)])
    for check in stored_checks(points, bands, arrays, config):
        worst(*check)
    stored = arrays["label"] == "critical"
    tols = config["grad_sq_tol"], config["newton_tol"]
    worst("critical rule vs label", "same unless borderline",
          [(s and not b.critical[1]) or (not s and b.critical[0])
           for b, s in zip(bands, stored, strict=True)], 0.5, " labels",
          [p.critical(*tols) != s for p, s in zip(points, stored, strict=True)])
    return rows


def headline(points, bands, arrays, meta) -> dict:
    """The headline numbers recomputed from `points` (the rule at τ; verdict and escaping are
    read from the file): runs, critical, not_escaping, staying (run indices of the non-trivial
    saddles staying put), distinct (one run per distinct point), index_range (min, max n₋),
    decades (loss span), wall_time (summary.json), borderline (runs whose `bands` allow both)."""
    config, summary = meta["config"], meta["summary"]
    loss = np.array([p.loss for p in points])
    n_neg = np.array([p.n_neg() for p in points])
    crit = np.array([p.critical(config["grad_sq_tol"], config["newton_tol"]) for p in points])
    not_escaping = crit & ~(arrays["escaping"].astype(bool) | (arrays["verdict"] == "escaping"))
    trivial = trivial_loss(arrays["y"], summary.get("loss", "mse"), summary.get("bias", True))
    staying = np.flatnonzero(not_escaping & (n_neg > 0) & (loss < NONTRIVIAL * trivial)
                             & (arrays["verdict"] == "stays"))
    unique = staying[distinct(loss[staying], np.array([points[r].eigenvalues for r in staying]))]
    losses = loss[unique]
    return {"runs": len(points), "critical": int(crit.sum()),
            "not_escaping": int(not_escaping.sum()), "staying": staying, "distinct": unique,
            "index_range": (int(n_neg[unique].min()), int(n_neg[unique].max()))
            if unique.size else None,
            "decades": float(np.log10(losses.max() / losses.min()))
            if unique.size and losses.min() > 0 else None,
            "wall_time": summary.get("wall_time"),
            "borderline": [r for r, b in enumerate(bands) if b.borderline]}


def check_folder(folder, arrays, meta) -> tuple[list[str], list[str]]:
    """(lines of the two tables, failures: one text per inconsistency) for one loaded folder."""
    start, config, summary = time.perf_counter(), meta["config"], meta["summary"]
    x, y, decay = arrays["x"], arrays["y"], float(config.get("weight_decay", 0.0))
    activation, loss, bias = model_of(summary)
    fns = objective(summary["sizes"], activation, x, y, decay, loss=loss, bias=bias)
    # one BLAS thread: a 97 × 97 eigh took 0.9 ms on one, 0.1 s on two threads of a busy
    # 2-core machine (the experiment's units run on one thread too)
    with threadpool_limits(limits=1):
        points = [recompute(theta, fns, rtol=float(config["rtol"]), decay=decay)
                  for theta in arrays["theta"]]
    bands = [band(p, stored, config) for p, stored in zip(points, arrays["eigenvalues"],
                                                          strict=True)]
    rows = disagreements(points, bands, arrays, config)
    head = headline(points, bands, arrays, meta)
    sizes = "-".join(map(str, summary["sizes"]))
    lines = [f"{folder}: {head['runs']} runs of {sizes} {summary['activation']}, λ = {decay:g}; "
             f"recomputed (autograd + numpy eigh) in {time.perf_counter() - start:.1f} s",
             *_table(["check", "largest disagreement", "run", "tolerance", "ok"],
                     [[r["quantity"], r["error"], r["run"], r["tolerance"],
                       "yes" if r["ok"] else "NO"] for r in rows])]
    failures = [f"{folder} run {r['run']}: {r['quantity']} disagrees by {r['error']} "
                f"(tolerance {r['tolerance']})" for r in rows if not r["ok"]]
    failures += [f"{folder}: {text}" for text in [sizes_disagree(summary, config)] if text]
    low, high = TARGETS["index_range"]
    span, decades, wall = head["index_range"], head["decades"], head["wall_time"]
    table = [
        ["runs", head["runs"], "—", "—"],
        ["critical end points", head["critical"], "—", "—"],
        ["critical, not escaping (continuation read from the file)", head["not_escaping"],
         f"≥ {TARGETS['critical_not_escaping']}",
         head["not_escaping"] >= TARGETS["critical_not_escaping"]],
        ["non-trivial saddles staying put", len(head["staying"]), "—", "—"],
        ["… distinct", len(head["distinct"]), f"≥ {TARGETS['distinct']}",
         len(head["distinct"]) >= TARGETS["distinct"]],
        ["… their index range n₋", "—" if span is None else f"{span[0]}…{span[1]}",
         f"covers {low}…{high}", span is not None and span[0] <= low and span[1] >= high],
        ["… their loss span (decades)", "—" if decades is None else f"{decades:.2f}",
         f"≥ {TARGETS['decades']:g}", decades is not None and decades >= TARGETS["decades"]],
        ["wall time of the run (s)", "—" if wall is None else f"{wall:.1f}",
         f"≤ {TARGETS['wall_time']:g}", wall is not None and wall <= TARGETS["wall_time"]]]
    # the targets are the homework run's (sinc, MSE); another task has none
    homework = config.get("task", "sinc") == "sinc" and model_of(summary)[1] == "mse"
    lines += _table(["quantity", "recomputed", "target", "met"],
                    [[q, v, t, m if isinstance(m, str) else ("yes" if m else "no")]
                     if homework else [q, v, "—", "—"] for q, v, t, m in table])
    if summary.get("runs_computed", head["runs"]) < head["runs"]:
        lines.append(f"note: the wall time is that of the last invocation, which computed "
                     f"{summary['runs_computed']} of {head['runs']} runs (the rest resumed)")
    lines.append("borderline runs (the rule or n₋ within tolerance of a threshold): "
                 f"{', '.join(map(str, head['borderline'])) or 'none'}")
    saddles, counts = summary.get("saddles", {}), summary.get("counts")
    stored = {"runs": sum(counts.values()) if isinstance(counts, dict) else None,
              "critical": (counts or {}).get("critical"),
              "not_escaping": summary.get("critical_not_escaping"),
              "staying": saddles.get("nontrivial_staying")}
    mine = {k: len(head[k]) if k == "staying" else head[k] for k in stored}
    for key in stored:
        if stored[key] is not None and stored[key] != mine[key]:
            text = f"{folder}: summary.json says {key} = {stored[key]}, recomputed {mine[key]}"
            (lines.append(f"note: {text} (borderline runs)") if head["borderline"]
             else failures.append(text))
    if saddles.get("distinct") not in (None, len(head["distinct"])):
        lines.append(f"note: summary.json counts {saddles['distinct']} distinct saddles "
                     "(its own grouping, the stored spectra)")
    return lines, failures


def load(folder) -> tuple[dict, dict]:
    """(arrays, meta) of a minratio results folder, checked for what the recomputation needs;
    UsageError (one line: what, where, what to do) otherwise."""
    folder = Path(folder)
    redo = f"run python -m experiments.minratio --out {folder} again"
    if not folder.is_dir():
        raise UsageError(f"{folder} {'is a file' if folder.exists() else 'does not exist'}; "
                         "give a folder written by python -m experiments.minratio --out DIR")
    arrays, meta = load_summary(folder, "minratio")
    config, summary = meta["config"], meta["summary"]
    absent = [k for k in ("rtol", "grad_sq_tol", "newton_tol") if k not in config] + [
        k for k in ("sizes", "activation") if k not in summary]  # the arrays: check_results's
    if absent:
        raise UsageError(f"{folder}/summary.json lacks {absent}; {redo}")
    try:  # below, sizes[0] and sizes[-1] are the widths of x and y
        if len(summary["sizes"]) < 2:
            raise ValueError("a network has two or more layer widths")
        n = n_params(tuple(summary["sizes"]), model_of(summary)[2])
    except (TypeError, ValueError) as err:
        raise UsageError(f"{folder}/summary.json: sizes {summary['sizes']!r}: {err}") from None
    check_results(folder, "minratio", meta, arrays, {"arrays": {"theta": 2, "x": 2}})
    runs = len(arrays["theta"])
    if runs == 0:
        raise UsageError(f"{folder}/summary.npz holds no runs; {redo}")
    n_samples, (d_in, d_out) = len(arrays["x"]), (summary["sizes"][0], summary["sizes"][-1])
    # each of the wrong shape or dtype (strings for numbers, a mask of floats) in one line
    check_results(folder, "minratio", meta, arrays, {"arrays": {
        "theta": (runs, n), "eigenvalues": (runs, n), "x": (n_samples, d_in), "y": (
            n_samples, d_out), **dict.fromkeys(("loss", "grad_sq", "n_neg"), (runs,)),
        "label": Holding("text", (runs,)), "verdict": Holding("text", (runs,)),
        "escaping": Holding("booleans", (runs,))}})
    activation, loss, _ = model_of(summary)
    objective(summary["sizes"], activation, arrays["x"], arrays["y"], 0.0, loss=loss)
    return arrays, meta


def main(argv=None):
    """`python -m experiments.minratio.check DIR [DIR …]`: the tables on stdout; exit 0 when
    every stored number agrees, 1 (one line naming the run) when one does not, 2 on bad input."""
    parser = OneLineParser(prog=PROG, description=__doc__.split("\n")[0],
                           formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("folders", nargs="+", type=Path, metavar="DIR",
                        help="minratio results folders (summary.npz, summary.json)")
    parser.add_argument("--debug", action="store_true", help="show tracebacks")
    args = parser.parse_args(argv)

    def action():
        loaded = [(folder, *load(folder)) for folder in args.folders]  # every check first
        failures = []
        for i, (folder, arrays, meta) in enumerate(loaded):
            lines, failed = check_folder(folder, arrays, meta)
            print(("\n" if i else "") + "\n".join(lines), flush=True)
            failures += failed
        if failures:
            more = f" (and {len(failures) - 1} more, see the tables)" if len(failures) > 1 else ""
            print(f"{PROG}: inconsistent: {failures[0]}{more}; the stored numbers do not "
                  "follow from the stored θ: recompute them with python -m experiments.minratio "
                  "--out NEW_DIR", file=sys.stderr)
            sys.exit(1)

    guarded(PROG, action, debug=args.debug)


def _eig_error(point, stored):
    if np.all(np.isnan(stored)) and np.isnan(point.h_norm):
        return 0.0
    return float(np.max(np.abs(point.eigenvalues - stored))) / point.h_norm


def _table(header, rows):
    rows = [header] + [[str(c) for c in row] for row in rows]
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    return ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip()
            for row in rows]


if __name__ == "__main__":
    main(sys.argv[1:])
