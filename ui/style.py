"""Presentation mode's page style: larger type for a room, nothing else.

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
</style>
"""


def presentation() -> None:
    st.html(PRESENTATION_CSS)
