"""What app.py set up for this run, handed to the page that renders it.

Kept in the session state, not in a module global: module state is shared by
every user of the server, while the filters belong to one browser session.

The filtered cohort (patient rows) and the headline numbers are computed when a
page first asks for them, through the cached functions of `ui.data`: a survival
page reads DuckDB aggregates only, so on a registry of a million patients it never
pays for loading every row.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import streamlit as st
from streamlit.runtime.pages_manager import PagesManager

from analytics.analyses.headline import Headline
from analytics.model.filters import FilterState
from analytics.model.labels import Labels
from analytics.model.view import View
from analytics.store import Cohort, Store
from charts.palette import colour_map
from ui import data, themes

_KEY = "_dva_context"


@dataclass(frozen=True, eq=False, init=False)
class Context:
    """The run's data and its view (filters, comparison and options: one `View`).

    `cohort` and `headline` read like fields; they are computed (and cached) on first
    use unless given to the constructor.
    """

    store: Store
    view: View

    def __init__(
        self,
        store: Store,
        view: View | None = None,
        cohort: Cohort | None = None,
        headline: Headline | None = None,
    ) -> None:
        object.__setattr__(self, "store", store)
        object.__setattr__(self, "view", view or View())
        object.__setattr__(self, "_cohort", cohort)
        object.__setattr__(self, "_headline", headline)
        object.__setattr__(self, "_groups", None)

    @property
    def filters(self) -> FilterState:
        return self.view.filters

    @property
    def compare_by(self) -> str | None:
        return self.view.compare

    @property
    def labels(self) -> Labels:
        """Clinical words for the codes of these data."""
        return self.store.labels

    @property
    def figure_key(self) -> tuple[Any, ...]:
        """What the page's figures depend on: the data and the whole view."""
        return (*data.figure_key(self.store, self.view), themes.screen_key(self.view))

    @property
    def cohort(self) -> Cohort:
        """The filtered cohort, patient rows of every table."""
        if self._cohort is None:
            object.__setattr__(self, "_cohort", data.cohort(self.store, self.filters))
        return self._cohort  # type: ignore[no-any-return]

    @property
    def headline(self) -> Headline:
        """AFS, limb salvage and survival at the landmark, and the Bayesian verdict
        against the performance goal, for the filtered cohort."""
        if self._headline is None:
            object.__setattr__(self, "_headline", data.headline(self.store, self.view))
        return self._headline  # type: ignore[no-any-return]

    def levels(self, column: str) -> list[str]:
        """Levels of a subject column in the whole data, in a stable order."""
        return data.levels(self.store, column)

    def colours(self, column: str) -> dict[str, str]:
        """Level -> colour, the same on every page whatever the filters show."""
        return colour_map(self.levels(column))

    def not_compared(self) -> int:
        """Patients in view without a recorded value of `compare_by` (0 when nothing is
        compared): they are in no group of a comparison."""
        if self.compare_by is None:
            return 0
        sizes = data.group_sizes(self.store, self.filters, self.compare_by)
        return data.count(self.store, self.filters) - sum(sizes.values())

    def groups(self) -> dict[str, Cohort]:
        """The filtered cohort split by `compare_by` (levels with patients, in level
        order); {} when nothing is compared."""
        if self.compare_by is None:
            return {}
        if self._groups is None:
            object.__setattr__(
                self, "_groups", data.groups(self.store, self.filters, self.compare_by)
            )
        return dict(self._groups)  # type: ignore[arg-type]

    def __repr__(self) -> str:
        # The default would print every data frame of the cohort.
        return f"Context({self.view.describe()})"


def publish(ctx: Context) -> None:
    st.session_state[_KEY] = ctx


def published() -> Context | None:
    """This session's context if app.py has set one, without current()'s checks."""
    return st.session_state.get(_KEY)


def published_view() -> View | None:
    """This session's view if app.py has set one (the Data page also runs without)."""
    ctx = published()
    return None if ctx is None else ctx.view


def through_router() -> None:
    """Make sure this run goes through app.py (the router), not the page alone."""
    if PagesManager.uses_pages_directory:
        # Streamlit 1.67 sees the pages/ folder beside app.py and, on a server's first
        # request or in every AppTest run, executes the page by itself (its legacy
        # folder mode), skipping the router and leaving last run's context in place.
        # st.navigation switches that mode off; do it now and run again through app.py.
        PagesManager.uses_pages_directory = False
        st.rerun()


def current() -> Context:
    through_router()
    ctx = st.session_state.get(_KEY)
    if ctx is None:
        raise RuntimeError("pages are served through app.py, which sets the context first")
    return ctx
