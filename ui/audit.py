"""The NICE audit of the patients in view, cached as `ui.data` caches every result:
keyed on the database file and `View.results_key`."""

from __future__ import annotations

import streamlit as st

from analytics.analyses.audit import Audit, audit_view
from analytics.model.view import View
from analytics.store import Store
from ui.data import ENTRIES, TTL, ResultKey, src


@st.cache_data(max_entries=ENTRIES, ttl=TTL, show_spinner="Computing the audit…")
def _audit(_store: Store, src: str, key: ResultKey, _view: View) -> Audit:
    return audit_view(_store, _view.filters, _view.landmark, _view.ci_type)


def audit(store: Store, view: View) -> Audit:
    """The audit of the patients in view, its rates at the view's landmark with
    Kaplan-Meier intervals of the view's type."""
    return _audit(store, src(store), view.results_key, view)
