"""The README's census section and gallery copy, written from the results: `python -m
experiments.census.readme RESULTS [--figures DIR] [--readme README.md] [--gallery docs]` (run by
`make docs` when RESULTS/census exists).

It reads RESULTS/census/summary.json (a finished summary of `python -m experiments.census`),
rewrites the block of README.md between the lines `<!-- measured:census -->` and
`<!-- /measured:census -->` — what the figure shows, every number read from the summary, and the
versions that produced them — and writes the small PNG copy of FIGURES/census.png into the
gallery folder (experiments.report.pdf.gallery). Bad input (no such folder, a damaged summary, a
README without the markers, a missing figure) is one line, exit 2, and nothing is written.
"""
from __future__ import annotations

import sys
from pathlib import Path

from engine.io.cli import OneLineParser, guarded
from engine.io.folders import check_output_folder
from engine.io.results import UsageError
from experiments.harness.readme import commit_label, rewrite_block
from experiments.report.pdf import check_images, gallery
from plots.schema import NONE, NUM, Each, load_results

PROG = "experiments.census.readme"
# what `block` reads of summary.json, checked before a line is written (plots.schema's specs): a
# damaged or foreign file is bad input, while a KeyError of the text's own code stays a bug
_RANGE = ({"min": NUM, "max": NUM, "decades": NUM}, NONE)
_INTERVAL = {"low": NUM, "high": NUM}
_STARTS = {"runs": int, "critical": int}
README_SCHEMA = {
    "config": {"weight_decay": NUM, "max_hvp": int, "switch_min": int, "switch_max": int,
               "embed_max": int, "embed_switch_min": int, "embed_switch_max": int,
               "embed_noise": NUM, "grad_sq_tol": NUM, "newton_tol": NUM, "runs": int},
    "summary": {
        "census": {"fit": {"spearman": ({"rho": NUM, **_INTERVAL}, NONE),
                           "slope": ({"per_decade": NUM, **_INTERVAL}, NONE)},
                   "loss_range": _RANGE, "error_range": _RANGE,
                   "by_start": {"trained": _STARTS, "embedded": _STARTS},
                   "settled": int, "distinct": int, "exact": int, "saddles": int, "minima": int,
                   "index_range": ([int], NONE)},
        "counts": {"critical": int, "gradient-flat": int, "not-converged": int},
        "time": {"cpu_sum": NUM, "cpu_median": NUM, "search_median": NUM},
        "verdicts": {"escaping": int, "drifted": int},
        "end_points": {"n": int, "median_grad_sq": NUM, "grad_sq_passed": int,
                       "median_newton_norm": NUM, "index_range": ([int], NONE),
                       "loss_range": _RANGE, "spearman": ({"rho": NUM, **_INTERVAL}, NONE)},
        "finder": {"status_counts": Each(int)},
        "n_samples": int, "sizes": [int], "activation": str, "n_params": int, "runs?": list},
}
BEGIN, END = "<!-- measured:census -->", "<!-- /measured:census -->"


def block(results: Path) -> str:
    """The README text of the census in RESULTS/census, every number from its summary.json."""
    folder = Path(results) / "census"
    if not (folder / "summary.json").is_file():
        raise UsageError(f"{folder}: no finished census (summary.json); run `make census` first")
    # what the text reads, checked before a line is written (plots.schema)
    _, meta = load_results(folder, "census", README_SCHEMA)
    s, config = meta["summary"], meta["config"]
    c, counts, t = s["census"], s["counts"], s["time"]
    rho, slope = c["fit"]["spearman"], c["fit"]["slope"]
    runs = len(s["runs"]) if "runs" in s else config["runs"]
    loss, error = c["loss_range"], c["error_range"]
    starts = c["by_start"]
    lines = [
        f"{runs} searches on all {s['n_samples']} images of digits 8×8 with a "
        f"{'-'.join(map(str, s['sizes']))} {s['activation']} net ({s['n_params']:,} "
        f"parameters), MSE + (λ/2)‖θ‖² with λ = {config['weight_decay']:g}, Newton-MR on "
        f"HVPs with a budget of {config['max_hvp']:,} products. "
        f"{starts['trained']['runs']} start from the net trained for a log-uniform number "
        f"of L-BFGS steps in [{config['switch_min']}, {config['switch_max']}], "
        f"{starts['embedded']['runs']} from the critical point of a net with k = 1 … "
        f"{config['embed_max']} hidden units (trained for a log-uniform number of L-BFGS "
        f"steps in [{config['embed_switch_min']}, {config['embed_switch_max']}], then "
        "Newton-MR with eigh steps) embedded with zero units and perturbed by "
        f"noise of σ = {config['embed_noise']:g} per parameter: {counts['critical']} ended "
        f"critical (‖∇L‖² ≤ {config['grad_sq_tol']:g} and a Newton step ≤ "
        f"{config['newton_tol']:g}; {starts['trained']['critical']} of the path starts, "
        f"{starts['embedded']['critical']} of the embedded ones), "
        f"{counts['gradient-flat']} gradient-flat, "
        f"{counts['not-converged']} not converged. Of the critical points, "
        f"{c['settled']} stay put under continuation ({s['verdicts']['escaping']} escaping, "
        f"{s['verdicts']['drifted']} drifting), {c['distinct']} of them distinct (index and "
        f"loss); their index comes from the LDLᵀ inertia at ±τ (exact for {c['exact']} of "
        f"{counts['critical']}), no eigh.",
        "",
        "| settled critical points (distinct) | saddles | minima | index n₋ | training error "
        "ε (misclassified) | training MSE | ρ(MSE, α) (95 %) | α per decade of MSE (95 %) | "
        "CPU (sum, median per search) |",
        "|---|---|---|---|---|---|---|---|---|",
        "| {} ({}) | {} | {} | {} | {} | {} | {} | {} | {:.0f} s, {:.1f} s |".format(
            c["settled"], c["distinct"], c["saddles"], c["minima"],
            "{} … {}".format(*c["index_range"]) if c["index_range"] else "—",
            _span(error, "{:.1%}"), _span(loss, "{:.3g}"),
            f"{rho['rho']:.2f} ({rho['low']:.2f} … {rho['high']:.2f})" if rho else "—",
            f"{slope['per_decade']:.3g} ({slope['low']:.3g} … {slope['high']:.3g})"
            if slope else "—", t["cpu_sum"], t["cpu_median"]),
    ]
    e = s["end_points"]
    ends = e["spearman"]
    lines += [
        "",
        f"Where the searches stopped (all {e['n']} end points, critical or not): median "
        f"‖∇L‖² {e['median_grad_sq']:.2g} ({e['grad_sq_passed']} at ≤ "
        f"{config['grad_sq_tol']:g}), median Newton step ‖H_τ⁺∇L‖ "
        f"{e['median_newton_norm']:.2g} (critical needs ≤ {config['newton_tol']:g}); index "
        + ("{} … {}".format(*e["index_range"]) if e["index_range"] else "—")
        + f" over MSE {_span(e['loss_range'], '{:.3g}')}"
        + (f", ρ(MSE, α) = {ends['rho']:.2f} ({ends['low']:.2f} … {ends['high']:.2f})"
           if ends else "")
        + f". Per search (median): {t['cpu_median']:.1f} s of CPU in all, the search "
        f"{t['search_median']:.1f} s of wall time; the finder's stops: "
        + ", ".join(f"{k} {v}" for k, v in s["finder"]["status_counts"].items()) + ".",
        "",
        _aim(c, t, runs),
    ]
    v = meta.get("versions") or {}
    lines += ["", f"Written by `make docs` from the results of losslab {v.get('losslab', '?')} "
              f"(commit {commit_label(v.get('commit'))}), numpy {v.get('numpy', '?')}, "
              f"scipy {v.get('scipy', '?')}, Python {v.get('python', '?')}."]
    return "\n".join(lines)


def _aim(census, times, runs) -> str:
    """Issue 23's aim, judged by its rule on the saved numbers: ≥ 30 distinct settled critical
    points (one found twice counts once) of 100 searches spanning ≥ 1 decade of training error ε
    (the misclassified share: Dauphin et al.'s ε is the error rate), in ≤ 10 min on 2 cores
    (CPU seconds / 2)."""
    decades = census["error_range"]["decades"] if census["error_range"] else 0.0
    minutes = times["cpu_sum"] / 2 / 60
    met = census["distinct"] >= 30 and decades >= 1.0 and minutes <= 10.0 and runs >= 100
    return (f"The aim (≥ 30 distinct settled critical points of 100 searches over ≥ 1 decade of "
            f"the training error ε, ≤ 10 min on 2 cores) is {'met' if met else 'missed'}: "
            f"{census['distinct']} distinct points ({census['settled']} settled) over "
            f"{decades:.2f} decades of ε from {runs} searches, {minutes:.1f} min of CPU on 2 "
            "cores.")


def _span(span, fmt):
    if not span:
        return "—"
    return f"{fmt.format(span['min'])} … {fmt.format(span['max'])} ({span['decades']:.2f} decades)"


def rewrite(readme: Path, text: str) -> Path:
    """readme with the block between BEGIN and END replaced by text (atomically)."""
    return rewrite_block(readme, BEGIN, END, text)


def main(argv=None):
    """`python -m experiments.census.readme RESULTS [--figures DIR] [--readme README.md]
    [--gallery DIR]`."""
    parser = OneLineParser(prog=PROG, description=__doc__.split("\n\n")[0])
    parser.add_argument("results", type=Path, help="the folder holding census/")
    parser.add_argument("--figures", type=Path, default=Path("figures"),
                        help="the folder holding census.png (default: figures)")
    parser.add_argument("--readme", type=Path, default=Path("README.md"),
                        help="the file whose census block is rewritten (default: README.md)")
    # a str, not a Path: Path("") is ".", and an empty --gallery must be refused, not the cwd
    parser.add_argument("--gallery", default=None,
                        help="write the small copy of census.png here (e.g. docs)")
    parser.add_argument("--debug", action="store_true", help="show tracebacks")
    args = parser.parse_args(argv)

    def action():
        text = block(args.results)
        if args.gallery is not None:  # checked before the README is touched
            args.gallery = check_output_folder(args.gallery, "--gallery")
            figure = args.figures / "census.png"
            if not figure.is_file():
                raise UsageError(f"{figure} is missing: run `make census` before `make docs`")
            check_images([figure])
        print(rewrite(args.readme, text))
        if args.gallery is not None:
            print(*gallery(args.figures, ["census"], args.gallery), sep="\n")

    guarded(PROG, action, debug=args.debug)


if __name__ == "__main__":
    main(sys.argv[1:])
