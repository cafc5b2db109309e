"""The command line of the bench tables: one parser and one contract (engine.io.cli: bad input is
one line and exit 2, an internal failure a line naming its log) for `python -m experiments.bench`
and for each table's own module, `python -m experiments.bench.<table>`. Its own module so that the
tables need not import the runner, which imports them."""
from __future__ import annotations

from engine.io.cli import OneLineParser, guarded

TABLES = ("curvature", "hvp", "kernels", "spectra", "training", "finders", "trace", "routes",
          "peers")
# tables with counts of their own (seeds, repeats, one pass): their modules have no --repeats
OWN_COUNTS = ("trace", "routes", "finders")


def bench_cli(tables, argv=None, only=None, description=None):
    """Parse `[--repeats N] [--only TABLE] [--debug]` (no --only when `only` names the table of
    the module run, no --repeats for OWN_COUNTS), then run tables(opts) under guarded: opts has
    repeats (5 unless given), only (None: every table) and debug."""
    parser = OneLineParser(prog="experiments.bench" + (f".{only}" if only else ""),
                           description=description)
    if only not in OWN_COUNTS:
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
    guarded(parser.prog, lambda: tables(opts), debug=opts.debug)
