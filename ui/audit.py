"""The NICE audit of the patients in view, cached as `ui.data` caches every result:
keyed on the database file, the filter clauses and the options that change it."""

from __future__ import annotations

import streamlit as st

from analytics.analyses.audit import Audit, audit_view
from analytics.estimators.km import CIType
from analytics.model.filters import FilterState
from analytics.store import Store
from ui.data import ENTRIES, TTL, FilterKey, fkey, src


@st.cache_data(max_entries=ENTRIES, ttl=TTL, show_spinner="Computing the audit…")
def _audit(
    _store: Store, src: str, key: FilterKey, _filters: FilterState, day: float, ci_type: str
) -> Audit:
    # `key` is `_filters` as plain tuples: the filters take part in the cache key through it
    return audit_view(_store, _filters, day, ci_type)  # type: ignore[arg-type]


def audit(store: Store, filters: FilterState, day: float, ci_type: CIType) -> Audit:
    """The audit with its rates at `day`, Kaplan-Meier intervals of type `ci_type`."""
    return _audit(store, src(store), fkey(filters), filters, float(day), ci_type)
