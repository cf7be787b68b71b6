"""Dashboard entry point: opens the data, builds the filters, computes the cohort
once per run and hands it to the page being shown.

Pages only render: every number they show comes from the context set here, so
all pages agree on the same patients.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import streamlit as st

from analytics.filters import FilterState
from analytics.headline import Headline, headline
from analytics.schema import ADSL
from analytics.store import DEMO_DIR, Cohort, DataError, Store
from ui import context
from ui.fmt import patients

# Each becomes a sidebar multiselect whose key is also its URL query parameter,
# so a link such as ?DIALFL=Y&SEX=F reopens the same view.
FILTER_COLUMNS = ("SEX", "DIALFL", "DIABFL", "AGEGR1", "RUTHCAT")
SYNTHETIC_NOTICE = "Synthetic data, not patient data."

log = logging.getLogger("dva.app")


def data_dir() -> Path:
    return Path(os.environ.get("DVA_DATA_DIR") or DEMO_DIR)


@st.cache_resource(show_spinner="Opening the data…")
def open_store(src: str) -> Store:
    return Store.open(Path(src))


@st.cache_data(max_entries=64, ttl=3600, show_spinner=False)
def filter_levels(_store: Store, fingerprint: str, column: str) -> list[str]:
    return [str(v) for v in _store.levels(column)]


@st.cache_data(max_entries=64, ttl=3600, show_spinner="Computing…")
def compute(_store: Store, fingerprint: str, filters: tuple[str, ...]) -> tuple[Cohort, Headline]:
    cohort = _store.cohort(FilterState.parse(filters))
    return cohort, headline(cohort)


def clear_filters() -> None:
    for column in FILTER_COLUMNS:
        st.session_state[column] = []


def sidebar_filters(store: Store) -> FilterState:
    st.sidebar.header("Filters")
    chosen = {
        column: st.sidebar.multiselect(
            ADSL.column(column).label,
            filter_levels(store, store.fingerprint, column),
            key=column,
            bind="query-params",
            placeholder="All",
        )
        for column in FILTER_COLUMNS
    }
    return FilterState.from_mapping(chosen)


def sidebar_summary(cohort: Cohort, filters: FilterState) -> None:
    st.sidebar.markdown(f"**{patients(cohort.n, cohort.n_total)}**")
    st.sidebar.caption(f"Active filters: {filters.describe()}")
    st.sidebar.button("Reset filters", on_click=clear_filters, disabled=not filters)


def main() -> None:
    st.set_page_config(page_title="DVA outcomes", layout="wide")
    page = st.navigation([st.Page("pages/overview.py", title="Overview", default=True)])
    try:
        store = open_store(str(data_dir()))
    except Exception as exc:
        log.exception("data could not be opened")
        # DataError messages name the file, row and column at fault; others would only confuse.
        detail = f" {exc}" if isinstance(exc, DataError) else ""
        st.error(f"The data could not be loaded, so there is nothing to show.{detail}")
        st.stop()
    if store.synthetic:
        st.warning(store.meta.get("notice") or SYNTHETIC_NOTICE, icon="⚠️")
    filters = sidebar_filters(store)
    try:
        cohort, head = compute(store, store.fingerprint, tuple(filters.to_strings()))
    except Exception:
        log.exception("cohort for %s could not be computed", filters.describe())
        st.error("The results for these filters could not be computed. Reset the filters or "
                 "choose others.")
        st.sidebar.button("Reset filters", on_click=clear_filters)
        st.stop()
    sidebar_summary(cohort, filters)
    context.publish(context.Context(store=store, filters=filters, cohort=cohort, headline=head))
    page.run()


main()
