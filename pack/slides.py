"""The pack as a PowerPoint deck (python-pptx), 16:9.

- A title slide: study, data source, the synthetic notice on demo data, the date, the
  views in words and how many patients each holds of all.
- Per card: its figure as an image; its curves again as a native, editable line chart
  (the step corners as points) with the number at risk as a native table beneath; its
  tables as native tables (long ones continue on the next slide). Every slide of a card
  carries the card's view, methods and the user's comment in its speaker notes.
- A provenance slide: data fingerprint, software versions, the views, the protection
  setting and the link that reproduces the pack.

A committee secretary restyles charts and tables in PowerPoint instead of retyping them.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

import pandas as pd
from pptx import Presentation
from pptx.chart.data import XyChartData
from pptx.dml.color import RGBColor
from pptx.enum.chart import XL_CHART_TYPE, XL_LEGEND_POSITION
from pptx.slide import Slide
from pptx.util import Emu, Inches, Pt

from charts.palette import OKABE_ITO
from pack.build import Pack
from pack.content import Content, NativeChart, Table

WIDTH, HEIGHT = Inches(13.333), Inches(7.5)
MARGIN = Inches(0.5)
TITLE_HEIGHT = Inches(0.8)
ROWS_PER_SLIDE = 14
BODY_PT, SMALL_PT, TABLE_PT = 18, 12, 12
INK = RGBColor(0x22, 0x22, 0x22)


def _blank(prs: Presentation) -> Slide:
    return prs.slides.add_slide(prs.slide_layouts[6])  # layout 6: blank


def _text(slide: Slide, text: str, top: int, height: int, size: int, bold: bool = False) -> None:
    box = slide.shapes.add_textbox(MARGIN, top, WIDTH - 2 * MARGIN, height)
    frame = box.text_frame
    frame.word_wrap = True
    for i, line in enumerate(text.split("\n")):
        para = frame.paragraphs[0] if i == 0 else frame.add_paragraph()
        run = para.add_run()
        run.text = line
        run.font.size = Pt(size)
        run.font.bold = bold
        run.font.color.rgb = INK


def _titled(prs: Presentation, title: str, view_line: str = "") -> Slide:
    slide = _blank(prs)
    _text(slide, title, Inches(0.25), TITLE_HEIGHT, 28, bold=True)
    if view_line:
        _text(slide, view_line, Inches(0.95), Inches(0.4), SMALL_PT)
    return slide


def _notes(slide: Slide, content: Content) -> None:
    lines = [content.view_line, *content.notes()]
    slide.notes_slide.notes_text_frame.text = "\n".join(lines)


def _table(slide: Slide, frame: pd.DataFrame, top: int, height: int, index: bool = False) -> None:
    body = frame.reset_index() if index else frame
    rows, cols = len(body) + 1, len(body.columns)
    shape = slide.shapes.add_table(rows, cols, MARGIN, top, WIDTH - 2 * MARGIN, height)
    table = shape.table
    for j, name in enumerate(body.columns):
        _cell(table.cell(0, j), str(name), bold=True)
    for i, row in enumerate(body.itertuples(index=False), start=1):
        for j, value in enumerate(row):
            _cell(table.cell(i, j), str(value))


def _cell(cell: object, text: str, bold: bool = False) -> None:
    cell.text = text  # type: ignore[attr-defined]
    for para in cell.text_frame.paragraphs:  # type: ignore[attr-defined]
        for run in para.runs:
            run.font.size = Pt(TABLE_PT)
            run.font.bold = bold


def _chunks(frame: pd.DataFrame, size: int) -> list[pd.DataFrame]:
    return [frame.iloc[i : i + size] for i in range(0, max(len(frame), 1), size)]


def _chart(slide: Slide, chart: NativeChart, top: int, height: int) -> None:
    data = XyChartData()
    for s in chart.series:
        series = data.add_series(s.name)
        for x, y in zip(s.x, s.y, strict=True):
            series.add_data_point(x, y)
    frame = slide.shapes.add_chart(
        XL_CHART_TYPE.XY_SCATTER_LINES_NO_MARKERS,
        MARGIN,
        top,
        WIDTH - 2 * MARGIN,
        height,
        data,
    )
    plot = frame.chart
    plot.has_legend = True
    plot.legend.position = XL_LEGEND_POSITION.TOP
    plot.legend.include_in_layout = False
    plot.legend.font.size = Pt(SMALL_PT)
    y_axis, x_axis = plot.value_axis, plot.category_axis
    y_axis.minimum_scale, y_axis.maximum_scale = 0, 100
    x_axis.minimum_scale = 0
    for axis, title in ((x_axis, chart.x_title), (y_axis, chart.y_title)):
        axis.has_title = True
        axis.axis_title.text_frame.text = title
        axis.axis_title.text_frame.paragraphs[0].runs[0].font.size = Pt(SMALL_PT)
        axis.tick_labels.font.size = Pt(SMALL_PT)
    for i, series in enumerate(plot.series):
        series.format.line.color.rgb = RGBColor.from_string(OKABE_ITO[i % len(OKABE_ITO)][1:])
        series.format.line.width = Pt(2.25)
        series.smooth = False


def _card(prs: Presentation, content: Content, image: bytes | None) -> None:
    top = Inches(1.4)
    room = HEIGHT - top - Inches(0.3)
    if content.withheld:
        slide = _titled(prs, content.title, content.view_line)
        _text(slide, content.withheld, top, Inches(1), BODY_PT)
        _notes(slide, content)
        return
    if image is not None:
        slide = _titled(prs, content.title, content.view_line)
        # the image keeps its 16:9 shape within the room under the title
        height = room
        width = Emu(int(height * 16 / 9))
        slide.shapes.add_picture(io.BytesIO(image), (WIDTH - width) // 2, top, width, height)
        _notes(slide, content)
    if content.chart is not None:
        slide = _titled(prs, f"{content.title} (editable chart)", content.view_line)
        risk = content.chart.at_risk
        table_height = Inches(0.35) * (0 if risk is None else len(risk) + 1)
        _chart(slide, content.chart, top, room - table_height)
        if risk is not None:
            _table(slide, risk, top + room - table_height, table_height, index=True)
        _notes(slide, content)
    for table in content.tables:
        _table_slides(prs, content, table)


def _table_slides(prs: Presentation, content: Content, table: Table) -> None:
    parts = _chunks(table.frame, ROWS_PER_SLIDE)
    for k, part in enumerate(parts):
        more = f" ({k + 1} of {len(parts)})" if len(parts) > 1 else ""
        slide = _titled(prs, table.heading(content.title) + more, content.view_line)
        _table(slide, part, Inches(1.4), Inches(0.4) * (len(part) + 1))
        _notes(slide, content)


def _title_slide(prs: Presentation, pack: Pack) -> None:
    slide = _blank(prs)
    _text(slide, pack.study, Inches(1.5), Inches(1.2), 36, bold=True)
    _text(slide, "\n".join(pack.title_lines()), Inches(3.0), Inches(3.5), BODY_PT)


def _provenance_slide(prs: Presentation, pack: Pack) -> None:
    slide = _titled(prs, "Provenance")
    lines = pack.provenance_lines()
    _text(slide, "\n".join(lines), Inches(1.2), HEIGHT - Inches(1.6), SMALL_PT + 2)


def write_pptx(pack: Pack) -> bytes:
    prs = Presentation()
    prs.slide_width, prs.slide_height = WIDTH, HEIGHT
    _title_slide(prs, pack)
    for content, image in zip(pack.contents, pack.images, strict=True):
        _card(prs, content, image)
    _provenance_slide(prs, pack)
    buf = io.BytesIO()
    prs.save(buf)
    return buf.getvalue()


def slide_titles(data: bytes) -> Sequence[str]:
    """The first line of text on each slide (for checks and the report page)."""
    prs = Presentation(io.BytesIO(data))
    out = []
    for slide in prs.slides:
        texts = [s.text_frame.text for s in slide.shapes if s.has_text_frame and s.text_frame.text]
        out.append(texts[0].split("\n")[0] if texts else "")
    return out
