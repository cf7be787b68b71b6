"""Presentation mode's page style: larger type for a room, and compact headings, so
that a page's first figure starts high enough to be seen whole at 1280x720; and the
places a page uses to put its main figure first and fold its settings away.

Streamlit sizes its text in rem, so raising the root font size scales every
label, metric and table together; figures get their own presentation theme.
"""

from __future__ import annotations

import streamlit as st
from streamlit.delta_generator import DeltaGenerator

PRESENTATION_CSS = """
<style>
html { font-size: 22px; }
[data-testid="stMetricValue"] { font-size: 2.6rem; }
[data-testid="stMetricLabel"] p { font-size: 0.85rem; }
[data-testid="stMetricDelta"] { font-size: 0.95rem; }
[data-testid="stCaptionContainer"] { font-size: 0.95rem; }
[data-testid="stMainBlockContainer"] { padding-top: 3.4rem; padding-bottom: 2rem; }
[data-testid="stMainBlockContainer"] h1 { font-size: 1.6rem; padding: 0.1rem 0; }
[data-testid="stMainBlockContainer"] h2 { font-size: 1.25rem; padding: 0.1rem 0; }
[data-testid="stMainBlockContainer"] h3 { font-size: 1.1rem; padding: 0.1rem 0; }
/* the page-size probe (ui/viewport.py) draws nothing and takes no gap */
.st-key-dva_viewport { display: none; }
</style>
"""


def presentation() -> None:
    st.html(PRESENTATION_CSS)


def figure_slot(presentation: bool) -> DeltaGenerator | None:
    """In presentation mode, a place held here for the page's main figure, drawn later
    with ``with in_slot(slot):`` (before the page's own numbers and notes)."""
    return st.container() if presentation else None


def in_slot(slot: DeltaGenerator | None) -> DeltaGenerator:
    """Where the main figure goes: the place held for it, or here."""
    return slot if slot is not None else st.container()


def settings_box(presentation: bool, label: str, border: bool = False) -> DeltaGenerator:
    """A page's settings: folded into an expander in presentation mode, where the
    analysis is shown rather than changed."""
    return st.expander(label) if presentation else st.container(border=border)
