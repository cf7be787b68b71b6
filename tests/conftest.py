"""Shared fixtures: the bundled demo store, the published reference figures, the browser.
Shared constants and functions live in tests/helpers.py."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

# Tests build their databases in their own cache, never in the developer's; set before
# anything (tests/helpers.py included) imports the analytics.
os.environ.setdefault(
    "DVA_CACHE_DIR", str(Path(__file__).resolve().parent.parent / ".cache" / "tests")
)
# and keep their access log there too, not in the user's log folder
os.environ.setdefault(
    "DVA_AUDIT_LOG",
    str(Path(__file__).resolve().parent.parent / ".cache" / "tests" / "access.jsonl"),
)

from tests.helpers import PUBLISHED, ROOT

# Fixtures that start Chromium; a test using one must be marked `browser`, so that
# `-m "not browser"` (make test-fast) never starts a browser.
BROWSER_FIXTURES = frozenset({"browser", "page", "chromium"})


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    unmarked = []
    for item in items:
        callspec = getattr(item, "callspec", None)
        parametrized = set(callspec.params) if callspec else set()  # e.g. `page` of AppTest
        uses = BROWSER_FIXTURES & set(getattr(item, "fixturenames", ())) - parametrized
        if uses and item.get_closest_marker("browser") is None:
            unmarked.append(f"{item.nodeid} (uses {', '.join(sorted(uses))})")
    if unmarked:
        raise pytest.UsageError(
            "tests that start Chromium must be marked browser:\n" + "\n".join(unmarked)
        )


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

    from tests.serving import CHROMIUM, CHROMIUM_ARGS

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


@pytest.fixture(scope="module")
def chromium():
    """One headless Chromium for the images a module renders, stopped after it."""
    from charts import export

    with export.browser():
        yield
    assert not export.browser_running()
