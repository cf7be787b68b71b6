"""A figure on the page with its three downloads: PNG for a slide, SVG, and CSV.

Images are made by Chromium (kaleido), about 4 s for the first one in a process,
so nothing is rendered while the page runs: each download button holds a callable
that Streamlit runs only when the button is clicked (``st.download_button`` with
callable ``data``), in a thread of its own. The bytes are cached on the figure's
JSON, so a second click, or another user with the same view, costs nothing.

Every export carries the active filters and the data source with its synthetic
notice: written under the figure in the images, as ``#`` header lines in the CSV.
"""

from __future__ import annotations

import base64
import html
import logging
import re
import textwrap
from collections.abc import Callable
from typing import Any

import numpy as np
import plotly.graph_objects as go
import plotly.io as pio
import streamlit as st

from analytics.model.basket import Card
from charts import export
from ui import basket
from ui.context import Context, published
from ui.notes import source_text

log = logging.getLogger("dva.ui")

SLIDE_WIDTH = export.DEFAULT_WIDTH  # layout pixels; the PNG is twice that (scale 2)
PLOTLY_CONFIG = {"displaylogo": False, "modeBarButtonsToRemove": ["select2d", "lasso2d"]}

FigureSource = go.Figure | Callable[[], go.Figure]


def export_lines(ctx: Context | None) -> list[str]:
    """The lines every export carries: the view, then data source and notice."""
    if ctx is None:
        return []
    # the view's printable form: filters, then the comparison and any changed option
    return [ctx.view.describe(ctx.labels), source_text(ctx.store)]


@st.cache_data(max_entries=256, ttl=3600, show_spinner=False)
def _built(kind: str, key: tuple[Any, ...], _build: Callable[[], go.Figure]) -> dict[str, Any]:
    return _build().to_dict()


def _arrays(obj: Any) -> Any:
    """Plotly's base64 typed arrays ({"dtype", "bdata"[, "shape"]}) back to numpy."""
    if isinstance(obj, dict):
        if "bdata" in obj and "dtype" in obj:
            out = np.frombuffer(base64.b64decode(obj["bdata"]), dtype=obj["dtype"])
            shape = obj.get("shape")
            if shape:
                dims = shape.split(",") if isinstance(shape, str) else shape
                out = out.reshape(tuple(int(d) for d in dims))
            return out
        return {k: _arrays(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_arrays(v) for v in obj]
    return obj


def cached_figure(kind: str, key: tuple[Any, ...], build: Callable[[], go.Figure]) -> go.Figure:
    """`build()`, made once per (`kind`, `key`) and kept as a plain dict.

    Building a figure validates every property (about 100 ms for a Kaplan-Meier figure
    with its risk table); a cached one is rebuilt from its dict without validation in
    a few ms. `key` must hold everything the figure depends on (data, filters, view
    options, any page setting): see `ui.data.view_key`.
    """
    # the dict holds base64 typed arrays, which the browser reads as they are; exports
    # that read the numbers (CSV) get numpy arrays back (see `_csv_bytes`)
    return go.Figure(_built(kind, key, build), _validate=False)


def stamped(fig: go.Figure, lines: list[str]) -> go.Figure:
    """A copy of `fig` with `lines` written under everything else, the figure made
    taller by as much, so nothing already there moves or is covered."""
    if not lines:
        return go.Figure(fig)
    out = go.Figure(fig)
    font = out.layout.font.size or 14
    size = max(11, round(0.72 * font))
    width = out.layout.width or SLIDE_WIDTH
    chars = max(40, int(width / (0.55 * size)))
    wrapped = [w for line in lines for w in (textwrap.wrap(line, chars) or [""])]
    extra = len(wrapped) * size * 1.35 + 10
    margin = out.layout.margin
    bottom = margin.b if margin.b is not None else 80
    left = margin.l if margin.l is not None else 80
    out.add_annotation(
        x=0,
        y=0,
        xref="paper",
        yref="paper",
        xanchor="left",
        yanchor="top",
        align="left",
        xshift=-(left - 10),
        yshift=-bottom,
        showarrow=False,
        text="<br>".join(w.replace("<", "&lt;") for w in wrapped),
        font={"size": size, "color": "#1A1A1A"},
        name="export stamp",
    )
    height = out.layout.height or export.DEFAULT_HEIGHT
    out.update_layout(height=int(height + extra), margin={"b": bottom + extra})
    return out


@st.cache_data(max_entries=64, ttl=3600, show_spinner=False)
def _image(fig_json: str, fmt: str) -> bytes:
    fig = pio.from_json(fig_json, skip_invalid=True)
    width = int(fig.layout.width or SLIDE_WIDTH)
    if fmt == "png":
        return export.to_png(fig, width=width)
    return export.to_svg(fig, width=width)


def _slide(source: FigureSource, lines: list[str]) -> go.Figure:
    fig = source() if callable(source) else source
    return stamped(fig, lines)


def _image_bytes(
    source: FigureSource, lines: list[str], fmt: str, name: str
) -> Callable[[], bytes]:
    def make() -> bytes:
        try:
            return _image(_slide(source, lines).to_json(), fmt)
        except Exception:
            log.exception("%s export of %s failed", fmt.upper(), name)
            raise

    return make


def _csv_bytes(fig: go.Figure, lines: list[str]) -> Callable[[], bytes]:
    def make() -> bytes:
        head = "".join("# " + " ".join(line.split()) + "\n" for line in lines)
        plain = go.Figure(_arrays(fig.to_plotly_json()), _validate=False)
        return head.encode("utf-8") + export.to_csv(plain)

    return make


WIDE_CSS = """<style>
.st-key-{key} {{ overflow-x: auto; }}
.st-key-{key}_inner {{ min-width: {width}px; }}
</style>"""


def hidden_captions(fig: go.Figure) -> list[str]:
    """The captions a figure laid out for the page's screen leaves to the page to print
    (`charts.theme.Theme.caption_below`), as plain lines."""
    found = []
    for ann in fig.layout.annotations or ():
        if ann.name == "caption" and ann.visible is False and ann.text:
            plain = re.sub(r"<[^>]+>", " ", ann.text.replace("<br>", " "))
            found.append(html.unescape(" ".join(plain.split())))
    return found


def show_figure(
    fig: go.Figure,
    name: str,
    *,
    caption: str | None = None,
    slide: Callable[[], go.Figure] | None = None,
    card: str | Card | None = None,
) -> None:
    """Draw `fig` across the page, then PNG, SVG and CSV download buttons.

    `slide` builds the figure for the images (the presentation theme, sized for a
    16:9 slide); by default the images are of `fig` itself, 1600 layout pixels wide.
    Nothing is rendered until a button is clicked. `card`: the kind of report card the
    figure is (`analytics.model.basket.KINDS`), offered as "Add to report".
    """
    ctx = published()
    lines = export_lines(ctx)
    if fig.layout.xaxis.title.text and fig.layout.xaxis.title.standoff is None:
        # The browser's plotly.js puts an x-axis title lower than kaleido does, onto the
        # first caption line of figures without a risk table; keep it near the ticks.
        fig.update_xaxes(title_standoff=6, selector={"anchor": "y"})
    # theme=None: the figure as charts designed it, the same as its PNG, not restyled
    if fig.layout.width:
        # a figure that set its own width (a forest plot whose columns need it) keeps it
        # and scrolls sideways on a narrow page rather than print columns over each other
        with st.container(key=f"wide_{name}"):
            st.html(WIDE_CSS.format(key=f"wide_{name}", width=int(fig.layout.width)))
            with st.container(key=f"wide_{name}_inner"):
                st.plotly_chart(
                    fig, width="content", theme=None, key=f"fig_{name}", config=PLOTLY_CONFIG
                )
    else:
        st.plotly_chart(fig, width="stretch", theme=None, key=f"fig_{name}", config=PLOTLY_CONFIG)
    for text in hidden_captions(fig):
        st.caption(text)
    if caption:
        st.caption(caption)
    source: FigureSource = slide if slide is not None else fig
    with st.container(horizontal=True, gap="small", key=f"downloads_{name}"):
        st.download_button(
            "PNG for slides",
            data=_image_bytes(source, lines, "png", name),
            file_name=f"{name}.png",
            mime="image/png",
            key=f"png_{name}",
            on_click="ignore",
            icon=":material/image:",
            help="A 3200 x 1800 pixel image (16:9) with the filters and data source "
            "written under the figure. The first image takes a few seconds.",
        )
        st.download_button(
            "SVG",
            data=_image_bytes(source, lines, "svg", name),
            file_name=f"{name}.svg",
            mime="image/svg+xml",
            key=f"svg_{name}",
            on_click="ignore",
            icon=":material/draw:",
            help="A vector image of the same slide, for editing.",
        )
        st.download_button(
            "CSV of the numbers",
            data=_csv_bytes(fig, lines),
            file_name=f"{name}.csv",
            mime="text/csv",
            key=f"csv_{name}",
            on_click="ignore",
            icon=":material/table:",
            help="Every plotted number, with the filters, data source and method as "
            "# header lines (pandas.read_csv(f, comment='#')).",
        )
        if card is not None and ctx is not None:
            basket.add_button(card, ctx.view, key=f"fig_{name}", labels=ctx.labels)
