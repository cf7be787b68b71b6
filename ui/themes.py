"""The figure theme a view asks for: normal, or presentation (large type, high
contrast) when the view is in presentation mode."""

from __future__ import annotations

from dataclasses import replace

from analytics.model.view import View
from charts.theme import Theme, get_theme

# Presentation figures are laid out for a 1600-pixel slide; on the page they are laid
# out for this width instead, which a projector's page (sidebar collapsed) exceeds, so
# legends and captions never wrap beyond what the layout reserved.
SCREEN_PRESENTATION_WIDTH = 1000


def figure_theme(view: View) -> Theme:
    """The theme of an exported figure."""
    return get_theme("presentation" if view.presentation else "normal")


def screen_theme(view: View) -> Theme:
    """`figure_theme` for a figure drawn on the page: the presentation theme laid out for a
    page narrower than a slide."""
    th = figure_theme(view)
    return replace(th, width=SCREEN_PRESENTATION_WIDTH) if view.presentation else th
