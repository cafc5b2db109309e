"""report.md → report.pdf with matplotlib alone (no LaTeX, no pandoc), and the README's gallery.

The PDF is A4 pages of wrapped text (headings larger, tables as aligned `key  value` lines) and
figure pages with two figures each, in the order the markdown names them.
"""
from __future__ import annotations

import io
import re
import textwrap
from pathlib import Path

import matplotlib.image as mpimg
import matplotlib.pyplot as plt
from matplotlib.backends.backend_pdf import PdfPages

from engine.results import UsageError, atomic_write

A4 = (8.27, 11.69)
MARGIN, LINE = 0.06, 0.0155  # page fractions: margin, one text line at 8.5 pt
IMAGE = re.compile(r"^!\[(?P<name>[^\]]*)\]\((?P<path>[^)]+)\)$")


def write_pdf(markdown: str, figures: Path, path: Path) -> Path:
    """Typeset `markdown` (the report's subset: #/## headings, paragraphs, - bullets, | tables |,
    ![name](path) images) into `path`, atomically."""
    buffer = io.BytesIO()
    with PdfPages(buffer) as pdf:
        _Typesetter(pdf, Path(figures)).run(markdown.splitlines())
    return atomic_write(path, buffer.getvalue())


def gallery(figures: Path, names: list[str], out: Path, width: int = 640) -> list[Path]:
    """Small PNG copies (at most `width` pixels wide) of figures/<name>.png in out/."""
    from PIL import Image  # matplotlib's own image dependency

    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for name in names:
        source = Path(figures) / f"{name}.png"
        if not source.exists():
            raise UsageError(f"{source} is missing: run `make all` before `make docs`")
        with Image.open(source) as image:
            image.thumbnail((width, width * 4))
            buffer = io.BytesIO()
            image.save(buffer, format="png", optimize=True)
        target = out / f"{name}.png"
        atomic_write(target, buffer.getvalue())
        paths.append(target)
    return paths


class _Typesetter:
    def __init__(self, pdf, figures: Path):
        self.pdf, self.figures = pdf, figures
        self.fig, self.y = None, 0.0
        self.images: list[Path] = []

    def run(self, lines):
        for line in lines:
            image = IMAGE.match(line.strip())
            if image:
                self.images.append(self.figures / Path(image["path"]).name)
                continue
            self.flush_images()
            if line.startswith("# "):
                self.text(line[2:], size=15, weight="bold", gap=2.2)
            elif line.startswith("## "):
                self.text(line[3:], size=12, weight="bold", gap=1.8)
            elif line.startswith("|"):
                cells = [c.strip().strip("`") for c in line.strip("|").split("|")]
                if set("".join(cells)) <= set("-") or cells == ["setting", "value"]:
                    continue
                self.text(f"{cells[0]:<22} {cells[1]}", size=7.5, family="monospace", width=110)
            elif line.strip():
                bullet = line.lstrip().startswith("- ")
                self.text(_plain(line.strip()), width=100, indent="   " if bullet else "")
            else:
                self.y -= LINE * 0.5
        self.flush_images()
        self.close_page()

    def page(self):
        self.close_page()
        self.fig = plt.figure(figsize=A4)
        self.y = 1 - MARGIN

    def close_page(self):
        if self.fig is not None:
            self.pdf.savefig(self.fig)
            plt.close(self.fig)
            self.fig = None

    def text(self, text, size=8.5, weight="normal", family="sans-serif", width=100, indent="",
             gap=1.0):
        wrapped = textwrap.wrap(text, width=width, subsequent_indent=indent) or [""]
        for row in wrapped:
            if self.fig is None or self.y < MARGIN + LINE * gap:
                self.page()
            self.y -= LINE * (gap if row is wrapped[0] else 1.0) * size / 8.5
            self.fig.text(MARGIN, self.y, row, fontsize=size, weight=weight, family=family,
                          va="baseline")

    def flush_images(self):
        while self.images:
            pair, self.images = self.images[:2], self.images[2:]
            self.page()
            for k, path in enumerate(pair):
                ax = self.fig.add_axes([MARGIN, 0.52 - 0.47 * k, 1 - 2 * MARGIN, 0.43])
                ax.imshow(mpimg.imread(path))
                ax.set_title(path.stem, fontsize=8)
                ax.axis("off")
            self.close_page()


def _plain(line: str) -> str:
    """Markdown emphasis and code marks dropped: the PDF shows the words."""
    return re.sub(r"\*\*|`|(?<!\w)\*(?!\s)|(?<=\S)\*(?!\w)", "", line)
