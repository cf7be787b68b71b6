"""Cached site comparison for the Sites page, keyed as every result of `ui.data` is:
the database file, the filter clauses and each setting that changes the numbers."""

from __future__ import annotations

import streamlit as st

from analytics.analyses.sites import SiteComparison, compare_sites
from analytics.estimators.km import CIType
from analytics.model.filters import FilterState
from analytics.store import Store
from ui.data import ENTRIES, TTL, FilterKey, filters_of, fkey, src


@st.cache_data(max_entries=ENTRIES, ttl=TTL, show_spinner="Comparing the sites…")
def _sites(
    _store: Store,
    src: str,
    key: FilterKey,
    outcome: str,
    day: float,
    benchmark: float | None,
    min_n: int,
    ci_type: str,
) -> SiteComparison:
    return compare_sites(
        _store,
        filters_of(key),
        outcome,
        day=day,
        benchmark=benchmark,
        min_n=min_n,
        ci_type=ci_type,  # type: ignore[arg-type]
    )


def sites(
    store: Store,
    filters: FilterState,
    outcome: str,
    *,
    day: float,
    benchmark: float | None,
    min_n: int,
    ci_type: CIType,
) -> SiteComparison:
    """Every site of the patients in view on `outcome` at `day`, against the pooled
    proportion or `benchmark` (a proportion)."""
    return _sites(
        store,
        src(store),
        fkey(filters),
        outcome,
        float(day),
        None if benchmark is None else float(benchmark),
        int(min_n),
        ci_type,
    )
