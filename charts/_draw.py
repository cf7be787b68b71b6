"""Layout pieces every figure shares: legend, caption, goal line, finished layout.

The legend sits above the plot, with the layout pixels it takes estimated so the plot
keeps its height; the caption (what the marks mean, then the provenance footnote) is
written under the plot, wrapped to the figure's width; a performance goal is a dashed
line with its value written on it; :func:`finish_layout` sets title, legend, caption,
margins and the export metadata of the simpler figures. The step curves themselves are
drawn by :mod:`charts._curves`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import plotly.graph_objects as go

from charts._text import esc, wrap
from charts.theme import Theme, base_layout


@dataclass(frozen=True)
class LegendPlace:
    """Legend settings and the layout pixels it takes above the plot and to its right."""

    settings: dict[str, Any]
    top_px: float
    right_px: float = 0.0

    def margin(self, left: float, top: float, bottom: float) -> dict[str, Any]:
        """The figure's margins, with room on the right for a legend placed there."""
        return {"l": left, "r": 30 + self.right_px, "t": top, "b": bottom, "autoexpand": False}


def _plain_length(line: str) -> int:
    for tag in ("<b>", "</b>", "<i>", "</i>"):
        line = line.replace(tag, "")
    return len(line)


def legend(names: list[str], th: Theme, width: float) -> LegendPlace:
    """Where the legend goes and the layout pixels it takes.

    Presentation figures have a known width, so entries sit side by side above the plot
    (the rows Plotly wraps them onto are estimated); on a page's screen (`th.on_screen`,
    wider than tall) entries that would wrap sit beside the plot instead, which keeps
    the plot tall enough to read in a window's height. Normal figures stretch to their
    container, whose width is unknown: one entry per row, a height that cannot be wrong.
    """
    settings: dict[str, Any] = {
        "x": 0.0,
        "y": 1.0,
        "xanchor": "left",
        "yanchor": "bottom",
        "yref": "paper",
        "bgcolor": "rgba(255,255,255,0)",
        "font": {"size": th.font_size},
        "traceorder": "normal",
        "itemwidth": 50,
    }
    line_px = th.font_size * 1.3
    if th.name != "presentation":
        settings["orientation"] = "v"
        px = sum((n.count("<br>") + 1) * line_px + 4 for n in names) + 10
        return LegendPlace(settings, px)
    lines = max(n.count("<br>") + 1 for n in names)
    widths = [
        70 + 0.47 * th.font_size * max(_plain_length(x) for x in n.split("<br>")) for n in names
    ]
    if sum(widths) <= width:
        rows = 1
    else:  # Plotly wraps a horizontal legend into columns as wide as its widest entry
        across = max(1, int(width // max(widths)))
        rows = math.ceil(len(names) / across)
    if th.on_screen and rows > 1 and max(widths) <= 0.45 * width:
        settings.update(orientation="v", x=1.0, xanchor="left", y=1.0, yanchor="top")
        return LegendPlace(settings, 0.0, max(widths) + 10)
    settings["orientation"] = "h"
    return LegendPlace(settings, rows * (lines * line_px + 10) + 6)


def caption(notes: list[str], footnote: str, th: Theme) -> tuple[str, float]:
    """The figure's caption (what the marks mean, then the provenance footnote),
    wrapped, and its height in layout pixels."""
    text = wrap(" · ".join(notes) + "\n" + footnote, th.footnote_chars(th.width - 20))
    if th.caption_below:
        return text, 0.0
    return text, (text.count("<br>") + 1) * th.small_size * 1.3 + 12


def add_caption(fig: go.Figure, text: str, th: Theme, left_px: float, yshift: float) -> None:
    """The caption at the bottom left of the figure, under everything else."""
    fig.add_annotation(
        x=0,
        y=0,
        xref="paper",
        yref="paper",
        xanchor="left",
        yanchor="top",
        align="left",
        xshift=-(left_px - 10),
        yshift=-yshift,
        showarrow=False,
        text=text,
        font={"size": th.small_size, "color": th.muted_colour},
        name="caption",
        # printed by the page under the figure (`caption` gave it no room): kept,
        # hidden, so that the figure still carries it
        visible=not th.caption_below,
    )


def goal_line(
    fig: go.Figure,
    goal: float,
    label: str,
    th: Theme,
    *,
    vertical: bool = False,
    yref: str = "y",
    xref: str = "x",
) -> None:
    """A performance goal (a proportion) as a dashed line with its value written on it."""
    if not 0 <= goal <= 1:
        raise ValueError("a performance goal is a proportion between 0 and 1")
    style = {"color": th.text_colour, "width": max(1.5, th.line_width * 0.5), "dash": "dash"}
    text = f"{esc(label)} {100 * goal:g}%"
    if vertical:
        fig.add_shape(
            type="line",
            x0=100 * goal,
            x1=100 * goal,
            y0=0,
            y1=1,
            xref=xref,
            yref=f"{yref} domain",
            line=style,
            name="goal",
        )
        fig.add_annotation(
            x=100 * goal,
            y=1.0,
            xref=xref,
            yref=f"{yref} domain",
            xanchor="right",
            yanchor="top",
            xshift=-6,
            showarrow=False,
            text=text,
            font={"size": th.font_size, "color": th.text_colour},
            bgcolor="rgba(255,255,255,0.8)",
            name="goal",
        )
    else:
        fig.add_shape(
            type="line",
            x0=0,
            x1=1,
            y0=100 * goal,
            y1=100 * goal,
            xref=f"{xref} domain",
            yref=yref,
            line=style,
            name="goal",
        )
        fig.add_annotation(
            x=0.0,
            y=100 * goal,
            xref=f"{xref} domain",
            yref=yref,
            xanchor="left",
            yanchor="bottom",
            xshift=4,
            showarrow=False,
            text=text,
            font={"size": th.font_size, "color": th.text_colour},
            bgcolor="rgba(255,255,255,0.8)",
            name="goal",
        )


def finish_layout(
    fig: go.Figure,
    th: Theme,
    *,
    title: str | None,
    notes: list[str],
    footnote: str,
    legend_names: list[str],
    kind: str,
    extra_top: float = 0.0,
    plot_px: float | None = None,
    left: float | None = None,
    axis_title: bool = True,
    plot_share: float = 0.42,
) -> None:
    """Title, legend under it, caption below the plot, margins and export metadata.

    plot_px: height of the plotting area (default: whatever the theme's height leaves,
    at least `plot_share` of it); extra_top: room above the plot for panel titles."""
    caption_text, caption_px = caption(notes, footnote, th)
    left = left if left is not None else max(70.0, 4.2 * th.tick_size + th.font_size * 1.6)
    # Plotly wraps a legend above the plot at the plot's width, not the figure's
    place = legend(legend_names, th, th.width - left - 30)
    title_px = th.title_size * 2.0 if title else th.font_size * 0.6
    top_px = title_px + place.top_px + extra_top
    # tick labels, then the axis title under them (when the figure has one)
    axis_px = th.tick_size * 2.0 + (th.font_size * 2.4 if axis_title else 0.0) + 10
    bottom_px = axis_px + caption_px + 8
    if plot_px is None:
        height = int(max(th.height, top_px + bottom_px + plot_share * th.height))
    else:
        height = int(top_px + bottom_px + plot_px)
    add_caption(fig, caption_text, th, left, axis_px)
    layout = base_layout(th, title)
    if not place.right_px:
        place.settings.update(yref="container", y=1 - title_px / height, yanchor="top")
    layout.update(
        height=height,
        margin=place.margin(left, top_px, bottom_px),
        legend=place.settings,
        meta={"footnote": footnote, "kind": kind, "title": title or kind},
        hovermode="closest",
    )
    fig.update_layout(**layout)


def width_for(needed: float, th: Theme) -> int | None:
    """A figure's layout width when its text needs `needed` pixels: a slide's is fixed;
    a page's keeps what it needs (the page scrolls sideways rather than print text over
    text), and a presentation figure laid out for a page wide enough stretches to it
    (None)."""
    if not th.on_screen:  # a slide, or a normal page whose width is unknown
        return int(max(needed, th.width))
    return int(needed) if needed > th.width + 1 else None
