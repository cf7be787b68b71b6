"""What app.py set up for this run, handed to the page that renders it.

Kept in the session state, not in a module global: module state is shared by
every user of the server, while the filters belong to one browser session.

The filtered cohort (patient rows) and the headline numbers are computed when a
page first asks for them, through the cached functions of `ui.data`: a survival
page reads DuckDB aggregates only, so on a registry of a million patients it never
pays for loading every row.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import streamlit as st
from streamlit.runtime.pages_manager import PagesManager

from analytics.analyses.headline import Headline
from analytics.estimators.km import CIType
from analytics.model.filters import FilterState
from analytics.store import Cohort, Store
from charts.palette import colour_map
from charts.theme import Theme, get_theme

_KEY = "_dva_context"
# Presentation figures are laid out for a 1600-pixel slide; on the page they are laid
# out for this width instead, which a projector's page (sidebar collapsed) exceeds, so
# legends and captions never wrap beyond what the layout reserved.
SCREEN_PRESENTATION_WIDTH = 1000


@dataclass(frozen=True)
class ViewOptions:
    """How results are shown; every page reads the same options.

    `goal` (the performance goal for amputation-free survival, a proportion) is an
    addition to the agreed fields: the overview, the AFS figure and the primary
    endpoint page read it from here, never from a constant.
    """

    landmark: float = 183.0  # days
    ci_type: CIType = "log-log"
    tick_months: float = 3.0
    show_ci: bool = True
    risk_rows: bool = False  # cumulative events and censored rows in the risk table
    min_at_risk: int = 10  # estimates with fewer at risk are drawn lighter
    presentation: bool = False
    goal: float = 0.54

    @property
    def theme(self) -> Theme:
        return get_theme("presentation" if self.presentation else "normal")

    @property
    def screen_theme(self) -> Theme:
        """`theme` for a figure drawn on the page: the presentation theme laid out for
        a page narrower than a slide (exports keep `theme`)."""
        th = self.theme
        return replace(th, width=SCREEN_PRESENTATION_WIDTH) if self.presentation else th

    def key(self) -> tuple[Any, ...]:
        """A plain tuple for cache keys."""
        return (
            float(self.landmark),
            self.ci_type,
            float(self.tick_months),
            self.show_ci,
            self.risk_rows,
            int(self.min_at_risk),
            self.presentation,
            float(self.goal),
        )


@dataclass(frozen=True, eq=False, init=False)
class Context:
    """The run's data, filters, comparison and view options.

    `cohort` and `headline` read like fields; they are computed (and cached) on first
    use unless given to the constructor.
    """

    store: Store
    filters: FilterState
    compare_by: str | None
    options: ViewOptions

    def __init__(
        self,
        store: Store,
        filters: FilterState,
        cohort: Cohort | None = None,
        headline: Headline | None = None,
        compare_by: str | None = None,
        options: ViewOptions | None = None,
    ) -> None:
        object.__setattr__(self, "store", store)
        object.__setattr__(self, "filters", filters)
        object.__setattr__(self, "compare_by", compare_by)
        object.__setattr__(self, "options", options or ViewOptions())
        object.__setattr__(self, "_cohort", cohort)
        object.__setattr__(self, "_headline", headline)
        object.__setattr__(self, "_groups", None)

    @property
    def cohort(self) -> Cohort:
        """The filtered cohort, patient rows of every table."""
        if self._cohort is None:
            from ui import data

            object.__setattr__(self, "_cohort", data.cohort(self.store, self.filters))
        return self._cohort  # type: ignore[no-any-return]

    @property
    def headline(self) -> Headline:
        """AFS, limb salvage and survival at the landmark, and the Bayesian verdict
        against the performance goal, for the filtered cohort."""
        if self._headline is None:
            from ui import data

            object.__setattr__(
                self, "_headline", data.headline(self.store, self.filters, self.options)
            )
        return self._headline  # type: ignore[no-any-return]

    def levels(self, column: str) -> list[str]:
        """Levels of a subject column in the whole data, in a stable order."""
        from ui import data

        return data.levels(self.store, column)

    def colours(self, column: str) -> dict[str, str]:
        """Level -> colour, the same on every page whatever the filters show."""
        return colour_map(self.levels(column))

    def groups(self) -> dict[str, Cohort]:
        """The filtered cohort split by `compare_by` (levels with patients, in level
        order); {} when nothing is compared."""
        if self.compare_by is None:
            return {}
        if self._groups is None:
            from ui import data

            object.__setattr__(
                self, "_groups", data.groups(self.store, self.filters, self.compare_by)
            )
        return dict(self._groups)  # type: ignore[arg-type]

    def __repr__(self) -> str:
        # The default would print every data frame of the cohort.
        by = f"; compare by {self.compare_by}" if self.compare_by else ""
        return f"Context({self.filters.describe()}{by})"


def publish(ctx: Context) -> None:
    st.session_state[_KEY] = ctx


def published() -> Context | None:
    """This session's context if app.py has set one, without current()'s checks."""
    return st.session_state.get(_KEY)


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
