"""report.md → report.pdf with fpdf2 (a maintained pure-Python PDF library: no LaTeX, no pandoc),
and the README's gallery.

A4 pages: headings, wrapped paragraphs and bullets in DejaVu Sans (matplotlib's own font files,
so every Unicode symbol of the report — θ, ∇, ‖, λ₊ — has a glyph on any machine), tables with
every column (a long three-column table is folded into two halves side by side to save height),
and figures at the text width: wide ones alone in a row, narrower ones two to a row. A row of
figures that does not fit on the page floats to the top of the next one while the text goes on
(as LaTeX floats figures), so no page ends in a blank half. Each figure is its own vector PDF
(figures/<name>.pdf, beside the PNG that report.md and the gallery show), drawn at its print
size in the box the layout leaves for it (vector.stamp): text stays text, nothing is rasterized.
"""
from __future__ import annotations

import io
import re
from pathlib import Path

import matplotlib
from fpdf import FPDF
from fpdf.enums import XPos, YPos

from engine.io.results import UsageError, atomic_write
from experiments.report.vector import print_size, stamp

IMAGE = re.compile(r"^!\[(?P<name>[^\]]*)\]\((?P<path>[^)]+)\)$")
MARGIN = 12.0            # mm on every side
BODY, SMALL = 8.5, 6.6   # pt: text, tables
WIDE = 1.9               # width/height above which a figure takes a row of its own
MAX_HEIGHT = 140.0       # mm: the tallest a figure is drawn (a 2 × 2 grid at 16 cm: 130)
FOLD_ROWS = 8            # three-column tables longer than this are folded in two
GAP = 4.0                # mm between two figures of a row


def write_pdf(markdown: str, figures: Path, path: Path) -> Path:
    """Typeset `markdown` (the report's subset: # / ## / ### headings, paragraphs, - bullets,
    | tables |, ![name](path) images: figures/<stem of path>.pdf, the figure's vector PDF, is
    drawn) into `path`, atomically. Returns path; its page count is `page_count(path)`."""
    pdf = _Typesetter(Path(figures))
    pdf.run(markdown.splitlines())
    while pdf.deferred:  # figures still floating at the end: on pages of their own
        pdf.add_page()
    # the reader never sees half a PDF
    return atomic_write(path, stamp(bytes(pdf.output()), pdf.boxes))


def page_count(path) -> int:
    """Pages of a PDF (its page tree, as pikepdf reads it)."""
    import pikepdf

    with pikepdf.open(path) as pdf:
        return len(pdf.pages)


def check_images(paths) -> None:
    """UsageError naming the first of `paths` that is not a readable image (missing, empty,
    truncated, not a PNG), before anything is written from them. Cost: decodes each image."""
    from PIL import Image, UnidentifiedImageError

    for path in map(Path, paths):
        try:
            with Image.open(path) as image:
                image.load()
        except (OSError, UnidentifiedImageError, ValueError, SyntaxError) as err:
            reason = " ".join(f"{type(err).__name__}: {err}".split())[:120]
            raise UsageError(f"{path} cannot be read as an image ({reason}); render it again "
                             "(make all)") from None


def gallery(figures: Path, names: list[str], out: Path, width: int = 640) -> list[Path]:
    """Small PNG copies (at most `width` pixels wide) of figures/<name>.png in out/; UsageError
    before anything is written when one is missing or damaged."""
    from PIL import Image  # matplotlib's own image dependency

    sources = [Path(figures) / f"{name}.png" for name in names]
    for source in sources:
        if not source.exists():
            raise UsageError(f"{source} is missing: run `make all` before `make docs`")
    check_images(sources)
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, source in zip(names, sources, strict=True):
        with Image.open(source) as image:
            image.thumbnail((width, width * 4))
            buffer = io.BytesIO()
            image.save(buffer, format="png", optimize=True)
        target = out / f"{name}.png"
        atomic_write(target, buffer.getvalue())
        paths.append(target)
    return paths


class _Typesetter(FPDF):
    """An A4 FPDF in DejaVu Sans with MARGIN mm margins that typesets the report's markdown."""

    def __init__(self, figures: Path):
        super().__init__(orientation="P", unit="mm", format="A4")
        self.figures = figures
        self.deferred = []  # rows of figures floating to the top of the next page
        self.boxes = []  # (page, x, y, width, height, figure PDF) for vector.stamp, in mm
        self.set_margins(MARGIN, MARGIN, MARGIN)
        self.set_auto_page_break(True, MARGIN)
        fonts = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
        self.add_font("sans", "", fonts / "DejaVuSans.ttf")
        self.add_font("sans", "B", fonts / "DejaVuSans-Bold.ttf")
        self.add_font("mono", "", fonts / "DejaVuSansMono.ttf")
        self.add_page()

    def header(self):
        """At the top of every new page: the floating rows of figures that fit, in order."""
        while self.deferred:
            row, height, printed = self.deferred[0]
            if self.get_y() + height > self.h - MARGIN and self.get_y() > MARGIN + 1:
                break  # the rest float on to the next page
            self.deferred.pop(0)
            self._place(row, height, printed)

    def run(self, lines):
        """Typeset the markdown lines in order: consecutive image lines become one block of
        figures, consecutive | lines one table; a blank line is a small vertical gap."""
        images, table = [], []
        for line in [*lines, ""]:
            text = line.strip()
            if IMAGE.match(text):  # the vector PDF beside the PNG that report.md shows
                images.append(self.figures / f"{Path(IMAGE.match(text)['path']).stem}.pdf")
                continue
            if text.startswith("|"):
                table.append(text)
                continue
            if images:
                self.images(images)
                images = []
            if table:
                self.table_rows(table)
                table = []
            if line.startswith("#"):
                level = len(line) - len(line.lstrip("#"))
                self.heading(line.lstrip("#").strip(), level)
            elif text.startswith("- "):
                self.paragraph(text[2:], bullet=True)
            elif text:
                self.paragraph(text)
            else:
                self.ln(1.2)

    @property
    def width(self) -> float:
        """The text width in mm: the page width less both margins."""
        return self.w - 2 * MARGIN

    def heading(self, text, level):
        """A bold heading of markdown level 1, 2 or deeper (13, 10.5, 9.5 pt), moved to the
        next page when too little room for its first lines is left."""
        size = {1: 13.0, 2: 10.5}.get(level, 9.5)
        # no heading alone at the foot of a page: keep room for a few lines (a part: more)
        if self.get_y() > self.h - MARGIN - (60 if level == 1 else 30):
            self.add_page()
        self.ln(2.5 if level == 1 else 1.5)
        self.set_font("sans", "B", size)
        self.multi_cell(0, size * 0.5, _plain(text), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.ln(0.8)

    def paragraph(self, text, bullet=False):
        """Body text wrapped to the text width, with a bullet mark when `bullet`."""
        self.set_font("sans", "", BODY)
        if bullet:
            self.set_x(MARGIN + 2)
            self.cell(3, 3.9, "•")
        self.multi_cell(0, 3.9, _plain(text), new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def table_rows(self, lines):
        """A markdown table (header, separator, rows) in SMALL pt, columns sized by their
        longest cell; a three-column table of more than FOLD_ROWS rows is folded in two halves."""
        rows = [[_plain(c.strip()) for c in line.strip("|").split("|")] for line in lines]
        rows = [r for r in rows if not all(set(c) <= set("-: ") for c in r)]
        header, body = rows[0], rows[1:]
        if len(header) == 3 and len(body) > FOLD_ROWS:  # two halves side by side
            half = -(-len(body) // 2)
            left, right = body[:half], body[half:] + [["", "", ""]] * (2 * half - len(body))
            header, body = header * 2, [a + b for a, b in zip(left, right, strict=True)]
        longest = [max(len(r[i]) for r in [header, *body]) for i in range(len(header))]
        widths = [min(max(n, 4), 40) for n in longest]
        self.set_font("sans", "", SMALL)
        with self.table(col_widths=widths, width=self.width, line_height=SMALL * 0.45,
                        first_row_as_headings=True, text_align="LEFT",
                        headings_style=_bold_style()) as table:
            for row in [header, *body]:
                cells = table.row()
                for cell in row:
                    cells.cell(cell)
        self.ln(1.5)

    def images(self, paths):
        """Figures at the text width: one with width/height ≥ WIDE alone in a row, others two
        to a row, each at most MAX_HEIGHT mm high; a row that does not fit starts a new page.
        `paths` are the figures' vector PDFs, whose page size is their print size."""
        # a figure drawn at its print size (plots.common) is placed at that size, so its 7-pt
        # texts print at 7 pt
        sizes = [print_size(path) for path in paths]  # mm
        printed = {path: w for path, (w, _) in zip(paths, sizes, strict=True)}
        rows, pending = [], []
        for path, (w, h) in zip(paths, sizes, strict=True):
            if w / h >= WIDE or printed[path] > 100:  # drawn for the full text width
                rows.append([(path, w / h)])
            else:
                pending.append((path, w / h))
                if len(pending) == 2:
                    rows.append(pending)
                    pending = []
        if pending:
            rows.append(pending)
        for row in rows:
            cell = (self.width - GAP * (len(row) - 1)) / len(row)
            height = min(MAX_HEIGHT, min(cell / aspect for _, aspect in row))
            if all(printed.get(p) for p, _ in row):
                height = min(height, max(printed[p] / a for p, a in row))
            if self.deferred or self.get_y() + height > self.h - MARGIN:
                self.deferred.append((row, height, printed))  # floats to the next page top
            else:
                self._place(row, height, printed)

    def _place(self, row, height, printed):
        """Leave one row of figures `height` mm high at the current y, each centred in its
        cell at most its printed width, as boxes (self.boxes) that vector.stamp fills with the
        figures' vector PDFs once the pages are typeset; move below it."""
        cell = (self.width - GAP * (len(row) - 1)) / len(row)
        x, y = MARGIN, self.get_y()
        for path, aspect in row:
            w = min(cell, height * aspect, printed.get(path) or cell)
            self.boxes.append((self.page, x + (cell - w) / 2, y, w, w / aspect, path))
            x += cell + GAP
        self.set_y(y + height + 2.0)


def _bold_style():
    from fpdf.fonts import FontFace

    return FontFace(emphasis="BOLD")


def _plain(line: str) -> str:
    """Markdown emphasis and code marks dropped: the PDF shows the words."""
    return re.sub(r"\*\*|`|(?<!\w)\*(?!\s)|(?<=\S)\*(?!\w)", "", line)
