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
import math
import re
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.layout_engine import ConstrainedLayoutEngine
from matplotlib.ticker import (
    FixedLocator,
    FuncFormatter,
    LogFormatterSciNotation,
    MaxNLocator,
    NullFormatter,
)

from engine.io.cli import OneLineParser, guarded
from engine.io.folders import check_output_folder
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
# the shared style of every saved figure: TrueType (Type 42) fonts in the PDF, not matplotlib's
# default Type 3 glyph procedures, so that the text of a vector figure is real text for printers,
# search and copy
STYLE = {"pdf.fonttype": 42, "ps.fonttype": 42}
MIN_LOG_LABELS = 3       # labelled values on a log axis whose view holds fewer than 2 decades
# spaces that never break a title's line: around an operator, so "L = 2.9e-04" or "θₜ − θ₀" stays
# on one line (and, separately, every space inside $…$ mathtext, which must not be split)
_GLUE = re.compile(r" ([=≈≤≥<>−+×±→]) ")


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
    """Wrap the figure's suptitle and every axes title to the width they have at print size, so
    no title is clipped at the figure's edge; returns the number of titles rewrapped. Widths are
    measured by the renderer (mathtext as typeset), a line breaks only between words (never
    inside $…$ mathtext, at a hyphen or next to an operator: 'L = 2.9e-04' stays whole), and the
    lines of a wrapped title are balanced: the narrowest width that needs no more lines, so no
    word is left alone on a last line. Call after print_size and legible."""
    width_pt = fig.get_size_inches()[0] * 72
    texts = [(fig._suptitle, width_pt)] if fig._suptitle is not None else []
    texts += [(ax.title, ax.get_position().width * width_pt) for ax in fig.axes]
    renderer = fig.canvas.get_renderer()
    wrapped = 0
    for text, room in texts:
        lines = text.get_text().split("\n")
        room_px = room * fig.dpi / 72.0
        new = "\n".join(_wrap_line(text, line, room_px, renderer) if line else line
                         for line in lines)
        if new != text.get_text():
            text.set_text(new)
            wrapped += 1
    return wrapped


def _wrap_line(text, line, room, renderer) -> str:
    """line broken between words into as few lines of width ≤ room (pixels) as the words allow,
    then balanced (the narrowest width that keeps that number of lines)."""
    glued = re.sub(r"\$[^$]*\$", lambda m: m.group().replace(" ", "\0"), line)
    glued = _GLUE.sub(lambda m: f"\0{m.group(1)}\0", glued)
    words = glued.split(" ")
    prop = text.get_fontproperties()

    def width(s):
        s, ismath = text._preprocess_math(s.replace("\0", " "))
        return renderer.get_text_width_height_descent(s, prop, ismath)[0]

    sizes, space = [width(w) for w in words], width("a b") - width("ab")

    def fill(limit):
        rows, row, used = [], [], 0.0
        for word, size in zip(words, sizes, strict=True):
            if row and used + space + size > limit:
                rows.append(row)
                row, used = [], 0.0
            used += (space if row else 0.0) + size
            row.append(word)
        return rows + [row]

    rows = fill(room)
    if len(rows) > 1:
        low, high = max(sizes), room  # bisect for the narrowest width giving as few lines
        for _ in range(20):
            mid = (low + high) / 2
            low, high = (low, mid) if len(fill(mid)) <= len(rows) else (mid, high)
        rows = fill(high)
    return "\n".join(" ".join(row) for row in rows).replace("\0", " ")


def label_log_axes(fig) -> int:
    """Give every log axis of fig whose view shows fewer than 2 labelled major ticks readable
    values: at 2× and 5× each decade in the major labels' style when the view spans a decade or
    more (≥ MIN_LOG_LABELS values then), else round values written plainly (MaxNLocator; the
    default labels of every 2…9× touch in so narrow a view); returns the number of axes
    relabelled. Call after the data are drawn (the view is final)."""
    relabelled = 0
    for ax in fig.axes:
        if ax.name == "3d":
            continue
        for axis, view in ((ax.xaxis, ax.get_xlim), (ax.yaxis, ax.get_ylim)):
            low, high = sorted(view())
            if axis.get_scale() != "log" or low <= 0 or not axis.get_major_ticks():
                continue
            locs = [v for v in axis.get_major_locator()() if low <= v <= high]
            major = axis.get_major_formatter()
            major.set_locs(locs)
            shown = sum(bool(major(v, i)) for i, v in enumerate(locs))
            if shown >= 2:
                continue
            if math.log10(high / low) >= 1.0:  # a decade or more: 2× and 5× are ≥ 3 values
                axis.set_minor_formatter(_coefficient_formatter((2, 5)))
            else:  # less than a decade: round values (matplotlib's crowded minor labels touch)
                axis.set_major_locator(FixedLocator(
                    [v for v in MaxNLocator(4).tick_values(low, high) if low <= v <= high]))
                axis.set_major_formatter(FuncFormatter(lambda v, pos=None: f"{v:.3g}"))
                axis.set_minor_formatter(NullFormatter())
            relabelled += 1
    return relabelled


def _coefficient_formatter(subs):
    """Minor tick labels c × 10^k for c in subs only, as matplotlib writes a log axis' labels."""
    sci = LogFormatterSciNotation(labelOnlyBase=False)

    def label(value, pos=None):
        if value <= 0:
            return ""
        exponent = math.floor(math.log10(value) + 1e-9)
        coefficient = value / 10.0 ** exponent
        keep = any(abs(coefficient - c) < 1e-6 * c for c in subs)
        return sci(value, pos) if keep else ""

    return FuncFormatter(label)


def linear_where_nothing_is_positive(fig) -> int:
    """Draw linear, and say so in its label, each log axis of fig that holds no positive, finite
    value (every search of a minratio run diverged, say: its losses are NaN) — matplotlib's log
    locator raises on one; returns how many there were."""
    changed = 0
    for ax in fig.axes:
        for axis, rescale in ((ax.xaxis, ax.set_xscale), (ax.yaxis, ax.set_yscale)):
            if axis.get_scale() != "log":
                continue
            try:  # a fixed major locator (set_xticks) leaves it to the minor one to raise
                axis.get_majorticklocs()
                axis.get_minorticklocs()
            except ValueError:  # "Data cannot be log-scaled because all values are <= 0."
                rescale("linear")
                axis.set_label_text(axis.get_label_text().replace(" (log scale)", "").replace(
                    " (log)", "") + " (none > 0)")
                changed += 1
    return changed


def save_figure(fig, figures_dir, name: str, dpi: int = DPI, width: str | None = None
                ) -> list[Path]:
    """Write fig as figures_dir/name.png (at `dpi`) and .pdf (vector), each atomically, at its
    print size (print_size, `width` 'full' | 'half' | None) with every text in [MIN_PT, MAX_PT]
    pt (legible), a log axis with nothing positive on it drawn linear
    (linear_where_nothing_is_positive), every log axis with ≥ MIN_LOG_LABELS readable values
    (label_log_axes), titles wrapped to their width (wrap_titles), laid out by matplotlib's
    constrained layout, in the shared STYLE (TrueType fonts in the PDF); then close it."""
    FigureCanvasAgg(fig)  # off-screen: no display on the machines this runs on
    linear_where_nothing_is_positive(fig)
    drawn = fig.get_size_inches().copy()
    print_size(fig, width)
    legible(fig)
    label_log_axes(fig)
    resized = not np.allclose(drawn, fig.get_size_inches(), atol=0.02)
    # a figure laid out and frozen by its plot at its print size keeps that layout; one frozen
    # at another size (fig.tight_layout() leaves a frozen engine) is laid out again: its old
    # positions clipped titles and labels at the new size
    if fig.get_layout_engine() is None or (
            resized and not isinstance(fig.get_layout_engine(), ConstrainedLayoutEngine)):
        fig.set_layout_engine("constrained")  # the exact print size: no bbox_inches="tight"
    if isinstance(fig.get_layout_engine(), ConstrainedLayoutEngine):
        wrap_titles(fig)  # only where the layout makes room for the extra lines
    paths = []
    for ext in ("png", "pdf"):
        buffer = io.BytesIO()
        # PNG compression level 1: the 300-dpi PNGs were a large share of make all's drawing time
        # (zlib's default 6 is ~10 % smaller for ~2× the time); the pixels are the same
        with plt.rc_context(STYLE):
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
    # str, not Path: Path("") is ".", and an empty --figures must be refused, not the cwd
    parser.add_argument("--figures", type=str, default="figures",
                        help="where figures are written (default: %(default)s)")
    parser.add_argument("--debug", action="store_true",
                        help="show the traceback of an internal error")
    opts = parser.parse_args(argv)

    def action():
        # the folder written, checked before any work (as the experiments check theirs)
        figures = check_output_folder(opts.figures, "--figures")
        for path in render(opts.results_dir, figures_dir=figures):
            print(path)

    guarded(prog, action, debug=opts.debug)
