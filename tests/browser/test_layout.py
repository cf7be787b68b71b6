"""Pages laid out for the room: at 800x900, 1280x720 and 1920x1080, in normal and in
presentation mode, no two texts of a figure print over one another (bounding boxes in
the browser, not by eye), and a full-page screenshot of each is kept in tests/artifacts.
In presentation mode every text of a figure is at least 18 pixels, and at 1280x720 and
1920x1080 the main figure of a page whose figure follows its title is in view whole,
without scrolling."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.serving import OVERLAPS, RENDER_TIMEOUT, screenshot, serve, settle

pytestmark = pytest.mark.browser

SIZES = ((800, 900), (1280, 720), (1920, 1080))
PAGES = {
    "": "Outcomes overview",
    "afs": "Amputation-free survival",
    "patency": None,
    "sites": "Sites",
    "primary_endpoint": "Primary endpoint",
    "subgroups": "Subgroups",
    "wounds": "Wounds and Rutherford class",
    "evidence": "Published evidence",
    "design": "Trial design",
}
# pages whose main figure comes straight after the title and its notices in presentation
# mode (a forest plot or the evidence table has a row per subgroup or study, the sites'
# funnel a legend of five kinds of mark, the design page its settings: those scroll)
MAIN_FIGURE_FIRST = {
    "afs": "Amputation-free survival",
    "patency": None,
    "primary_endpoint": "Primary endpoint",
    "wounds": "Wounds and Rutherford class",
}
SMALLEST_TEXT = 18.0
# the smallest font size of a figure's visible texts, in CSS pixels, with that text
SMALLEST = """
(chart) => [...chart.querySelectorAll('svg text')]
  .filter(t => (t.textContent || '').trim() && t.getBoundingClientRect().width > 0
    && getComputedStyle(t).visibility !== 'hidden')
  .map(t => [parseFloat(getComputedStyle(t).fontSize), t.textContent.slice(0, 30)])
  .reduce((a, b) => (b[0] < a[0] ? b : a), [1e9, ''])
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with serve(tmp_path_factory.mktemp("layout") / "streamlit.log") as url:
        yield url


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("present", [False, True], ids=["normal", "presentation"])
def test_no_figure_prints_text_over_text(server, browser, size, present):
    context = browser.new_context(viewport={"width": size[0], "height": size[1]})
    overlaps, small = {}, {}
    try:
        page = context.new_page()
        for path, title in PAGES.items():
            mode = "true" if present else "false"
            page.goto(f"{server}/{path}?compare=SEX&present={mode}")
            settle(page, title)
            charts = page.locator(".js-plotly-plot")
            if path in ("afs", "patency", "primary_endpoint"):  # figures to read
                expect(charts.first).to_be_visible(timeout=RENDER_TIMEOUT)
                settle(page, title)
            for k in range(charts.count()):
                hits = charts.nth(k).evaluate(OVERLAPS)
                if hits:
                    overlaps[f"{path or 'overview'} figure {k}"] = hits[:3]
                smallest = charts.nth(k).evaluate(SMALLEST)
                if present and smallest[0] < SMALLEST_TEXT:
                    small[f"{path or 'overview'} figure {k}"] = smallest
            kind = "presentation" if present else "normal"
            screenshot(page, f"{path or 'overview'}_{size[0]}x{size[1]}_{kind}")
    finally:
        context.close()
    assert not overlaps, overlaps
    assert not small, f"figure text under {SMALLEST_TEXT:g} px in presentation mode: {small}"


@pytest.mark.parametrize("size", SIZES[1:], ids=lambda s: f"{s[0]}x{s[1]}")
def test_presentation_shows_the_main_figure_whole(server, browser, size):
    context = browser.new_context(viewport={"width": size[0], "height": size[1]})
    cut = {}
    try:
        page = context.new_page()
        for path, title in MAIN_FIGURE_FIRST.items():
            page.goto(f"{server}/{path}?compare=SEX&present=true")
            settle(page, title)
            chart = page.get_by_test_id("stPlotlyChart").first
            expect(chart).to_be_visible(timeout=RENDER_TIMEOUT)
            box = chart.bounding_box()
            assert box is not None
            if box["y"] < 0 or box["y"] + box["height"] > size[1] + 1:
                cut[path] = (round(box["y"]), round(box["y"] + box["height"]))
    finally:
        context.close()
    assert not cut, f"main figure (top, bottom) beyond the {size[1]}-pixel window: {cut}"
