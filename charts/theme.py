"""Normal (screen) and presentation (projector, slide) looks for every figure.

Presentation mode is laid out for a 1600 x 900 slide read from the back of a room:
text at least 20 px in layout pixels (40 px in the scale-2 PNG), pure black ink, lines
5 px wide, censor marks large enough to count. Both modes use a font that Chromium
finds on Debian (Liberation Sans is metric-compatible with Arial), so the PNG export
looks like the browser.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from charts.palette import INK, MUTED

Mode = Literal["normal", "presentation"]
FONT_FAMILY = "Arial, 'Liberation Sans', Helvetica, 'DejaVu Sans', sans-serif"


@dataclass(frozen=True)
class Theme:
    name: Mode
    # Layout pixels. Presentation figures are exactly this wide; normal figures stretch
    # to their container and lay their text out (footnote wrapping, margins) for a
    # container at least this wide.
    width: int
    height: int
    font_size: int  # axis titles, legend, annotations
    title_size: int
    tick_size: int
    table_size: int  # numbers in the at-risk table and forest columns
    small_size: int  # the footnote
    line_width: float
    marker_size: int
    axis_width: float
    band_alpha: float  # opacity of confidence-band fills
    faded_opacity: float  # curve parts with few patients at risk
    text_colour: str = INK
    muted_colour: str = MUTED
    grid_colour: str = "#E3E3E3"
    font_family: str = FONT_FAMILY
    # A presentation figure drawn on a page rather than exported: laid out for the
    # page's measured size, its legend beside the plot when it would otherwise take
    # rows above it.
    on_screen: bool = False
    # The caption is printed by the page under the figure (wrapped to the page, in the
    # page's type) rather than drawn in it; the figure keeps it, hidden.
    caption_below: bool = False
    # Small-cell protection: a count from 1 to small_cells - 1 is printed as
    # "<small_cells" (0: every count printed); see `analytics.model.disclosure`.
    small_cells: int = 0

    def hides(self, n: float) -> bool:
        return 1 <= n < self.small_cells

    def count(self, n: float) -> str:
        """A count as the figure prints it: "1,234", or "<11" under protection."""
        return f"<{self.small_cells}" if self.hides(n) else f"{n:,.0f}"

    @property
    def table_row_px(self) -> float:
        """Height of one row of the at-risk table or forest plot, in layout pixels."""
        return 1.6 * self.table_size

    def footnote_chars(self, width: float | None = None) -> int:
        """How many characters of footnote fit on a line this many layout pixels wide."""
        w = width or self.width
        return max(40, int(w / (0.52 * self.small_size)))


NORMAL = Theme(
    name="normal",
    width=720,
    height=640,
    font_size=14,
    title_size=18,
    tick_size=13,
    table_size=13,
    small_size=11,
    line_width=2.5,
    marker_size=9,
    axis_width=1.2,
    band_alpha=0.15,
    faded_opacity=0.3,
)

PRESENTATION = Theme(
    name="presentation",
    width=1600,
    height=900,
    font_size=24,
    title_size=30,
    tick_size=22,
    table_size=21,
    small_size=15,
    line_width=5.0,
    marker_size=15,
    axis_width=2.5,
    band_alpha=0.18,
    faded_opacity=0.3,
    text_colour="#000000",
    muted_colour="#333333",
    grid_colour="#D9D9D9",
)

THEMES: dict[str, Theme] = {"normal": NORMAL, "presentation": PRESENTATION}


def get_theme(mode: Mode | Theme = "normal") -> Theme:
    if isinstance(mode, Theme):
        return mode
    try:
        return THEMES[mode]
    except KeyError:
        raise ValueError(f"unknown theme {mode!r}; choose 'normal' or 'presentation'") from None


def base_layout(theme: Theme, title: str | None = None) -> dict[str, Any]:
    """Layout shared by every figure: white, one font, no Plotly logo colours."""
    layout: dict[str, Any] = {
        "template": "simple_white",
        # a figure on a page stretches to it (laid out for its measured width)
        "width": theme.width if theme.name == "presentation" and not theme.on_screen else None,
        "height": theme.height,
        "font": {"family": theme.font_family, "size": theme.font_size, "color": theme.text_colour},
        "paper_bgcolor": "white",
        "plot_bgcolor": "white",
        "hoverlabel": {"font": {"family": theme.font_family, "size": theme.tick_size}},
        "showlegend": True,
    }
    if title:
        layout["title"] = {
            "text": title,
            "x": 0.0,
            "xref": "paper",
            "xanchor": "left",
            "y": 1.0,
            "yref": "container",
            "yanchor": "top",
            "pad": {"t": max(8, theme.title_size // 3)},
            "font": {"size": theme.title_size, "color": theme.text_colour},
        }
    return layout


def axis_style(theme: Theme, grid: bool = True) -> dict[str, Any]:
    """Axis lines, ticks and grid for a data axis."""
    return {
        "showline": True,
        "linewidth": theme.axis_width,
        "linecolor": theme.text_colour,
        "ticks": "outside",
        "tickwidth": theme.axis_width,
        "ticklen": max(5, theme.tick_size // 2),
        "tickcolor": theme.text_colour,
        "tickfont": {"size": theme.tick_size, "color": theme.text_colour},
        "title": {"font": {"size": theme.font_size, "color": theme.text_colour}},
        "showgrid": grid,
        "gridcolor": theme.grid_colour,
        "zeroline": False,
        "mirror": False,
    }
