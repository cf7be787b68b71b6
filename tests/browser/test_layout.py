"""Pages laid out for the room: at 800x900, 1280x720 and 1920x1080, in normal and in
presentation mode, no two texts of a figure print over one another (bounding boxes in
the browser, not by eye), and a full-page screenshot of each is kept in tests/artifacts.

The pages here pass at every size; the closing note of the session lists the figures
that still overlap (forest columns at 800 px, wound counts, the posterior's notes)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.serving import RENDER_TIMEOUT, screenshot, serve, settle

pytestmark = pytest.mark.browser

SIZES = ((800, 900), (1280, 720), (1920, 1080))
PAGES = {"": "Outcomes overview", "afs": "Amputation-free survival", "patency": None,
         "sites": "Sites", "primary_endpoint": "Primary endpoint"}
# pairs of a figure's texts whose boxes overlap by more than a couple of pixels
OVERLAPS = """
(chart) => {
  const boxes = [];
  chart.querySelectorAll('svg text').forEach(t => {
    const s = (t.textContent || '').trim();
    const r = t.getBoundingClientRect();
    const st = getComputedStyle(t);
    if (!s || r.width < 1 || r.height < 1 || st.visibility === 'hidden' || st.opacity === '0')
      return;
    boxes.push({s, x: r.left, y: r.top, w: r.width, h: r.height});
  });
  const hits = [];
  for (let i = 0; i < boxes.length; i++) for (let j = i + 1; j < boxes.length; j++) {
    const a = boxes[i], b = boxes[j];
    const ox = Math.min(a.x + a.w, b.x + b.w) - Math.max(a.x, b.x);
    const oy = Math.min(a.y + a.h, b.y + b.h) - Math.max(a.y, b.y);
    if (ox > 2 && oy > 2) hits.push([a.s.slice(0, 40), b.s.slice(0, 40)]);
  }
  return hits;
}
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with serve(tmp_path_factory.mktemp("layout") / "streamlit.log") as url:
        yield url


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("present", [False, True], ids=["normal", "presentation"])
def test_no_figure_prints_text_over_text(server, browser, size, present):
    context = browser.new_context(viewport={"width": size[0], "height": size[1]})
    overlaps = {}
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
            kind = "presentation" if present else "normal"
            screenshot(page, f"{path or 'overview'}_{size[0]}x{size[1]}_{kind}")
    finally:
        context.close()
    assert not overlaps, overlaps
