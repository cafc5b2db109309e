"""The README's measured minratio table, written from the results: `python -m
experiments.minratio.readme_table RESULTS [--readme README.md]` (run by `make docs`).

It reads RESULTS/minratio and RESULTS/minratio_wd (those present; each a finished summary of
`python -m experiments.minratio`) and rewrites the block of README.md between the lines
`<!-- measured:minratio -->` and `<!-- /measured -->`: one table row per run, every number read
from summary.json, and below it the versions (losslab and its commit, numpy, scipy, Python) that
produced them — so the table cannot drift from what the code gives on the versions it names.
Bad input (no such folder, a damaged summary, a README without the markers) is one line, exit 2,
and the README is left as it was.
"""
from __future__ import annotations

import sys
from pathlib import Path

from engine.io.cli import OneLineParser, guarded
from engine.io.results import UsageError
from experiments.harness.readme import commit_label, rewrite_block
from plots.schema import NONE, NUM, load_results

PROG = "experiments.minratio.readme_table"
BEGIN, END = "<!-- measured:minratio -->", "<!-- /measured -->"
RUNS = (("minratio", "MSE (`make minratio`)"), ("minratio_wd", "λ = {wd:g} (`make minratio_wd`)"))
HEADER = ("| run | passed the critical test (staying; the rest drifted or escaped) | "
          "gradient-flat | not conv. | non-trivial staying saddles, distinct | their index n₋ | "
          "their MSE | index–loss ρ (95 %) | wall time |\n"
          "|---|---|---|---|---|---|---|---|---|")

# what `row` reads of summary.json (plots.schema's specs): a damaged or foreign file is bad
# input, while a KeyError of the row's own code stays a bug
_RANGE = ({"min": NUM, "max": NUM, "decades": NUM}, NONE)
ROW_SCHEMA = {
    "config": {"weight_decay?": NUM},
    "summary": {"counts": {"critical": int, "gradient-flat": int, "not-converged": int},
                "verdicts": {"escaping": int, "stays": int},
                "saddles": {"distinct": int, "reducible": int, "index_range": ([int], NONE),
                            "loss_range": _RANGE},
                "index_loss_fit": {"spearman": ({"rho": NUM, "low": NUM, "high": NUM}, NONE)},
                "wall_time": NUM},
}


def row(name: str, summary: dict, config: dict) -> str:
    """One table row from a minratio summary.json's `summary` and `config`."""
    counts, verdicts, saddles = summary["counts"], summary["verdicts"], summary["saddles"]
    escaping = verdicts["escaping"]
    critical = (f"{counts['critical']} ({verdicts['stays']}), "
                + ("none escaping" if escaping == 0 else f"{escaping} escaping"))
    distinct = saddles["distinct"]
    if distinct:
        reducible = saddles["reducible"]
        distinct = f"{distinct}, " + ("all reducible" if reducible == distinct
                                      else f"{reducible} reducible")
    index = "{} … {}".format(*saddles["index_range"]) if saddles["index_range"] else "—"
    span = saddles["loss_range"]
    mse = (f"{span['min']:.1e} … {span['max']:.1e} ({span['decades']:.1f} decades)"
           if span else "—")
    rho = summary["index_loss_fit"]["spearman"]
    rho = f"{rho['rho']:.2f} ({rho['low']:.2f} … {rho['high']:.2f})" if rho else "—"
    label = dict(RUNS)[name].format(wd=config.get("weight_decay", 0.0))
    return (f"| {label} | {critical} | {counts['gradient-flat']} | {counts['not-converged']} | "
            f"{distinct} | {index} | {mse} | {rho} | {summary['wall_time']:.0f} s |")


def block(results: Path) -> str:
    """The markdown between the markers: the table and the versions that produced it."""
    rows, made_by = [], []
    for name, _ in RUNS:
        folder = results / name
        if not (folder / "summary.json").exists():
            continue
        # what `row` reads, checked before the row is made (plots.schema)
        _, meta = load_results(folder, "minratio", ROW_SCHEMA)
        rows.append(row(name, meta["summary"], meta["config"]))
        v = meta.get("versions") or {}
        made_by.append(f"{name}: losslab {v.get('losslab', '?')} (commit "
                       f"{commit_label(v.get('commit'))}), numpy {v.get('numpy', '?')}, "
                       f"scipy {v.get('scipy', '?')}, Python {v.get('python', '?')}, "
                       f"{meta['config'].get('runs', '?')} runs")
    if not rows:
        raise UsageError(f"{results} holds neither minratio nor minratio_wd results; run `make "
                         "minratio minratio_wd` first")
    return "\n".join([HEADER, *rows, "", "Written by `make docs` from the results of "
                      + "; ".join(made_by) + "."])


def rewrite(readme: Path, text: str) -> Path:
    """readme with the block between BEGIN and END replaced by text (atomically)."""
    return rewrite_block(readme, BEGIN, END, text)


def main(argv=None):
    """`python -m experiments.minratio.readme_table RESULTS [--readme README.md]`."""
    parser = OneLineParser(prog=PROG, description=__doc__.split("\n\n")[0])
    parser.add_argument("results", type=Path, help="the folder holding minratio/ (and "
                                                   "minratio_wd/)")
    parser.add_argument("--readme", type=Path, default=Path("README.md"),
                        help="the file whose measured block is rewritten (default: README.md)")
    parser.add_argument("--debug", action="store_true", help="show tracebacks")
    args = parser.parse_args(argv)
    guarded(PROG, lambda: print(rewrite(args.readme, block(args.results))), debug=args.debug)


if __name__ == "__main__":
    main(sys.argv[1:])
