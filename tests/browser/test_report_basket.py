"""The report basket as a user meets it: three cards added from three pages (one with a
comment), reordered on the report page, the link opened in a fresh browser context
(another user, no shared session) and the deck downloaded there and read."""

from __future__ import annotations

import io
import re
import time
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page, expect
from pptx import Presentation

from tests.serving import RENDER_TIMEOUT, serve, settle

pytestmark = pytest.mark.browser

VIEW = "DIALFL=N"
NOTE = "Ask the committee about dialysis"
AFS = "Amputation-free survival, limb salvage and survival"
SUBGROUPS = "Subgroups: amputation-free survival"
SITES = "Sites: amputation-free survival at the landmark"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with serve(tmp_path_factory.mktemp("report") / "streamlit.log") as url:
        yield url


def add_card(page: Page, note: str = "") -> None:
    """Open the first "Add to report" of the page, comment, add; wait for the answer."""
    trigger = page.get_by_role("button", name="Add to report").first
    trigger.scroll_into_view_if_needed()
    trigger.click()
    if note:
        page.get_by_label("Comment for the slide's notes (optional)").fill(note)
    page.get_by_role("button", name="Add", exact=True).click()
    expect(page.get_by_text(re.compile(r"Added: the report holds \d+ card"))).to_be_visible(
        timeout=RENDER_TIMEOUT
    )
    page.keyboard.press("Escape")


def query(page: Page) -> str:
    return urlsplit(page.url).query


def titles(page: Page, expected: list[str]) -> list[str]:
    """The cards' titles once they read `expected` (a rerun briefly shows the old boxes
    beside the new ones), or as they are when the wait runs out."""
    boxes = page.get_by_label(re.compile(r"^Card \d+:"))
    expect(boxes.first).to_be_visible(timeout=RENDER_TIMEOUT)
    deadline = time.monotonic() + RENDER_TIMEOUT / 1000
    while True:
        found = [boxes.nth(i).input_value() for i in range(boxes.count())]
        if found == expected or time.monotonic() > deadline:
            return found
        page.wait_for_timeout(250)


def test_three_cards_reordered_travel_in_the_link_and_make_the_deck(server, browser):
    mine = browser.new_context(viewport={"width": 1400, "height": 1000})
    try:
        page = mine.new_page()
        page.goto(f"{server}/afs?{VIEW}")
        settle(page, "Amputation-free survival")
        add_card(page, NOTE)
        for path, title in (("subgroups", "Subgroups"), ("sites", "Sites")):
            page.goto(f"{server}/{path}?{query(page)}")  # a new session: the link carries it
            settle(page, title)
            add_card(page)
        page.goto(f"{server}/report?{query(page)}")
        settle(page, "Committee report")
        assert titles(page, [AFS, SUBGROUPS, SITES]) == [AFS, SUBGROUPS, SITES]
        page.get_by_role("button", name="Up").nth(2).click()  # the sites card up one
        assert titles(page, [AFS, SITES, SUBGROUPS]) == [AFS, SITES, SUBGROUPS]
        settle(page, "Committee report")
        link = page.url
    finally:
        mine.close()

    theirs = browser.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
    try:
        page = theirs.new_page()
        page.goto(link)
        settle(page, "Committee report")
        assert titles(page, [AFS, SITES, SUBGROUPS]) == [AFS, SITES, SUBGROUPS]
        with page.expect_download(timeout=180_000) as info:
            page.get_by_role("button", name="PowerPoint").click()
        deck = Presentation(io.BytesIO(info.value.path().read_bytes()))
    finally:
        theirs.close()
    firsts = []
    for slide in deck.slides:
        texts = [s.text_frame.text for s in slide.shapes if s.has_text_frame and s.text_frame.text]
        firsts.append(texts[0] if texts else "")
    order = [
        next(i for i, t in enumerate(firsts) if t.startswith(h)) for h in (AFS, SITES, SUBGROUPS)
    ]
    assert order == sorted(order)
    assert firsts[-1] == "Provenance"
    afs = deck.slides[order[0]]
    assert NOTE in afs.notes_slide.notes_text_frame.text
    assert "On dialysis = No" in "\n".join(
        s.text_frame.text for s in afs.shapes if s.has_text_frame
    )
