"""The served dashboard in headless Chromium: what a user really sees.

The server starts as `make run` starts it. Chromium is Debian's (`make chromium`);
a missing browser fails the suite rather than skipping it, so CI cannot pass
without having looked at the page.
"""

from __future__ import annotations

import io
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image
from playwright.sync_api import Page, expect

from analytics.analyses.headline import Headline, headline
from analytics.analyses.survival import kaplan_meier
from analytics.model.filters import FilterState
from tests.serving import RENDER_TIMEOUT, no_failure, screenshot, serve, settle
from ui.navigation import SECTIONS

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
KM_LABELS = {
    "AFS": "Amputation-free survival at 6 months",
    "LS": "Limb salvage at 6 months",
    "OS": "Overall survival at 6 months",
}
# URL path -> (page file, title of the page's heading or None for any heading)
PAGES = {
    "": ("pages/overview.py", "Outcomes overview"),
    "afs": ("pages/afs.py", "Amputation-free survival"),
    "primary_endpoint": ("pages/primary_endpoint.py", "Primary endpoint"),
    "design": ("pages/design.py", "Trial design"),
    "evidence": ("pages/evidence.py", "Published evidence"),
    "patency": ("pages/patency.py", "Patency and reinterventions"),
    "subgroups": ("pages/subgroups.py", None),
    "wounds": ("pages/wounds.py", None),
    "patients": ("pages/patients.py", None),
    "sites": ("pages/sites.py", None),
    "audit": ("pages/audit.py", None),
    "data": ("pages/data.py", None),
    "glossary": ("pages/glossary.py", "Glossary"),
}
PRESENT = [path for path, (file, _) in PAGES.items() if (ROOT / file).exists()]
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with serve(tmp_path_factory.mktemp("server") / "streamlit.log") as url:
        yield url




def metric(page: Page, label: str):
    return page.get_by_test_id("stMetric").filter(has_text=label)


def expect_headline(page: Page, head: Headline) -> None:
    for code, label in KM_LABELS.items():
        lm = head.estimate(code).landmark
        card = metric(page, label)
        expect(card.get_by_test_id("stMetricValue")).to_have_text(
            f"{100 * lm.estimate:.1f}%", timeout=RENDER_TIMEOUT
        )
        expect(card.get_by_test_id("stMetricDelta")).to_have_text(
            f"95% CI {100 * lm.lower:.1f}–{100 * lm.upper:.1f}", timeout=RENDER_TIMEOUT
        )
    expect(page.get_by_test_id("stSidebar")).to_contain_text(
        f"{head.n:,} of {head.n_total:,} patients", timeout=RENDER_TIMEOUT
    )


@pytest.fixture(scope="module")
def dialysis_headline(demo_store) -> Headline:
    return headline(demo_store.cohort(FilterState.from_mapping({"DIALFL": ["Y"]})))


def open_multiselect(page, label: str) -> None:
    """Open a sidebar multiselect from the middle of the screen: one at the bottom edge
    of the window opens no list of options."""
    box = page.get_by_test_id("stMultiSelect").filter(has_text=label)
    box.evaluate("e => e.scrollIntoView({block: 'center'})")
    box.click()


def test_overview_shows_analytics_figures(server, page, demo_store, demo_cohort):
    page.goto(server)
    expect(metric(page, KM_LABELS["AFS"])).to_be_visible(timeout=RENDER_TIMEOUT)
    expect_headline(page, headline(demo_cohort))
    expect(page.get_by_text(demo_store.meta["notice"], exact=True)).to_be_visible()


def test_filter_lives_in_the_url(server, browser, page, dialysis_headline):
    page.goto(server)
    expect(metric(page, KM_LABELS["AFS"])).to_be_visible(timeout=RENDER_TIMEOUT)
    open_multiselect(page, "On dialysis")
    page.get_by_role("option", name="Yes", exact=True).click()
    page.keyboard.press("Escape")
    expect(page).to_have_url(f"{server}/?DIALFL=Y", timeout=RENDER_TIMEOUT)
    expect_headline(page, dialysis_headline)

    # The URL alone reproduces the view, in a browser context that never saw it.
    shared = browser.new_context(viewport={"width": 1400, "height": 1000})
    try:
        fresh = shared.new_page()
        fresh.goto(page.url)
        expect(metric(fresh, KM_LABELS["AFS"])).to_be_visible(timeout=RENDER_TIMEOUT)
        expect_headline(fresh, dialysis_headline)
    finally:
        shared.close()


@pytest.mark.parametrize("path", PRESENT)
def test_every_page_renders_and_is_saved(server, page, path):
    file, title = PAGES[path]
    page.goto(f"{server}/{path}")
    settle(page, title)
    no_failure(page)
    screenshot(page, Path(file).stem)


def test_presentation_mode_collapses_the_sidebar(server, page, demo_cohort):
    page.goto(f"{server}/afs?present=true")
    settle(page, "Amputation-free survival")
    no_failure(page)
    expect(page.get_by_test_id("stSidebar")).to_have_attribute("data-collapsed", "true")
    # the menu across the top, every section of it in view (none hidden behind "more"),
    # a section opening onto its pages; text larger than normal
    menus = page.get_by_test_id("stTopNavSection")
    expect(menus).to_have_count(len(SECTIONS))
    for section in SECTIONS:
        expect(menus.filter(has_text=section)).to_be_visible()
    expect(page.get_by_text(re.compile(r"\d+ more"))).to_have_count(0)
    menus.filter(has_text="Outcomes").click()
    expect(page.get_by_text("Primary endpoint", exact=True).last).to_be_visible()
    page.keyboard.press("Escape")
    page.wait_for_function(
        "() => parseFloat(getComputedStyle(document.documentElement).fontSize) >= 20",
        timeout=RENDER_TIMEOUT,
    )
    screenshot(page, "afs_presentation")


def afs_row(page: Page, cohort) -> None:
    """The AFS row of the estimates table shows the analytics' estimate and CI."""
    km = kaplan_meier(cohort, "AFS", landmarks=(183,))
    lm = km.landmarks[0]
    row = page.get_by_test_id("stTable").locator("tr", has_text="Amputation-free survival")
    expect(row.first).to_contain_text(f"{100 * lm.estimate:.1f}%", timeout=RENDER_TIMEOUT)
    expect(row.first).to_contain_text(
        f"{100 * lm.lower:.1f}–{100 * lm.upper:.1f}", timeout=RENDER_TIMEOUT
    )
    expect(page.get_by_test_id("stSidebar")).to_contain_text(
        f"{cohort.n:,} of {cohort.n_total:,} patients", timeout=RENDER_TIMEOUT
    )


def test_afs_filter_change_and_copied_url(server, browser, page, demo_store, demo_cohort):
    page.goto(f"{server}/afs?compare=SEX&ticks=6")
    settle(page, "Amputation-free survival")
    afs_row(page, demo_cohort)
    open_multiselect(page, "On dialysis")
    page.get_by_role("option", name="Yes", exact=True).click()
    page.keyboard.press("Escape")
    dialysis = demo_store.cohort(FilterState.from_mapping({"DIALFL": ["Y"]}))
    afs_row(page, dialysis)
    expect(page).to_have_url(re.compile(r"/afs\?"), timeout=RENDER_TIMEOUT)
    url = page.url
    for part in ("DIALFL=Y", "compare=SEX", "ticks=6"):
        assert part in url, url
    settle(page, "Amputation-free survival")
    logrank = page.get_by_text(re.compile(r"^Log-rank p")).first.inner_text()

    # the copied URL alone reproduces the view, in a browser context that never saw it
    shared = browser.new_context(viewport={"width": 1400, "height": 1000})
    try:
        fresh = shared.new_page()
        fresh.goto(url)
        settle(fresh, "Amputation-free survival")
        afs_row(fresh, dialysis)
        expect(fresh.get_by_text(re.compile(r"^Log-rank p")).first).to_have_text(logrank)
        expect(fresh.get_by_role("combobox", name="Compare by")).to_have_value("Sex")
    finally:
        shared.close()


def test_switching_pages_keeps_the_view(server, page, dialysis_headline):
    page.goto(f"{server}/afs?DIALFL=Y&compare=SEX&landmark=183")
    settle(page, "Amputation-free survival")
    page.get_by_test_id("stSidebarNav").get_by_role("link", name="Overview").click()
    expect(metric(page, KM_LABELS["AFS"])).to_be_visible(timeout=RENDER_TIMEOUT)
    expect_headline(page, dialysis_headline)
    expect(page).to_have_url(re.compile(r"DIALFL=Y"), timeout=RENDER_TIMEOUT)
    # codes in the URL, words on the page; the default landmark is left out
    assert "compare=SEX" in page.url, page.url
    assert "landmark" not in page.url, page.url


def test_a_link_that_cannot_be_used_is_named_on_the_page(server, page):
    page.goto(f"{server}/?DIALFL=y&compare=NOSUCH")
    alert = page.get_by_text(re.compile("Part of this view could not be used"))
    expect(alert).to_be_visible(timeout=RENDER_TIMEOUT)
    expect(alert).to_contain_text("did you mean 'Y'")
    expect(alert).to_contain_text("compare=NOSUCH")


def test_exports_carry_filters_and_notice(server, page, demo_store):
    page.goto(f"{server}/afs?DIALFL=Y")
    settle(page, "Amputation-free survival")
    with page.expect_download(timeout=120_000) as png:
        page.get_by_role("button", name="PNG for slides").first.click()
    data = Path(png.value.path()).read_bytes()
    assert data.startswith(PNG_MAGIC)
    with Image.open(io.BytesIO(data)) as img:
        img.load()
        assert img.width == 3200  # a 1600-pixel slide at scale 2
        assert img.height >= 1800
    with page.expect_download(timeout=RENDER_TIMEOUT) as svg:
        page.get_by_role("button", name="SVG").first.click()
    root = ET.fromstring(Path(svg.value.path()).read_bytes())
    assert root.tag.endswith("svg")
    assert "Filters: On dialysis = Yes" in "".join(root.itertext())
    with page.expect_download(timeout=RENDER_TIMEOUT) as csv:
        page.get_by_role("button", name="CSV of the numbers").first.click()
    text = Path(csv.value.path()).read_text(encoding="utf-8")
    head = [line for line in text.splitlines() if line.startswith("#")]
    assert "# Filters: On dialysis = Yes" in head
    assert any(demo_store.meta["notice"] in line for line in head)
