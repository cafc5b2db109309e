"""The report's figures as vectors: each figure's own PDF (plots.common.save_figure writes it
beside the PNG, at its print size) checked, measured, and stamped into the box that the
typesetter (pdf.py) left for it on the page.

fpdf2 cannot embed a PDF, so the pages are typeset first with an empty box per figure; pikepdf
(qpdf) then turns the figure's page into a Form XObject and draws it in the box
(`Page.add_overlay`): the figure's drawing commands, fonts and any image it holds (imshow) are
copied as they are, nothing is rasterized or re-parsed, so the text stays text at its 7-9 pt.
pypdf's `merge_transformed_page` does the same job by parsing and rewriting every drawing
command: 1.5 s of CPU for the report's 14 figures against 0.05 s here.
"""
from __future__ import annotations

import io
from pathlib import Path

import pikepdf

from engine.io.results import UsageError

PT_PER_MM = 72 / 25.4  # PDF user space unit: 1/72 inch


def check_vectors(paths) -> None:
    """UsageError naming the first of `paths` that is not a readable one-page-or-more PDF
    (missing, empty, truncated, a stream that does not decode, a page of no area), before
    anything is written from them. Any repair qpdf had to make counts as damage: a figure
    missing part of its drawing would otherwise be printed without a word. Cost: decodes every
    stream of each file (≈ 10 ms for a figure)."""
    for path in map(Path, paths):
        try:
            with pikepdf.open(path) as pdf:
                width, height = print_size_of(pdf)
                for obj in pdf.objects:
                    if isinstance(obj, pikepdf.Stream):
                        obj.read_bytes()  # decodes: a damaged stream warns or raises here
                problems = pdf.get_warnings()
            if problems:
                raise pikepdf.PdfError(problems[0])
            if not (width > 0 and height > 0):
                raise ValueError(f"its page is {width:.3g} × {height:.3g} mm")
        except (pikepdf.PdfError, OSError, IndexError, ValueError) as err:
            reason = " ".join(f"{type(err).__name__}: {err}".split())[:120]
            raise UsageError(f"{path} cannot be read as a PDF figure ({reason}); render it "
                             "again (make all)") from None


def print_size(path) -> tuple[float, float]:
    """(width, height) in mm of the first page of the PDF at `path`: the figure's print size."""
    with pikepdf.open(path) as pdf:
        return print_size_of(pdf)


def print_size_of(pdf) -> tuple[float, float]:
    """(width, height) in mm of the first page (its /MediaBox) of an open pikepdf.Pdf."""
    x0, y0, x1, y1 = (float(v) for v in pdf.pages[0].mediabox)
    return (x1 - x0) / PT_PER_MM, (y1 - y0) / PT_PER_MM


def stamp(document: bytes, boxes) -> bytes:
    """`document` (a PDF) with each figure of `boxes` drawn in its box: boxes are
    (page number from 1, x, y, width, height, figure PDF path), x and y the box's top-left
    corner in mm from the page's top-left (fpdf2's coordinates). The figure's first page is
    scaled uniformly to fit the box and centred (exactly filling it when the box has the
    figure's proportions, as the typesetter makes it). Returns the new PDF's bytes."""
    out = io.BytesIO()
    with pikepdf.open(io.BytesIO(document)) as pdf:
        for number, x, y, width, height, path in boxes:
            page = pdf.pages[number - 1]
            top = float(page.mediabox[3])  # PDF's y runs up from the page's foot
            box = pikepdf.Rectangle(x * PT_PER_MM, top - (y + height) * PT_PER_MM,
                                    (x + width) * PT_PER_MM, top - y * PT_PER_MM)
            with pikepdf.open(path) as figure:  # its objects are copied into pdf here
                page.add_overlay(figure.pages[0], box)
        pdf.save(out)
    return out.getvalue()
