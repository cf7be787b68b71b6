"""Glossary: the terms of the pages, defined once."""

from __future__ import annotations

import streamlit as st

from ui.context import through_router
from ui.errors import shown_plainly
from ui.glossary import TERMS


def render() -> None:
    through_router()
    st.title("Glossary")
    st.caption("The words the pages use, as they use them.")
    for term, definition in TERMS.items():
        st.markdown(f"**{term}**  \n{definition}")


with shown_plainly("the glossary"):
    render()
