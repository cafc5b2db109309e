"""Shared figure plumbing: the Agg backend, atomic PNG + PDF output, `python -m plots.<name>`.

A render function has the signature
`render(results_dir, figures_dir=Path("figures")) -> list[Path]`: it reads only the saved files
(experiments.common.load_summary) and returns the paths it wrote.
Plot functions take arrays and return a Figure (object API, no pyplot state kept).
"""
from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only; no display on the machines this runs on

import matplotlib.pyplot as plt  # noqa: E402

RUN_COLOURS = plt.get_cmap("tab10").colors
# how a dataset name of the results files is written in figure titles
DATA_NAMES = {"sinc": "sin(5πx)/(5πx)", "digits": "scikit-learn digits (8×8)", "mnist": "MNIST",
              "cifar10": "CIFAR-10"}


def data_name(name: str) -> str:
    return DATA_NAMES.get(name, name)


def save_figure(fig, figures_dir, name: str, dpi: int = 150) -> list[Path]:
    """Write fig as figures_dir/name.png and .pdf (each atomically) and close it."""
    figures_dir = Path(figures_dir)
    figures_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for ext in ("png", "pdf"):
        path = figures_dir / f"{name}.{ext}"
        fd, tmp = tempfile.mkstemp(dir=figures_dir, prefix=f".{name}.", suffix=f".{ext}")
        os.close(fd)
        try:
            fig.savefig(tmp, format=ext, dpi=dpi, bbox_inches="tight")
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        paths.append(path)
    plt.close(fig)
    return paths


def plot_main(render, argv=None, prog="plots"):
    """`python -m plots.<name> RESULTS_DIR [--figures DIR]`: re-render figures from saved
    results."""
    import argparse

    parser = argparse.ArgumentParser(prog=prog, description=render.__doc__)
    parser.add_argument("results_dir", type=Path, help="a folder written by the experiment")
    parser.add_argument("--figures", type=Path, default=Path("figures"),
                        help="where figures are written (default: %(default)s)")
    opts = parser.parse_args(argv)
    try:
        for path in render(opts.results_dir, figures_dir=opts.figures):
            print(path)
    except (ValueError, OSError) as err:
        if os.environ.get("LOSSLAB_DEBUG"):
            raise
        print(f"{prog}: error: {err}", file=sys.stderr)
        sys.exit(2)  # argparse's code for bad input; sys.exit(text) would give 1
