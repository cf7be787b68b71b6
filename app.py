"""Dashboard entry point, the router: opens the data, draws the global filters,
compare-by and view options once, and hands them to the page being shown.

Pages only render: every number they show comes from `analytics` through the
context set here (`ui.context`), so all pages agree on the same patients. The whole
view lives in the URL (every widget is bound to a query parameter, the page is the
URL path), so a copied link reopens exactly the same numbers.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import streamlit as st
from streamlit.navigation.page import StreamlitPage

from analytics.store import DEMO_DIR, DataError, Store
from ui import context, data, notes, sidebar, style

# (file, title, icon); the URL path of each page is its file name (afs, patency ...).
PAGES = (
    ("pages/overview.py", "Overview", ":material/dashboard:"),
    ("pages/afs.py", "Amputation-free survival", ":material/monitor_heart:"),
    ("pages/primary_endpoint.py", "Primary endpoint", ":material/flag:"),
    ("pages/patency.py", "Patency", ":material/conversion_path:"),
    ("pages/subgroups.py", "Subgroups", ":material/account_tree:"),
    ("pages/wounds.py", "Wounds and Rutherford", ":material/healing:"),
    ("pages/patients.py", "Patients and procedure", ":material/groups:"),
)

log = logging.getLogger("dva.app")


def data_dir() -> Path:
    return Path(os.environ.get("DVA_DATA_DIR") or DEMO_DIR)


@st.cache_resource(show_spinner="Opening the data…")
def open_store(src: str) -> Store:
    return Store.open(Path(src))


def navigation(presentation: bool) -> StreamlitPage:
    pages = [
        st.Page(path, title=title, icon=icon, default=i == 0)
        for i, (path, title, icon) in enumerate(PAGES)
    ]
    return st.navigation(pages, position="top" if presentation else "sidebar")


def main() -> None:
    presentation = sidebar.presentation_requested()
    st.set_page_config(
        page_title="DVA outcomes",
        page_icon=":material/monitor_heart:",
        layout="wide",
        initial_sidebar_state="collapsed" if presentation else "expanded",
    )
    page = navigation(presentation)
    try:
        store = open_store(str(data_dir()))
    except Exception as exc:
        log.exception("data could not be opened")
        # DataError messages name the file, row and column at fault; others would only confuse.
        detail = f" {exc}" if isinstance(exc, DataError) else ""
        st.error(f"The data could not be loaded, so there is nothing to show.{detail}")
        st.stop()
    notes.synthetic_notice(store)
    top = st.sidebar.container()
    choice = sidebar.build(store)
    try:
        n = data.count(store, choice.filters)
    except Exception:
        log.exception("cohort for %s could not be counted", choice.filters.describe())
        st.error(
            "The results for these filters could not be computed. Reset the filters or "
            "choose others."
        )
        sidebar.reset_button(choice)
        st.stop()
    total = store.count()
    sidebar.summary(top, n, total, choice)
    if choice.options.presentation:
        style.presentation()
    notes.cohort_line(n, total, choice.filters)
    context.publish(
        context.Context(
            store=store,
            filters=choice.filters,
            compare_by=choice.compare_by,
            options=choice.options,
        )
    )
    page.run()


main()
