"""Shared fixtures: the bundled demo store, the published reference figures."""

from __future__ import annotations

import contextlib
import json
import os
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
PUBLISHED = SHARED / "reference" / "promise2_published.json"

# Tests build their databases in their own cache, never in the developer's.
os.environ.setdefault("DVA_CACHE_DIR", str(ROOT / ".cache" / "tests"))


@pytest.fixture(scope="session")
def published() -> dict:
    """PROMISE II published figures: calibration targets, read at test time only."""
    if not PUBLISHED.exists():
        pytest.fail(
            f"reference file missing: {PUBLISHED.relative_to(ROOT.parent)} "
            "must sit beside the clone"
        )
    return json.loads(PUBLISHED.read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def demo_store():
    from analytics.store import Store

    store = Store.open()
    yield store
    store.close()


@pytest.fixture(scope="session")
def demo_cohort(demo_store):
    return demo_store.cohort()


@pytest.fixture(scope="session")
def browser():
    """One headless Debian Chromium for every browser test; a missing browser fails
    the suite rather than skipping it."""
    from playwright.sync_api import sync_playwright
    from serving import CHROMIUM, CHROMIUM_ARGS

    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} not found: run `make chromium` (Debian's package)")
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser):
    # A fresh context per test: no cookies, storage or session shared between them.
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    yield context.new_page()
    context.close()


class TooSlowError(Exception):
    """Raised by `watchdog` when the code under test runs past its time."""


@contextlib.contextmanager
def watchdog(seconds: int) -> Iterator[None]:
    """Fail instead of hanging (and filling the memory) when code loops or a fix is
    missing: SIGALRM interrupts Python code after `seconds`."""

    def expire(signum: int, frame: object) -> None:
        raise TooSlowError(f"took more than {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
