"""Figures readable on paper (issue 22 item 4): each kind of fault the review found, made on a
figure on purpose, is found by tests/figurefaults.py, and the shared plumbing of plots.common
removes it — TrueType fonts in the PDF, ≥ 3 readable values on a log axis, titles wrapped whole."""
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from figurefaults import literal_markup, print_faults  # noqa: E402
from matplotlib.ticker import NullFormatter  # noqa: E402

from plots.common import (  # noqa: E402
    MIN_LOG_LABELS,
    label_log_axes,
    legible,
    print_size,
    save_figure,
    wrap_titles,
)


def _at_print_size(fig, width="half"):
    print_size(fig, width)
    legible(fig)
    fig.canvas.draw()
    return fig


def test_a_literal_subscript_is_a_fault_and_mathtext_or_unicode_is_not():
    assert literal_markup("sensitivity ‖∂softmax/∂x‖_F") and literal_markup("θ_t − θ_0")
    assert literal_markup("α₀((ε − ε_c)/ε_c)^p")
    assert not literal_markup(r"$\|\partial\,\mathrm{softmax}/\partial x\|_F$ (test)")
    assert not literal_markup("θₜ − θ₀, vₘₐₓ, λ $\\lambda_{\\max}$")


def test_two_y_labels_that_touch_are_found():
    # gradnorm_digits' kind: a y label longer than its panel runs into the next panel's label
    fig, (top, bottom) = plt.subplots(2, 1, sharex=True, layout="constrained")
    top.set_ylabel("training loss (cross-entropy) of the whole set")
    bottom.set_ylabel("gradient norm of the whole training set")
    _at_print_size(fig, "half")
    assert any("ylabel overlaps" in f for f in print_faults(fig))
    top.set_ylabel("training loss\n(cross-entropy)")
    bottom.set_ylabel("gradient norm")
    assert print_faults(fig) == []
    plt.close(fig)


def test_a_legend_over_the_curves_is_found_and_one_under_the_panel_is_not():
    fig, ax = plt.subplots(layout="constrained")
    x = np.linspace(0, 1, 50)
    for k in range(6):  # curves through every corner
        ax.plot(x, (x + k / 5) % 1.0, label=f"curve {k}")
    ax.legend(loc="upper left")
    _at_print_size(fig, "half")
    assert any("legend covers" in f for f in print_faults(fig))
    ax.get_legend().remove()
    fig.legend(*ax.get_legend_handles_labels(), loc="outside lower center", ncol=2)
    legible(fig)
    assert print_faults(fig) == []
    plt.close(fig)


def test_a_log_axis_of_one_decade_label_gets_readable_values():
    # generalization_random's kind: 0.25 … 3 holds one decade, 10⁰, and showed that label only
    fig, ax = plt.subplots(layout="constrained")
    ax.semilogy([0, 1], [0.25, 3.0])
    ax.set_ylim(0.25, 3.0)
    ax.yaxis.set_minor_formatter(NullFormatter())  # as generalization's axes had it
    _at_print_size(fig)
    assert any("log y axis shows 1 tick label" in f for f in print_faults(fig))
    assert label_log_axes(fig) == 1
    fig.canvas.draw()
    shown = [t.get_text() for t in ax.yaxis.get_ticklabels(which="both") if t.get_text()
             and 0.25 <= t.get_position()[1] <= 3.0]
    assert len(shown) >= MIN_LOG_LABELS, shown  # 2×10⁰, 10⁰, 5×10⁻¹
    assert print_faults(fig) == []
    plt.close(fig)


def test_a_log_axis_of_many_decades_keeps_its_labels():
    fig, ax = plt.subplots()
    ax.loglog([1, 1e4], [1e-6, 1])
    assert label_log_axes(fig) == 0
    plt.close(fig)


def test_titles_break_between_whole_terms_and_in_balanced_lines():
    # trajectory (b)'s kind: "θ_t\n− θ_0" broke inside the term
    fig, axes = plt.subplots(1, 2, layout="constrained")
    axes[1].set_title("(b) PCA of the displacements θₜ − θ₀ of every run from its start")
    fig.suptitle(r"digits 8×8: 64-128-64-10 relu, Adam lr 0.001, end: L = 2.93e-04, "
                 r"$\|\nabla L\|_{2}$ = 6.47e-04")
    print_size(fig, "half")
    legible(fig)
    assert wrap_titles(fig) == 2
    lines = axes[1].get_title().split("\n")
    assert len(lines) > 1 and any("θₜ − θ₀" in line for line in lines)
    sup = fig._suptitle.get_text().split("\n")
    assert any(r"$\|\nabla L\|_{2}$ = 6.47e-04" in line for line in sup)
    assert any("L = 2.93e-04" in line for line in sup)
    lengths = [len(line) for line in lines]
    assert min(lengths) >= 0.4 * max(lengths), lines  # balanced: no word alone on a line
    plt.close(fig)


def test_saved_pdf_has_truetype_fonts_not_type3(tmp_path):
    fig, ax = plt.subplots()
    ax.plot([1, 2], [1, 4], label=r"$\lambda_{\max}$ and text")
    ax.set_title("θₜ − θ₀")
    ax.legend()
    pdf = next(p for p in save_figure(fig, tmp_path, "fonts", width="half")
               if p.suffix == ".pdf").read_bytes()
    assert b"/Type3" not in pdf
    assert b"/CIDFontType2" in pdf or b"/TrueType" in pdf


def test_a_log_axis_narrower_than_a_decade_gets_round_values_that_do_not_touch():
    # surface_line_sinc's --quick kind: 0.085 … 0.12 drew "9×10⁻²" over "10⁻¹"
    fig, ax = plt.subplots(layout="constrained")
    ax.semilogy([0, 1], [0.085, 0.12])
    _at_print_size(fig)
    assert label_log_axes(fig) == 1
    fig.canvas.draw()
    shown = [t.get_text() for t in ax.yaxis.get_ticklabels(which="both") if t.get_text()
             and 0.085 <= t.get_position()[1] <= 0.12]
    assert len(shown) >= 2 and all("times" not in s for s in shown), shown
    assert print_faults(fig) == []
    plt.close(fig)
