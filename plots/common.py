"""Shared figure plumbing: figures at their print size with legible text, atomic PNG + PDF
output, and `python -m plots.<name> RESULTS_DIR`.

A render function has the signature
`render(results_dir, figures_dir=Path("figures")) -> list[Path]`: it reads only the saved files
(engine.io.results.load_summary) and returns the paths it wrote.
Plot functions take arrays and return a Figure (object API, no pyplot state kept); figures are
drawn off-screen by the Agg canvas, chosen here where they are saved, never on import.
"""
from __future__ import annotations

import io
import textwrap
from pathlib import Path

import matplotlib.pyplot as plt
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.layout_engine import ConstrainedLayoutEngine

from engine.io.cli import OneLineParser, guarded
from engine.io.results import atomic_write

RUN_COLOURS = plt.get_cmap("tab10").colors
# how a dataset name of the results files is written in figure titles: scikit-learn's 8×8 digits
# is "digits 8×8", never MNIST
DATA_NAMES = {"sinc": "sin(5πx)/(5πx)", "digits": "digits 8×8", "mnist": "MNIST",
              "cifar10": "CIFAR-10"}
CM = 1 / 2.54            # inches per centimetre
FULL_WIDTH = 16.0        # cm: a figure printed at the text width
HALF_WIDTH = 7.8         # cm: a figure printed two to a row
MIN_PT, MAX_PT = 7.0, 9.0  # every text of a printed figure: no smaller (legible), no larger
TICK_PT = 7.5
DPI = 300                # the PNG of report.md and the gallery (report.pdf draws the vector PDF)


def data_name(name: str) -> str:
    """How a dataset name of the results files is written in titles ('digits' → 'digits 8×8',
    'mnist' → 'MNIST'); an unknown name as it is."""
    return DATA_NAMES.get(name, name)


def print_size(fig, width: str | None = None) -> tuple[float, float]:
    """Set fig to the size it is printed at and return (width, height) in cm: FULL_WIDTH cm for
    `width='full'`, HALF_WIDTH cm for 'half'; None picks full for a figure drawn wider than 19 cm
    (a row of panels), else half. The height scales with the width (× 1.3: texts of ≥ MIN_PT
    take relatively more room on a smaller page), at most 0.9 × the width for half, 14 cm full."""
    w, h = fig.get_size_inches() / CM
    if width is None:
        width = "full" if w > 19 else "half"
    target = {"full": FULL_WIDTH, "half": HALF_WIDTH}[width]
    height = min(h * target / w * 1.3, 14.0 if width == "full" else 0.9 * target)
    if abs(w - target) > 0.05:
        fig.set_size_inches(target * CM, height * CM)
    return fig.get_size_inches()[0] / CM, fig.get_size_inches()[1] / CM


def legible(fig) -> float:
    """Clip every text of fig (titles, labels, tick labels, legends, annotations) into
    [MIN_PT, MAX_PT] points and return the smallest size of a visible text after it."""
    for ax in fig.axes:  # tick labels are made at draw time: set their size, not the Texts'
        ax.tick_params(which="both", labelsize=TICK_PT)
    sizes = []
    for text in fig.findobj(lambda a: hasattr(a, "get_fontsize") and hasattr(a, "get_text")):
        text.set_fontsize(min(max(text.get_fontsize(), MIN_PT), MAX_PT))
        if text.get_visible() and text.get_text().strip():
            sizes.append(text.get_fontsize())
    return min(sizes, default=MIN_PT)


def wrap_titles(fig) -> int:
    """Wrap the figure's suptitle and every axes title to the width they have at print size
    (DejaVu Sans averages ≈ 0.55 em per character), so no title is clipped at the figure's
    edge; returns the number of titles rewrapped. Call after print_size and legible."""
    width_pt = fig.get_size_inches()[0] * 72
    texts = [(fig._suptitle, width_pt)] if fig._suptitle is not None else []
    texts += [(ax.title, ax.get_position().width * width_pt) for ax in fig.axes]
    wrapped = 0
    for text, room in texts:
        chars = max(10, int(room / (0.55 * text.get_fontsize())))
        lines = text.get_text().split("\n")
        new = "\n".join(textwrap.fill(line, chars) if line else line for line in lines)
        if new != text.get_text():
            text.set_text(new)
            wrapped += 1
    return wrapped


def save_figure(fig, figures_dir, name: str, dpi: int = DPI, width: str | None = None
                ) -> list[Path]:
    """Write fig as figures_dir/name.png (at `dpi`) and .pdf (vector), each atomically, at its
    print size (print_size, `width` 'full' | 'half' | None) with every text in [MIN_PT, MAX_PT]
    pt (legible), titles wrapped to their width (wrap_titles), laid out by matplotlib's
    constrained layout; then close it."""
    FigureCanvasAgg(fig)  # off-screen: no display on the machines this runs on
    print_size(fig, width)
    legible(fig)
    if fig.get_layout_engine() is None:  # a figure laid out and frozen by its plot keeps it
        fig.set_layout_engine("constrained")  # the exact print size: no bbox_inches="tight"
    if isinstance(fig.get_layout_engine(), ConstrainedLayoutEngine):
        wrap_titles(fig)  # only where the layout makes room for the extra lines
    paths = []
    for ext in ("png", "pdf"):
        buffer = io.BytesIO()
        # PNG compression level 1: the 300-dpi PNGs were a large share of make all's drawing time
        # (zlib's default 6 is ~10 % smaller for ~2× the time); the pixels are the same
        fig.savefig(buffer, format=ext, dpi=dpi,
                    **({"pil_kwargs": {"compress_level": 1}} if ext == "png" else {}))
        paths.append(atomic_write(Path(figures_dir) / f"{name}.{ext}", buffer.getvalue()))
        # the layout the PNG was drawn with holds for the PDF at the same size: not solved again
        fig.set_layout_engine("none")
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
