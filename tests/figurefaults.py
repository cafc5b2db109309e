"""What makes a figure unreadable on paper, found on the drawn Figure (tests' helper).

print_faults(fig) -> list of one-line faults of a figure as saved (call after save_figure, which
leaves the figure at its print size with its final layout):
- a literal '_' or '^' in a visible text outside $…$ mathtext ("θ_t", "‖_F", "^p");
- two texts of the figure's decorations (suptitle, titles, axis labels, tick labels, offset
  texts, colorbar labels, annotations) whose boxes overlap, or one overlapping a legend;
- a decoration text that reaches past the figure's edge (clipped on the page);
- a log axis with fewer than 2 labelled values in its view;
- a legend inside an axes that covers a drawn data point or segment of that axes (or its twin).
rendered_faults(module, results_dir, tmp_path, monkeypatch) draws every figure of a plots module
from a results folder and returns {figure name: faults}.
"""
from __future__ import annotations

import re

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import PathCollection
from matplotlib.text import Text

import plots.common
from plots.common import DPI

_MATH = re.compile(r"(?<!\\)\$.*?(?<!\\)\$")
OVERLAP_PX = 2.0  # px at DPI (0.17 mm): boxes may share this much (rounding) before overlapping


def literal_markup(text: str) -> bool:
    """True when text shows a '_' or '^' outside $…$ mathtext (a subscript printed literally)."""
    return bool(re.search(r"[_^]", _MATH.sub("", text)))


def _shown(text) -> bool:
    return text.get_visible() and bool(text.get_text().strip())


def _tick_texts(ax):
    """The tick labels drawn by ax: visible, non-empty, at a tick inside the view."""
    out = []
    for axis in (ax.xaxis, ax.yaxis):
        # compared where drawn (pixels): a log axis' tolerance in data units is meaningless
        scale = axis.get_transform()
        low, high = sorted(scale.transform(np.asarray(axis.get_view_interval(), dtype=float)))
        for tick in axis.get_major_ticks() + axis.get_minor_ticks():
            loc = tick.get_loc()
            if loc is None or (axis.get_scale() == "log" and loc <= 0):
                continue
            where = float(scale.transform(np.array([loc], dtype=float))[0])
            if not (low - 1e-9 * (high - low) <= where <= high + 1e-9 * (high - low)):
                continue
            out += [t for t in (tick.label1, tick.label2) if t.get_visible() and _shown(t)]
    return out


def decoration_texts(fig):
    """(name, Text) of every text drawn around or on the axes, legends' own texts excepted."""
    texts = [("suptitle", fig._suptitle)] if fig._suptitle is not None else []
    for i, ax in enumerate(fig.axes):
        if ax.name == "3d":
            continue
        texts += [(f"axes {i} title", t) for t in (ax.title, ax._left_title, ax._right_title)]
        texts += [(f"axes {i} xlabel", ax.xaxis.label), (f"axes {i} ylabel", ax.yaxis.label),
                  (f"axes {i} x offset", ax.xaxis.get_offset_text()),
                  (f"axes {i} y offset", ax.yaxis.get_offset_text())]
        texts += [(f"axes {i} tick {t.get_text()!r}", t) for t in _tick_texts(ax)]
        texts += [(f"axes {i} text {t.get_text()!r}", t) for t in ax.texts]
    texts += [(f"figure text {t.get_text()!r}", t) for t in fig.texts if t is not fig._suptitle]
    return [(name, t) for name, t in texts if _shown(t)]


def _boxes_overlap(a, b) -> bool:
    return (min(a.x1, b.x1) - max(a.x0, b.x0) > OVERLAP_PX
            and min(a.y1, b.y1) - max(a.y0, b.y0) > OVERLAP_PX)


def _legends(fig):
    out = [(f"figure legend {i}", lg) for i, lg in enumerate(fig.legends)]
    out += [(f"axes {i} legend", ax.get_legend()) for i, ax in enumerate(fig.axes)
            if ax.get_legend() is not None]
    return out


def _data_points(ax, renderer):
    """Display coordinates of the data drawn by ax: line vertices with the segments between them
    sampled every 2 px, and scatter offsets; lines in axes coordinates (axvline, axhline,
    spans) are guides, not data."""
    points = []
    for line in ax.get_lines():
        if not line.get_visible() or line.get_transform() != ax.transData:
            continue
        xy = ax.transData.transform(np.column_stack(line.get_data()).astype(float))
        xy = xy[np.all(np.isfinite(xy), axis=1)]
        if line.get_linestyle() not in ("None", "", " ") and len(xy) > 1:
            steps = np.maximum(1, (np.hypot(*np.diff(xy, axis=0).T) // 2).astype(int))
            xy = np.vstack([np.linspace(p, q, n, endpoint=False)
                            for p, q, n in zip(xy[:-1], xy[1:], steps, strict=True)] + [xy[-1:]])
        points.append(xy)
    for coll in ax.collections:
        if isinstance(coll, PathCollection) and coll.get_visible() and len(coll.get_offsets()):
            points.append(coll.get_offset_transform().transform(coll.get_offsets()))
    frame = ax.get_window_extent(renderer)
    points = [p[(p[:, 0] >= frame.x0) & (p[:, 0] <= frame.x1) & (p[:, 1] >= frame.y0)
                & (p[:, 1] <= frame.y1)] for p in points]
    return np.vstack(points) if points else np.empty((0, 2))


def print_faults(fig) -> list[str]:
    """The faults listed in the module docstring, one line each ([] for a readable figure)."""
    if not hasattr(fig.canvas, "get_renderer"):  # closed by save_figure: draw it off-screen
        FigureCanvasAgg(fig)
    fig.set_dpi(DPI)  # measured as the PNG is drawn (text metrics round with the resolution)
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    faults = []
    everything = [t for t in fig.findobj(Text) if _shown(t)]
    faults += [f"literal markup in {t.get_text()!r}" for t in everything
               if literal_markup(t.get_text())]
    texts = [(name, t.get_window_extent(renderer)) for name, t in decoration_texts(fig)]
    legends = [(name, lg.get_window_extent(renderer)) for name, lg in _legends(fig)]
    boxes = texts + legends
    page = fig.bbox
    faults += [f"{name} is clipped at the figure's edge" for name, box in boxes
               if box.x0 < page.x0 - OVERLAP_PX or box.x1 > page.x1 + OVERLAP_PX
               or box.y0 < page.y0 - OVERLAP_PX or box.y1 > page.y1 + OVERLAP_PX]
    for i, (name_a, a) in enumerate(boxes):
        for name_b, b in boxes[i + 1:]:
            if _boxes_overlap(a, b) and not (name_a in dict(legends) and name_b in dict(legends)):
                faults.append(f"{name_a} overlaps {name_b}")
    for i, ax in enumerate(fig.axes):
        if ax.name == "3d":
            continue
        for which, axis in (("x", ax.xaxis), ("y", ax.yaxis)):
            labelled = any(t.label1.get_visible() or t.label2.get_visible()
                           for t in axis.get_major_ticks())  # not hidden by a shared axis
            if axis.get_scale() == "log" and axis.get_visible() and labelled:
                ticks = [t for t in _tick_texts(ax) if t in
                         [*axis.get_majorticklabels(), *axis.get_minorticklabels()]]
                if len(ticks) < 2:
                    faults.append(f"axes {i} log {which} axis shows {len(ticks)} tick label(s)")
    for i, ax in enumerate(fig.axes):
        legend = ax.get_legend()
        if legend is None or not legend.get_visible() or ax.name == "3d":
            continue
        box = legend.get_window_extent(renderer)
        # the axes sharing this one's place (a twin) draw under the same legend
        siblings = [other for other in fig.axes if other.get_position().bounds
                    == ax.get_position().bounds and other.name != "3d"]
        xy = np.vstack([_data_points(other, renderer) for other in siblings])
        covered = np.sum((xy[:, 0] > box.x0) & (xy[:, 0] < box.x1) & (xy[:, 1] > box.y0)
                         & (xy[:, 1] < box.y1))
        if covered:
            faults.append(f"axes {i} legend covers {covered} drawn data point(s)")
    return faults


def rendered_faults(module, results_dir, tmp_path, monkeypatch) -> dict[str, list[str]]:
    """{figure name: print_faults} of every figure module.render draws from results_dir, each
    checked as saved (save_figure wrapped: the figure at print size, its layout final)."""
    found = {}
    save = plots.common.save_figure

    def save_and_check(fig, figures_dir, name, *args, **kwargs):
        paths = save(fig, figures_dir, name, *args, **kwargs)
        found[name] = print_faults(fig)
        return paths

    monkeypatch.setattr(module, "save_figure", save_and_check)
    module.render(results_dir, figures_dir=tmp_path)
    assert found, f"{module.__name__} drew no figure"
    return found

