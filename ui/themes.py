"""The figure theme a view asks for: normal, or presentation (large type, high
contrast) when the view is in presentation mode."""

from __future__ import annotations

from dataclasses import replace

from analytics.model.view import View
from charts.theme import Theme, get_theme
from ui import disclosure, viewport

# Presentation figures are laid out for a 1600-pixel slide; on the page they are laid
# out for the page's measured column width, or this width before the browser has said
# (a projector's page, sidebar collapsed, exceeds it), so legends and captions never
# wrap beyond what the layout reserved.
SCREEN_PRESENTATION_WIDTH = 1000
# Below this a presentation figure's 18-pixel type leaves no room for the plot: the
# page scrolls instead.
MIN_SCREEN_WIDTH = 560
MIN_SCREEN_HEIGHT = 380
# room between the figure's foot and the window's edge
FIT_MARGIN = 12


def figure_theme(view: View) -> Theme:
    """The theme of an exported figure, its counts under this run's protection."""
    th = get_theme("presentation" if view.presentation else "normal")
    return replace(th, small_cells=disclosure.small_cells())


def slide_theme() -> Theme:
    """The 16:9 slide theme of a figure's images, under this run's protection."""
    return replace(get_theme("presentation"), small_cells=disclosure.small_cells())


def screen_theme(view: View) -> Theme:
    """`figure_theme` for a figure drawn on the page. In presentation mode it is laid out
    for the page's width and, when the browser has said how much of the window lies
    below the page's first figure, no taller than that."""
    th = figure_theme(view)
    if not view.presentation:
        # a page may be narrower than the theme: the caption wraps to the page
        return replace(th, caption_below=True)
    screen = viewport.current()
    if screen is None:
        return _on_screen(th, SCREEN_PRESENTATION_WIDTH, th.height)
    width = max(MIN_SCREEN_WIDTH, min(screen.width, th.width))
    below = screen.below_first_figure
    height = th.height if below is None else max(MIN_SCREEN_HEIGHT, below - FIT_MARGIN)
    return _on_screen(th, width, min(height, th.height))


def _on_screen(th: Theme, width: int, height: int) -> Theme:
    # a slide's type, a little smaller for a page narrower than a slide, and still at
    # least 18 pixels, which reads from the back of a committee room
    return replace(
        th,
        width=width,
        height=height,
        on_screen=True,
        caption_below=True,
        font_size=21,
        title_size=26,
        tick_size=20,
        table_size=19,
    )


def screen_key(view: View) -> tuple[int, int, int] | int:
    """What of the screen and the protection a page's figures depend on (part of their
    cache key)."""
    if not view.presentation:
        return disclosure.small_cells()
    th = screen_theme(view)
    return (th.width, th.height, th.small_cells)
