"""Shared fixtures: the bundled demo store, the published reference figures."""

from __future__ import annotations

import json
import os
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
