"""report.pdf draws every figure from its own vector PDF (experiments/report/vector.py), at its
print size, in the box the layout leaves for it: no figure is a raster image, every figure's
text is text on the page, and a figure floating to the next page lands at that page's top."""
import io

import matplotlib
import numpy as np
import pikepdf
import pytest

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from pdfpages import drawn_xobjects  # noqa: E402

from experiments.report.pdf import GAP, MARGIN, page_count, write_pdf  # noqa: E402
from plots.common import save_figure  # noqa: E402

A4 = (210.0, 297.0)  # mm
MM = 25.4 / 72  # mm per PDF unit (1/72 inch)


def _figure(folder, name, width, label, height_cm, image=False):
    """plots.common.save_figure of a small figure whose x label is `label`, drawn `width`
    ('full' | 'half') wide and `height_cm` high; `image` adds an imshow (an image the vector
    PDF itself holds)."""
    fig, ax = plt.subplots(figsize=(np.array([16.0 if width == "full" else 7.8, height_cm])
                                    / 2.54))
    if image:
        ax.imshow(np.arange(12.0).reshape(3, 4))
    else:
        ax.plot([0, 1, 2], [1, 0, 1])
    ax.set_xlabel(label)
    save_figure(fig, folder, name, width=width)
    with pikepdf.open(folder / f"{name}.pdf") as pdf:
        return pdf.pages[0].Contents.read_bytes()  # the figure's drawing, as saved


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    """A report of a full-width figure, then two half-width ones side by side (one holding an
    image), typeset by write_pdf; returns (its path, the figures' drawings by name)."""
    tmp = tmp_path_factory.mktemp("vector")
    figures = tmp / "figures"
    figures.mkdir()
    drawings = {"wide": _figure(figures, "wide", "full", "zebra label", 6),
                "left": _figure(figures, "left", "half", "okapi label", 6, image=True),
                "right": _figure(figures, "right", "half", "quokka label", 6)}
    markdown = "\n".join(["# Figures", "", "A paragraph.", "", "![wide](../figures/wide.png)",
                          "", "Another paragraph.", "", "![left](../figures/left.png)",
                          "![right](../figures/right.png)", ""])
    path = write_pdf(markdown, figures, tmp / "report.pdf")
    return path, drawings, figures


def _print_size(figures, name):
    with pikepdf.open(figures / f"{name}.pdf") as pdf:
        x0, y0, x1, y1 = (float(v) for v in pdf.pages[0].mediabox)
    return (x1 - x0) * MM, (y1 - y0) * MM


def test_every_figure_is_its_own_vector_pdf_in_its_box(report):
    path, drawings, figures = report
    drawn = drawn_xobjects(path)
    assert [kind for _, kind, *_ in drawn] == ["/Form"] * 3  # three figures, no image
    by_name = {}
    for page, _, box, content, _ in drawn:
        name = next(n for n, d in drawings.items() if d == content)  # the figure's own drawing
        by_name[name] = (page, box)
    assert sorted(by_name) == ["left", "right", "wide"]
    text_width = A4[0] - 2 * MARGIN
    cell = (text_width - GAP) / 2
    for name, (page, (_, _, w, h)) in by_name.items():
        width, height = _print_size(figures, name)
        assert page == 1
        assert w == pytest.approx(width, abs=0.01) and h == pytest.approx(height, abs=0.01)
        assert w == pytest.approx(160.0 if name == "wide" else 78.0, abs=0.01)  # print size
    # centred in the text width; the two halves centred in their cells, tops aligned, below
    assert by_name["wide"][1][0] == pytest.approx(MARGIN + (text_width - 160) / 2, abs=0.01)
    assert by_name["left"][1][0] == pytest.approx(MARGIN + (cell - 78) / 2, abs=0.01)
    assert by_name["right"][1][0] == pytest.approx(MARGIN + cell + GAP + (cell - 78) / 2,
                                                   abs=0.01)
    assert by_name["left"][1][1] == pytest.approx(by_name["right"][1][1], abs=0.01)
    assert by_name["left"][1][1] > by_name["wide"][1][1] + by_name["wide"][1][3]
    assert by_name["wide"][1][1] > MARGIN  # below the heading


def test_no_figure_is_a_raster_image(report):
    """No image is drawn by a page itself; the only image is the one the 'left' figure holds
    inside its own vector drawing (its imshow)."""
    path, drawings, _ = report
    drawn = drawn_xobjects(path)
    assert not [d for d in drawn if d[1] == "/Image"]
    holding = [content == drawings["left"] for _, _, _, content, inner in drawn
               if "/Image" in inner]
    assert holding == [True]


def test_the_figures_text_is_text_on_the_page(report):
    import pypdf  # the test extra: a reader other than the one that wrote the PDF

    path, _, _ = report
    text = pypdf.PdfReader(path).pages[0].extract_text()
    for label in ("zebra label", "okapi label", "quokka label", "A paragraph."):
        assert label in text, text


def test_a_figure_that_floats_to_the_next_page_lands_at_its_top(tmp_path):
    figures = tmp_path / "figures"
    figures.mkdir()
    drawing = _figure(figures, "tall", "full", "tall label", 12)
    filler = ["A line of text that fills the first page. " * 4, ""] * 40
    markdown = "\n".join(["# Floats", "", *filler[:50], "![tall](../figures/tall.png)",
                          "", *filler[50:]])
    path = write_pdf(markdown, figures, tmp_path / "report.pdf")
    [(page, kind, (x, y, w, h), content, _)] = drawn_xobjects(path)
    assert kind == "/Form" and content == drawing
    assert page == 2 and y == pytest.approx(MARGIN, abs=0.01)
    assert w == pytest.approx(160.0, abs=0.01) and h == pytest.approx(120.0, abs=0.01)


def test_page_count_counts_the_pages(tmp_path):
    pdf = pikepdf.new()
    for _ in range(12):
        pdf.add_blank_page()
    buffer = io.BytesIO()
    pdf.save(buffer)
    (tmp_path / "twelve.pdf").write_bytes(buffer.getvalue())
    assert page_count(tmp_path / "twelve.pdf") == 12
