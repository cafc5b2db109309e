"""`make bench`: the speed tables of the README (curvature, Hessian-vector products against JAX,
training, searches for critical points), measured on this machine.

Speed is measured here and only here, never by timing asserts in tests. Each table reports medians
of repeated runs after a warm-up; compare ratios measured in one run (absolute times drift
0.9–1.4× between passes an hour apart on this kind of machine).
"""
from __future__ import annotations

from engine.io.cli import OneLineParser, guarded

TABLES = ("curvature", "hvp", "spectra", "training", "finders", "trace", "routes", "peers")
# tables with counts of their own (seeds, repeats, one pass): their modules have no --repeats
_OWN_COUNTS = ("trace", "routes", "finders")


def main(argv=None, only=None):
    """`python -m experiments.bench [--repeats N] [--only TABLE] [--debug]`: print the curvature,
    HVP, training and finder tables (or the one of --only) as Markdown; `only` is the table of
    `python -m experiments.bench.<table> [--repeats N] [--debug]`, which has no --only. Bad
    input (a flag, --repeats < 1) is one line and exit 2 (engine.io.cli)."""
    parser = OneLineParser(prog="experiments.bench" + (f".{only}" if only else ""),
                           description=__doc__)
    if only not in _OWN_COUNTS:
        parser.add_argument("--repeats", type=int, default=5,
                            help="timed repeats per case of the curvature, hvp, spectra, training "
                                 "and peers tables (default: 5; trace takes 30 seeds, routes 3 "
                                 "repeats, finders one pass)")
    if only is None:
        parser.add_argument("--only", choices=list(TABLES), help="run one table only")
    parser.add_argument("--debug", action="store_true",
                        help="show an internal error's traceback, not a one-line message")
    opts = parser.parse_args(argv)
    opts.only = opts.only if only is None else only
    opts.repeats = getattr(opts, "repeats", 5)
    if opts.repeats < 1:
        parser.error(f"--repeats {opts.repeats}: give at least 1")
    guarded(parser.prog, lambda: _tables(opts), debug=opts.debug)


def _tables(opts):
    """Print the tables opts asks for (under engine.io.cli's contract)."""
    if opts.only in (None, "curvature"):
        from experiments.bench.curvature import bench_curvature, print_table
        print_table(bench_curvature(repeats=opts.repeats))
    if opts.only in (None, "hvp"):
        from experiments.bench.hvp import bench_hvp, print_table
        print_table(bench_hvp(repeats=opts.repeats))
    if opts.only in (None, "spectra"):
        from experiments.bench.spectra import bench_spectra, print_table
        print_table(bench_spectra(repeats=opts.repeats))
    if opts.only in (None, "training"):
        from experiments.bench.training import bench_training, print_table
        print_table(bench_training(repeats=opts.repeats))
    if opts.only in (None, "trace"):
        from experiments.bench.trace import bench_trace, print_table
        print_table(bench_trace())
    if opts.only in (None, "routes"):
        from experiments.bench.routes import bench_routes, print_table
        print_table(bench_routes())
    if opts.only in (None, "peers"):  # PyHessian, hessian-eigenthings: when importable
        from experiments.bench.peers import bench_peers, print_table
        print_table(bench_peers(repeats=opts.repeats))
    if opts.only in (None, "finders"):  # one pass: searches are deterministic
        from experiments.bench.finders import bench_finders, print_table
        print_table(bench_finders())
