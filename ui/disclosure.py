"""Small-cell protection in the dashboard: the deployment's setting for the data
(`Store.disclosure`), switchable in the sidebar only when the deployment allows a viewer
to (``DVA_SMALL_CELLS_VIEWER=allow``); kept for the run so every table, figure and
download of the page reads it (`active`)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import streamlit as st

from analytics.model.disclosure import Disclosure, viewer_may_switch
from analytics.report.protect import Protection
from analytics.store import Store
from ui import access

_KEY = "_dva_protection"
TOGGLE = "small_cells"


def decide(store: Store) -> Protection:
    """This run's protection; the sidebar's switch when the deployment offers one."""
    deployed = store.disclosure
    chosen = deployed
    if viewer_may_switch() and access.may("settings"):
        on = st.sidebar.toggle(
            "Small-cell protection",
            value=deployed.on,
            key=TOGGLE,
            help='Counts from 1 to 10 read "<11" and whatever would reveal one is withheld.',
        )
        if on != deployed.on:
            chosen = replace(deployed, on=on, why="switched by the viewer")
    protection = Protection(chosen)
    st.session_state[_KEY] = protection
    return protection


def active() -> Protection:
    """The protection app.py decided for this run (off before it has)."""
    found = st.session_state.get(_KEY)
    return found if isinstance(found, Protection) else Protection(Disclosure())


def small_cells() -> int:
    """The threshold figures print counts under ("<11"), 0 when protection is off."""
    p = active()
    return p.disclosure.threshold if p.on else 0


def withheld_metric(col: Any, title: str) -> None:
    """A metric whose count small-cell protection withholds, saying why."""
    col.metric(
        title,
        "withheld",
        "small-cell protection",
        delta_color="off",
        delta_arrow="off",
        help=active().reason,
    )
