"""The served dashboard for browser tests: Debian's Chromium and a Streamlit server
started as `make run` starts it, on a free port, stopped with everything it started."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.helpers import ROOT

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


# pairs of a figure's texts whose boxes overlap by more than a couple of pixels
OVERLAPS = """
(root) => {
  const boxes = [];
  root.querySelectorAll('svg text').forEach(t => {
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


@contextmanager
def serve(
    log: Path,
    env: Mapping[str, str] | None = None,
    *,
    port: int | None = None,
    args: Sequence[str] = (),
) -> Iterator[str]:
    """The app served on the bundled demo (DVA_DATA_DIR unset), with `env` added to the
    environment and `args` to Streamlit's command line, on `port` (default a free one);
    yields its URL."""
    port = port or free_port()
    url = f"http://localhost:{port}"
    full_env = {k: v for k, v in os.environ.items() if k != "DVA_DATA_DIR"}
    full_env.update(env or {})
    cmd = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        "app.py",
        "--server.port",
        str(port),
        "--server.address",
        "localhost",
        "--server.headless",
        "true",
        *args,
    ]
    with log.open("wb") as out:
        proc = subprocess.Popen(
            cmd,
            cwd=ROOT,
            env=full_env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
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


def no_failure(page: Page) -> None:
    """No traceback and no 'could not be shown' anywhere on the page."""
    assert page.get_by_test_id("stException").count() == 0
    errors = page.get_by_test_id("stAlertContentError").all_inner_texts()
    assert not [e for e in errors if "could not" in e], errors


# --- waiting for a page and keeping its picture --------------------------------------

ARTIFACTS = ROOT / "tests" / "artifacts"  # screenshots kept by CI


def settle(page: Page, title: str | None = None) -> None:
    """Wait for the page's heading, the end of the script run and every chart drawn."""
    heading = page.locator("h1")
    if title:
        heading = heading.filter(has_text=title)
    expect(heading.first).to_be_visible(timeout=RENDER_TIMEOUT)
    idle = '[data-testid="stApp"][data-test-script-state="notRunning"]'
    page.wait_for_selector(idle, timeout=RENDER_TIMEOUT)
    page.wait_for_timeout(300)  # a rerun (e.g. through app.py) may follow at once
    page.wait_for_selector(idle, timeout=RENDER_TIMEOUT)
    if "present=true" in page.url:
        # presentation pages report the window's size once drawn, which reruns them laid
        # out for it (too fast for the script state to show): wait for the figures' size
        # to hold still
        _hold_still(page)
        page.wait_for_selector(idle, timeout=RENDER_TIMEOUT)
    page.wait_for_function(
        "() => [...document.querySelectorAll('[data-testid=stPlotlyChart]')]"
        ".every(c => c.querySelector('.main-svg'))",
        timeout=RENDER_TIMEOUT,
    )


def _hold_still(page: Page, samples: int = 5, every_ms: int = 400) -> None:
    """Until the figures' sizes have held for `samples` looks in a row, with no element
    of a rerun still stale and the script idle."""
    state = (
        "() => [document.querySelector('[data-testid=stApp]')?.dataset.testScriptState,"
        " document.querySelectorAll('[data-stale=true]').length,"
        " ...[...document.querySelectorAll('[data-testid=stPlotlyChart]')]"
        ".map(c => Math.round(c.getBoundingClientRect().height))].join(',')"
    )
    seen: list[str] = []
    for _ in range(RENDER_TIMEOUT // every_ms):
        now = page.evaluate(state)
        seen.append(now)
        settled = now.startswith("notRunning,0")
        if settled and len(seen) >= samples and len(set(seen[-samples:])) == 1:
            return
        page.wait_for_timeout(every_ms)


def screenshot(page: Page, name: str) -> None:
    """The whole page, not just the window: the window is made as tall as the page."""
    ARTIFACTS.mkdir(exist_ok=True)
    size = page.viewport_size or {"width": 1400, "height": 1000}
    height = page.evaluate(
        "() => Math.max(...[...document.querySelectorAll("
        "'[data-testid=stMain], [data-testid=stMainBlockContainer]')].map(e => e.scrollHeight))"
    )
    page.set_viewport_size({"width": size["width"], "height": min(int(height) + 40, 9000)})
    page.wait_for_timeout(500)  # charts redraw at the new size
    page.wait_for_function(
        "() => [...document.querySelectorAll('[data-testid=stPlotlyChart]')]"
        ".every(c => c.querySelector('.main-svg .cartesianlayer path, .main-svg .scatterlayer'))",
        timeout=RENDER_TIMEOUT,
    )
    page.wait_for_timeout(1500)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"))
    page.set_viewport_size(size)
