"""Shared figure plumbing: atomic PNG + PDF output and `python -m plots.<name> RESULTS_DIR`.

A render function has the signature
`render(results_dir, figures_dir=Path("figures")) -> list[Path]`: it reads only the saved files
(engine.io.results.load_summary) and returns the paths it wrote.
Plot functions take arrays and return a Figure (object API, no pyplot state kept); figures are
drawn off-screen by the Agg canvas, chosen here where they are saved, never on import.
"""
from __future__ import annotations

import io
from pathlib import Path

import matplotlib.pyplot as plt
from matplotlib.backends.backend_agg import FigureCanvasAgg

from engine.io.cli import OneLineParser, guarded
from engine.io.results import atomic_write

RUN_COLOURS = plt.get_cmap("tab10").colors
# how a dataset name of the results files is written in figure titles
DATA_NAMES = {"sinc": "sin(5πx)/(5πx)", "digits": "scikit-learn digits (8×8)", "mnist": "MNIST",
              "cifar10": "CIFAR-10"}


def data_name(name: str) -> str:
    """How a dataset name of the results files is written in titles ('mnist' → 'MNIST');
    an unknown name as it is."""
    return DATA_NAMES.get(name, name)


def save_figure(fig, figures_dir, name: str, dpi: int = 150) -> list[Path]:
    """Write fig as figures_dir/name.png and .pdf (each atomically) and close it."""
    FigureCanvasAgg(fig)  # off-screen: no display on the machines this runs on
    paths = []
    for ext in ("png", "pdf"):
        buffer = io.BytesIO()
        fig.savefig(buffer, format=ext, dpi=dpi, bbox_inches="tight")
        paths.append(atomic_write(Path(figures_dir) / f"{name}.{ext}", buffer.getvalue()))
    plt.close(fig)
    return paths


def plot_main(render, argv=None, prog="plots"):
    """`python -m plots.<name> RESULTS_DIR [--figures DIR]`: re-render figures from saved
    results, under engine.io.cli's contract (bad input: one line, exit 2)."""
    parser = OneLineParser(prog=prog, description=render.__doc__)
    parser.add_argument("results_dir", type=Path, help="a folder written by the experiment")
    parser.add_argument("--figures", type=Path, default=Path("figures"),
                        help="where figures are written (default: %(default)s)")
    parser.add_argument("--debug", action="store_true",
                        help="show the traceback of an internal error")
    opts = parser.parse_args(argv)

    def action():
        for path in render(opts.results_dir, figures_dir=opts.figures):
            print(path)

    guarded(prog, action, debug=opts.debug)
