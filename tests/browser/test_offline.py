"""Works offline: a hospital network is often closed, so no page fetches a font, icon,
script or image from anywhere but the dashboard's own server. Every request the browser
makes while every page renders (and two in presentation mode) is recorded; requests to
another host are blocked and listed."""

from __future__ import annotations

from urllib.parse import urlparse

import pytest
from playwright.sync_api import expect

from tests.serving import RENDER_TIMEOUT, serve

pytestmark = pytest.mark.browser

PAGES = ("", "afs", "primary_endpoint", "patency", "subgroups", "wounds", "patients", "sites",
         "audit", "evidence", "design", "data", "glossary")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with serve(tmp_path_factory.mktemp("offline") / "streamlit.log") as url:
        yield url


def test_no_page_fetches_from_outside_the_server(server, browser):
    own = urlparse(server).netloc
    outside: list[str] = []
    context = browser.new_context(viewport={"width": 1280, "height": 720})

    def guard(route):
        host = urlparse(route.request.url).netloc
        if route.request.url.startswith(("data:", "blob:")) or host == own:
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    context.route("**/*", guard)
    try:
        page = context.new_page()
        # every page, then presentation mode (its own layout and navigation)
        for path, present in [(p, "false") for p in PAGES] + [("", "true"), ("afs", "true")]:
            page.goto(f"{server}/{path}?DIALFL=N&compare=SEX&present={present}")
            expect(page.locator("h1").first).to_be_visible(timeout=RENDER_TIMEOUT)
            page.wait_for_load_state("networkidle")
    finally:
        context.close()
    assert not outside, sorted(set(outside))
