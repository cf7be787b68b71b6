"""Presentation mode's page style: larger type for a room, and compact headings, so
that a page's first figure starts high enough to be seen whole at 1280x720.

Streamlit sizes its text in rem, so raising the root font size scales every
label, metric and table together; figures get their own presentation theme.
"""

from __future__ import annotations

import streamlit as st

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
