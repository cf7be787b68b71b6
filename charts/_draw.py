"""Layout pieces every figure shares: legend, caption, goal line, finished layout.

The legend sits above the plot, with the layout pixels it takes estimated so the plot
keeps its height; the caption (what the marks mean, then the provenance footnote) is
written under the plot, wrapped to the figure's width; a performance goal is a dashed
line with its value written on it; :func:`finish_layout` sets title, legend, caption,
margins and the export metadata of the simpler figures. The step curves themselves are
drawn by :mod:`charts._curves`.
"""

from __future__ import annotations

from typing import Any

import plotly.graph_objects as go

from charts._text import esc, wrap
from charts.theme import Theme, base_layout


def legend(names: list[str], th: Theme, width: float) -> tuple[dict[str, Any], float]:
    """Legend settings above the plot, and the layout pixels it takes.

    Presentation figures have a fixed width, so entries sit side by side (the rows
    Plotly wraps them onto are estimated). Normal figures stretch to their container,
    whose width is unknown: one entry per row, a height that cannot be wrong.
    """

    def plain(line: str) -> int:
        for tag in ("<b>", "</b>", "<i>", "</i>"):
            line = line.replace(tag, "")
        return len(line)

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
        return settings, px
    settings["orientation"] = "h"
    lines = max(n.count("<br>") + 1 for n in names)
    widths = [70 + 0.47 * th.font_size * max(plain(x) for x in n.split("<br>")) for n in names]
    rows, used = 1, 0.0
    for w in widths:
        if used and used + w > width:
            rows, used = rows + 1, 0.0
        used += w
    return settings, rows * (lines * line_px + 10) + 6


def caption(notes: list[str], footnote: str, th: Theme) -> tuple[str, float]:
    """The figure's caption (what the marks mean, then the provenance footnote),
    wrapped, and its height in layout pixels."""
    text = wrap(" · ".join(notes) + "\n" + footnote, th.footnote_chars(th.width - 20))
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
    legend_settings, legend_px = legend(legend_names, th, th.width - 60)
    title_px = th.title_size * 2.0 if title else th.font_size * 0.6
    top_px = title_px + legend_px + extra_top
    # tick labels, then the axis title under them (when the figure has one)
    axis_px = th.tick_size * 2.0 + (th.font_size * 2.4 if axis_title else 0.0) + 10
    bottom_px = axis_px + caption_px + 8
    if plot_px is None:
        height = int(max(th.height, top_px + bottom_px + plot_share * th.height))
    else:
        height = int(top_px + bottom_px + plot_px)
    left = left if left is not None else max(70.0, 4.2 * th.tick_size + th.font_size * 1.6)
    add_caption(fig, caption_text, th, left, axis_px)
    layout = base_layout(th, title)
    legend_settings.update(yref="container", y=1 - title_px / height, yanchor="top")
    layout.update(
        height=height,
        margin={"l": left, "r": 30, "t": top_px, "b": bottom_px, "autoexpand": False},
        legend=legend_settings,
        meta={"footnote": footnote, "kind": kind, "title": title or kind},
        hovermode="closest",
    )
    fig.update_layout(**layout)
