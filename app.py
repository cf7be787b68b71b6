"""Dashboard entry point, the router: opens the data, draws the global filters,
compare-by and view options once, and hands them to the page being shown.

The data are this session's upload, else the configured folder, else the demo
(`ui.source`). When they cannot be opened the Data page is the only page, so the
user can read why and upload something else.

Pages only render: every number they show comes from `analytics` through the
context set here (`ui.context`), so all pages agree on the same patients. The whole
view (`analytics.model.View`: filters, comparison, options) lives in the URL, the
page in its path, so a copied link reopens exactly the same numbers.
"""

from __future__ import annotations

import logging
from pathlib import Path

import streamlit as st

from ui import (
    access,
    audit_trail,
    basket,
    context,
    data,
    disclosure,
    notes,
    sidebar,
    source,
    style,
    upload,
    viewport,
)
from ui.navigation import navigation

ICON = Path(__file__).resolve().parent / "ui" / "assets" / "icon.png"

log = logging.getLogger("dva.app")


def main() -> None:
    presentation = sidebar.presentation_requested()
    st.set_page_config(
        page_title="DVA outcomes",
        # a file of our own: a Material icon here is fetched from Google's servers, and
        # hospital networks are often closed
        page_icon=str(ICON),
        layout="wide",
        initial_sidebar_state="collapsed" if presentation else "expanded",
    )
    access.gate()  # with sign-in configured, nothing before it
    loaded = source.load(upload.active_source(st.session_state))
    store = loaded.store
    if store is None:
        page = navigation(presentation, only_data=True)
        # the error names the file, row and column at fault (empty for a fault of ours,
        # which the server log keeps)
        st.error(
            "The data could not be loaded, so there is nothing to show but this page. "
            + loaded.error
        )
        page.run()
        return
    page = navigation(presentation)
    top = st.sidebar.container()
    choice = sidebar.build(store)
    basket.sync()  # the report's cards: from a pasted link, or back into the URL
    protection = disclosure.decide(store)
    audit_trail.opened(
        str(store.meta.get("source", "unknown")), store.fingerprint, store.registry, protection.on
    )
    audit_trail.viewed(page.title, choice.view)
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
    withheld = protection.disclosure.view_reason(n, total)
    if withheld is not None:
        shown = protection.view_count_text(n, total)  # "<11", or "*" for the few left out
        sidebar.summary(top, n, total, choice, shown=shown)
        st.warning(f"{withheld} Change the filters to see results.")
        st.stop()
    sidebar.summary(top, n, total, choice)
    if choice.view.presentation:
        style.presentation()
    else:
        notes.synthetic_notice(store)
    notes.link_problems(choice.problems)
    notes.post_baseline(choice.view, store.labels)
    notice = notes.notice_text(store) if choice.view.presentation else None
    notes.cohort_line(n, total, choice.view, store.labels, notice)
    context.publish(context.Context(store=store, view=choice.view))
    page.run()
    if choice.view.presentation:
        # mounted last: a size it reports reruns the page with every widget of this run
        # already known to the browser (mounted earlier, an early report could rerun
        # before the sidebar's widgets were drawn, and lose the view they hold)
        viewport.measure()


main()
