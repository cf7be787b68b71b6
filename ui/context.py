"""What app.py computed for this run, handed to the page that renders it.

Kept in the session state, not in a module global: module state is shared by
every user of the server, while the filters belong to one browser session.
"""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st
from streamlit.runtime.pages_manager import PagesManager

from analytics.filters import FilterState
from analytics.headline import Headline
from analytics.store import Cohort, Store

_KEY = "_dva_context"


@dataclass(frozen=True, eq=False)
class Context:
    store: Store
    filters: FilterState
    cohort: Cohort
    headline: Headline

    def __repr__(self) -> str:
        # The default would print every data frame of the cohort.
        return f"Context({self.filters.describe()}; {self.cohort.n} of {self.cohort.n_total})"


def publish(ctx: Context) -> None:
    st.session_state[_KEY] = ctx


def current() -> Context:
    if PagesManager.uses_pages_directory:
        # Streamlit 1.67 sees the pages/ folder beside app.py and, on a server's first
        # request or in every AppTest run, executes the page by itself (its legacy
        # folder mode), skipping the router and leaving last run's context in place.
        # st.navigation switches that mode off; do it now and run again through app.py.
        PagesManager.uses_pages_directory = False
        st.rerun()
    ctx = st.session_state.get(_KEY)
    if ctx is None:
        raise RuntimeError("pages are served through app.py, which sets the context first")
    return ctx
