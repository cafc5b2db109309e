"""What a PDF's pages draw, read with pikepdf: every XObject a page's own content stream draws,
with the box it lands in (tests of the report's vector figures)."""
import pikepdf

MM = 25.4 / 72  # mm per PDF unit (1/72 inch)


def _multiply(m, n):
    """The PDF matrix product m × n of two [a b c d e f] matrices (m applied first)."""
    a, b, c, d, e, f = m
    A, B, C, D, E, F = n
    return [a * A + b * C, a * B + b * D, c * A + d * C, c * B + d * D,
            e * A + f * C + E, e * B + f * D + F]


def drawn_xobjects(path):
    """Every XObject drawn by a page's own content stream, in drawing order, as (page number
    from 1, its /Subtype ('/Form' or '/Image'), its box (x, y, width, height) in mm from the
    page's top-left, a form's decoded drawing (None for an image), the /Subtype of each XObject
    the form holds). The box is the XObject's unit square (an image) or its /BBox (a form)
    under the matrix in force at its `Do`; q/Q save and restore that matrix."""
    found = []
    with pikepdf.open(path) as pdf:
        for number, page in enumerate(pdf.pages, 1):
            top = float(page.mediabox[3])
            ctm, stack = [1, 0, 0, 1, 0, 0], []
            for operands, operator in pikepdf.parse_content_stream(page):
                op = str(operator)
                if op == "q":
                    stack.append(ctm)
                elif op == "Q":
                    ctm = stack.pop()
                elif op == "cm":
                    ctm = _multiply([float(v) for v in operands], ctm)
                elif op == "Do":
                    xobject = page.resources.XObject[operands[0]]
                    x0, y0, x1, y1 = ([0, 0, 1, 1] if xobject.Subtype == "/Image" else
                                      [float(v) for v in xobject.BBox])
                    a, _, _, d, e, f = ctm
                    box = ((e + a * x0) * MM, (top - f - d * y1) * MM, a * (x1 - x0) * MM,
                           d * (y1 - y0) * MM)
                    content = xobject.read_bytes() if xobject.Subtype == "/Form" else None
                    held = xobject.get("/Resources", {}).get("/XObject", {})
                    inner = [str(held[key].Subtype) for key in held.keys()]
                    found.append((number, str(xobject.Subtype), box, content, inner))
    return found
