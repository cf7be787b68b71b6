"""Cached site comparison for the Sites page, keyed as every result of `ui.data` is:
the database file, `View.results_key` and the page's own settings."""

from __future__ import annotations

import streamlit as st

from analytics.analyses.sites import SiteComparison, compare_sites
from analytics.model.view import View
from analytics.store import Store
from ui.data import ENTRIES, TTL, ResultKey, src


@st.cache_data(max_entries=ENTRIES, ttl=TTL, show_spinner="Comparing the sites…")
def _sites(
    _store: Store,
    src: str,
    key: ResultKey,
    _view: View,
    outcome: str,
    day: float,
    benchmark: float | None,
    min_n: int,
) -> SiteComparison:
    return compare_sites(
        _store,
        _view.filters,
        outcome,
        day=day,
        benchmark=benchmark,
        min_n=min_n,
        ci_type=_view.ci_type,
    )


def sites(
    store: Store,
    view: View,
    outcome: str,
    *,
    day: float,
    benchmark: float | None,
    min_n: int,
) -> SiteComparison:
    """Every site of the patients in view on `outcome` at `day`, against the pooled
    proportion or `benchmark` (a proportion)."""
    return _sites(
        store,
        src(store),
        view.results_key,
        view,
        outcome,
        float(day),
        None if benchmark is None else float(benchmark),
        int(min_n),
    )
