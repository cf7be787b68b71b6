"""Figures laid out for the screen they are drawn on: the presentation theme takes the
page's measured width and the window's height below the first figure, keeps its text at
18 pixels or more, and leaves the caption to the page; the legend goes beside the plot
when it would take rows above it."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from analytics.estimators.km import KaplanMeier
from analytics.model.provenance import Provenance
from analytics.model.view import View
from charts._draw import legend
from charts.survival import km_figure, tick_days
from charts.theme import get_theme
from ui import themes, viewport
from ui.figure import hidden_captions

PROV = Provenance(filters=(), data_fingerprint="0123456789abcdef", data_source="test cohort")


@pytest.fixture
def screen(monkeypatch):
    def use(s: viewport.Screen | None) -> None:
        monkeypatch.setattr(viewport, "current", lambda: s)

    return use


def test_a_report_is_read_or_ignored():
    assert viewport._parse({"width": 1060, "height": 720, "figure_top": 240}) == (
        viewport.Screen(1060, 720, 240)
    )
    assert (
        viewport._parse({"width": 800, "height": 900, "figure_top": None}).below_first_figure
        is None
    )
    assert viewport.Screen(1060, 720, 240).below_first_figure == 480
    for bad in (None, "1060x720", {"width": "wide", "height": 1}, {"height": 720}):
        assert viewport._parse(bad) is None


def test_presentation_fits_the_window_below_the_first_figure(screen):
    view = View(presentation=True)
    screen(viewport.Screen(1060, 720, 240))
    th = themes.screen_theme(view)
    assert (th.width, th.height) == (1060, 720 - 240 - themes.FIT_MARGIN)
    assert th.on_screen
    assert th.caption_below
    assert min(th.font_size, th.tick_size, th.table_size, th.title_size) >= 18
    assert themes.screen_key(view) == (1060, 468, 0)  # protection off: no small cells
    # never taller than a slide, never narrower or lower than the type needs
    screen(viewport.Screen(4000, 3000, 100))
    th = themes.screen_theme(view)
    assert (th.width, th.height) == (
        get_theme("presentation").width,
        get_theme("presentation").height,
    )
    screen(viewport.Screen(300, 400, 390))
    th = themes.screen_theme(view)
    assert (th.width, th.height) == (themes.MIN_SCREEN_WIDTH, themes.MIN_SCREEN_HEIGHT)
    # before the browser has said
    screen(None)
    th = themes.screen_theme(view)
    assert th.width == themes.SCREEN_PRESENTATION_WIDTH
    assert th.on_screen


def test_normal_pages_ignore_the_screen_but_print_the_caption(screen):
    screen(viewport.Screen(1060, 720, 240))
    view = View()
    th = themes.screen_theme(view)
    assert th.caption_below
    assert not th.on_screen
    assert (th.width, th.height) == (get_theme("normal").width, get_theme("normal").height)
    assert themes.screen_key(view) == 0  # the protection only


def test_a_caption_left_to_the_page_is_kept_hidden():
    rng = np.random.default_rng(3)
    days = np.ceil(rng.exponential(300, 80))
    res = (
        KaplanMeier()
        .fit(days, rng.random(80) < 0.6)
        .result(endpoint="AFS", label="All", risk_days=tick_days(3, 400), provenance=PROV)
    )
    shown = km_figure({"All": res}, theme="normal")
    below = km_figure({"All": res}, theme=replace(get_theme("normal"), caption_below=True))
    assert hidden_captions(shown) == []
    (line,) = hidden_captions(below)
    assert "<" not in line
    assert len(line) > 20
    # the page prints it instead, so the figure gives it no room
    assert below.layout.margin.b < shown.layout.margin.b


def test_a_wrapping_legend_goes_beside_the_plot_on_a_screen():
    names = ["<b>Amputation-free survival</b>", "<b>Limb salvage</b>", "<b>Overall survival</b>"]
    slide = get_theme("presentation")
    on_screen = replace(slide, on_screen=True, font_size=21)
    # a slide's width holds them in one row above the plot
    assert legend(names, slide, 1400).top_px > 0
    assert legend(names, slide, 1400).right_px == 0
    # a screen too narrow for one row: beside the plot, nothing above it
    place = legend(names, on_screen, 700)
    assert place.top_px == 0
    assert place.right_px > 0
    assert place.settings["orientation"] == "v"
    assert place.settings["x"] == 1.0
    # Plotly wraps into columns as wide as the widest entry: three rows, not two
    wide = ["x" * 40, "y" * 44, "z" * 20]
    one_row = legend(wide[2:], slide, 900).top_px
    assert legend(wide, slide, 900).top_px == pytest.approx(3 * (one_row - 6) + 6)
