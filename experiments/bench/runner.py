"""`make bench`: the speed tables of the README (curvature, Hessian-vector products against JAX,
training, searches for critical points), measured on this machine.

Speed is measured here and only here, never by timing asserts in tests. Each table reports medians
of repeated runs after a warm-up; compare ratios measured in one run (absolute times drift
0.9–1.4× between passes an hour apart on this kind of machine).
"""
from __future__ import annotations

from experiments.bench.cli import bench_cli


def main(argv=None):
    """`python -m experiments.bench [--repeats N] [--only TABLE] [--debug]`: print the curvature,
    HVP, training and finder tables (or the one of --only) as Markdown (experiments.bench.cli:
    bad input is one line and exit 2)."""
    bench_cli(_tables, argv, description=__doc__)


def _tables(opts):
    """Print the tables opts asks for (under engine.io.cli's contract)."""
    if opts.only in (None, "curvature"):
        from experiments.bench.curvature import bench_curvature, print_table
        print_table(bench_curvature(repeats=opts.repeats))
    if opts.only in (None, "hvp"):
        from experiments.bench.hvp import bench_hvp, print_table
        print_table(bench_hvp(repeats=opts.repeats))
    if opts.only in (None, "kernels"):
        from experiments.bench.kernels import bench_kernels, print_table
        print_table(bench_kernels(repeats=opts.repeats))
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
