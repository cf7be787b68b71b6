"""The served dashboard in headless Chromium: what a user really sees.

The server starts as `make run` starts it. Chromium is Debian's (`make chromium`);
a missing browser fails the suite rather than skipping it, so CI cannot pass
without having looked at the page.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from analytics.filters import FilterState
from analytics.headline import Headline, headline

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
START_TIMEOUT = 90  # seconds; a cold start on two cores takes 5-10
RENDER_TIMEOUT = 60_000  # milliseconds
KM_LABELS = {
    "AFS": "Amputation-free survival at 6 months",
    "LS": "Limb salvage at 6 months",
    "OS": "Overall survival at 6 months",
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("localhost", 0))
        return int(s.getsockname()[1])


def healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
            return r.status == 200
    except OSError:
        return False


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = free_port()
    url = f"http://localhost:{port}"
    log = tmp_path_factory.mktemp("server") / "streamlit.log"
    env = {k: v for k, v in os.environ.items() if k != "DVA_DATA_DIR"}
    cmd = [
        sys.executable, "-m", "streamlit", "run", "app.py",
        "--server.port", str(port), "--server.address", "localhost", "--server.headless", "true",
    ]
    with log.open("wb") as out:
        proc = subprocess.Popen(
            cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while not healthy(url):
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"streamlit did not come up on {url}:\n{log.read_text()[-3000:]}")
            time.sleep(0.25)
        yield url
    finally:
        # The server runs in its own session, so this reaches any child it started.
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} not found: run `make chromium` (Debian's package)")
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    # A fresh context per test: no cookies, storage or session shared between them.
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    yield context.new_page()
    context.close()


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


def test_overview_shows_analytics_figures(server, page, demo_store, demo_cohort):
    page.goto(server)
    expect(metric(page, KM_LABELS["AFS"])).to_be_visible(timeout=RENDER_TIMEOUT)
    expect_headline(page, headline(demo_cohort))
    expect(page.get_by_text(demo_store.meta["notice"], exact=True)).to_be_visible()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "overview.png"), full_page=True)


def test_filter_lives_in_the_url(server, browser, page, dialysis_headline):
    page.goto(server)
    expect(metric(page, KM_LABELS["AFS"])).to_be_visible(timeout=RENDER_TIMEOUT)
    page.get_by_test_id("stMultiSelect").filter(has_text="On dialysis").click()
    page.get_by_role("option", name="Y", exact=True).click()
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
