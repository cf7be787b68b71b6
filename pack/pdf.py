"""The pack as a PDF (fpdf2), page for slide: the same title page, figures, tables,
notes and provenance as the PowerPoint deck. The figures are the PNGs the shared browser
rendered once for the pack, so no second engine lays a figure out.

Text uses the PDF core font (Latin-1): a character outside it is written as its nearest
plain form (en dash as "-", "≥" as ">=") rather than failing the pack.
"""

from __future__ import annotations

import io
import unicodedata

import pandas as pd
from fpdf import FPDF
from fpdf.fonts import FontFace

from pack.build import Pack
from pack.content import Content, NativeChart

PAGE_W, PAGE_H = 338.7, 190.5  # mm: 13.333 x 7.5 inches, the deck's 16:9
MARGIN = 12.0
ROWS_PER_PAGE = 14
PLAIN = {
    "–": "-",
    "—": "-",
    "−": "-",
    "≥": ">=",
    "≤": "<=",
    "×": "x",
    "’": "'",
    "‘": "'",
    "“": '"',
    "”": '"',
    "…": "...",
    "·": "-",
    "≈": "~",
    "•": "-",
}


def latin(text: str) -> str:
    """`text` in the core font's Latin-1."""
    out = []
    for ch in str(text):
        ch = PLAIN.get(ch, ch)
        try:
            ch.encode("latin-1")
            out.append(ch)
        except UnicodeEncodeError:
            plain = unicodedata.normalize("NFKD", ch).encode("latin-1", "ignore").decode()
            out.append(plain or "?")
    return "".join(out)


class _Document(FPDF):
    def page_with_title(self, title: str, view_line: str = "") -> None:
        self.add_page()
        self.set_font("Helvetica", "B", 20)
        self.set_xy(MARGIN, 8)
        self.multi_cell(PAGE_W - 2 * MARGIN, 9, latin(title))
        if view_line:
            self.set_font("Helvetica", "", 9)
            self.set_x(MARGIN)
            self.multi_cell(PAGE_W - 2 * MARGIN, 5, latin(view_line))
        self.ln(2)

    def lines(self, lines: list[str], size: float = 11) -> None:
        self.set_font("Helvetica", "", size)
        for line in lines:
            self.set_x(MARGIN)
            self.multi_cell(PAGE_W - 2 * MARGIN, size * 0.5, latin(line))

    def grid(self, frame: pd.DataFrame, index: bool = False) -> None:
        body = frame.reset_index() if index else frame
        self.set_font("Helvetica", "", 9)
        with self.table(
            width=PAGE_W - 2 * MARGIN,
            headings_style=FontFace(emphasis="BOLD"),
            line_height=5,
            text_align="LEFT",
        ) as table:
            table.row([latin(str(c)) for c in body.columns])
            for values in body.itertuples(index=False):
                table.row([latin(str(v)) for v in values])


def _notes(doc: _Document, content: Content) -> None:
    lines = content.notes()
    doc.set_y(max(doc.get_y() + 2, PAGE_H - 28))
    doc.lines(lines, size=7)


def _chart_points(doc: _Document, chart: NativeChart) -> None:
    # the slide's editable chart has no PDF counterpart: the image shows the curves, and
    # the number at risk is printed as a table under it
    if chart.at_risk is not None:
        doc.lines(["Number at risk (months since procedure)"], size=9)
        doc.grid(chart.at_risk, index=True)


def _card(doc: _Document, content: Content, image: bytes | None) -> None:
    if content.withheld:
        doc.page_with_title(content.title, content.view_line)
        doc.lines([content.withheld])
        _notes(doc, content)
        return
    if image is not None:
        doc.page_with_title(content.title, content.view_line)
        top = doc.get_y()
        height = PAGE_H - top - 30
        width = height * 16 / 9
        doc.image(io.BytesIO(image), x=(PAGE_W - width) / 2, y=top, w=width, h=height)
        doc.set_y(top + height + 1)
        _notes(doc, content)
    if content.chart is not None and content.chart.at_risk is not None:
        doc.page_with_title(f"{content.title}: number at risk", content.view_line)
        _chart_points(doc, content.chart)
        _notes(doc, content)
    for table in content.tables:
        frame = table.frame
        parts = [
            frame.iloc[i : i + ROWS_PER_PAGE] for i in range(0, max(len(frame), 1), ROWS_PER_PAGE)
        ]
        for k, part in enumerate(parts):
            more = f" ({k + 1} of {len(parts)})" if len(parts) > 1 else ""
            doc.page_with_title(table.heading(content.title) + more, content.view_line)
            doc.grid(part)
            _notes(doc, content)


def write_pdf(pack: Pack) -> bytes:
    doc = _Document(orientation="L", unit="mm", format=(PAGE_H, PAGE_W))
    doc.set_auto_page_break(False)
    doc.set_margins(MARGIN, MARGIN, MARGIN)
    doc.add_page()
    doc.set_font("Helvetica", "B", 28)
    doc.set_xy(MARGIN, 40)
    doc.multi_cell(PAGE_W - 2 * MARGIN, 12, latin(pack.study))
    doc.ln(6)
    doc.lines(pack.title_lines(), size=14)
    for content, image in zip(pack.contents, pack.images, strict=True):
        _card(doc, content, image)
    doc.page_with_title("Provenance")
    doc.lines(pack.provenance_lines(), size=10)
    return bytes(doc.output())
