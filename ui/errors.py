"""Plain-language failures: users see a sentence, the server log keeps the traceback."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

import streamlit as st

log = logging.getLogger("dva.ui")


@contextmanager
def shown_plainly(what: str) -> Iterator[None]:
    """Show `what` could not be done instead of a traceback.

    Streamlit's stop and rerun signals derive from BaseException, so they pass.
    """
    try:
        yield
    except Exception:
        log.exception("%s failed", what)
        st.error(
            f"Sorry, {what} could not be shown. Try another selection or reset the "
            "filters; if it keeps happening, report it with the filters you used."
        )
