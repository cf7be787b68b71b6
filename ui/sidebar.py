"""The sidebar: the global filters, compare-by and view options, built once in app.py.

The sidebar is drawn from the view the URL holds and returns the view its widgets
make (`ui.view_state` keeps the two in step), so a copied link reopens exactly the
same view. Only filters whose column holds values in the loaded data are offered: a
registry extract may lack some. Each filter clause is shown as a removable chip,
with one Reset for all.
"""

from __future__ import annotations

import calendar
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date
from typing import Any, Literal

import pandas as pd
import streamlit as st

from analytics.model.filters import Clause, FilterError, FilterState, split_clauses
from analytics.model.labels import Labels
from analytics.model.schema import is_baseline
from analytics.model.view import AGE, CI_TYPES, COMPARE, ENROL, POST_BASELINE, TEXT, View
from analytics.store import Store
from ui import data, view_state
from ui.fmt import patients
from ui.view_state import ENROL_COLUMN, MORE_FILTERS, PRESENT, PRIMARY_FILTERS, Ranges

DEFAULTS = View()

Kind = Literal["multi", "low", "high", "text"]


@dataclass(frozen=True)
class Owner:
    """The widget a clause comes from, and how to take the clause out of it."""

    kind: Kind
    key: str
    value: Any = None  # "low"/"high": the bound to go back to; "text": the clause text


@dataclass(frozen=True)
class Chip:
    clause: Clause
    text: str
    owners: tuple[Owner, ...]


@dataclass(frozen=True)
class Selection:
    view: View
    chips: tuple[Chip, ...]
    defaults: dict[str, Any]  # filter widget key -> its value with no filter
    problems: tuple[str, ...]  # what the link asked for and could not be used

    @property
    def filters(self) -> FilterState:
        return self.view.filters


def presentation_requested() -> bool:
    """Presentation mode as the toggle or the URL has it, before the widget is drawn
    (the page configuration that collapses the sidebar comes first)."""
    if PRESENT in st.session_state:
        return bool(st.session_state[PRESENT])
    return str(st.query_params.get(PRESENT, "")).lower() == "true"


# --- enrolment quarters ----------------------------------------------------------------


def quarters(first: date, last: date) -> list[tuple[str, date, date]]:
    """(label, first day, last day) of every calendar quarter from `first` to `last`."""
    out = []
    y, q = first.year, (first.month - 1) // 3 + 1
    end = (last.year, (last.month - 1) // 3 + 1)
    while (y, q) <= end:
        month = 3 * q
        out.append(
            (f"{y}-Q{q}", date(y, month - 2, 1), date(y, month, calendar.monthrange(y, month)[1]))
        )
        y, q = (y + 1, 1) if q == 4 else (y, q + 1)
    return out


# --- callbacks: they run before the next script run, so they may set widget state -------


def _remove(owners: Sequence[Owner]) -> None:
    for owner in owners:
        if owner.kind == "multi":
            st.session_state[owner.key] = []
        elif owner.kind == "low":
            _, hi = st.session_state[owner.key]
            st.session_state[owner.key] = (owner.value, hi)
        elif owner.kind == "high":
            lo, _ = st.session_state[owner.key]
            st.session_state[owner.key] = (lo, owner.value)
        else:
            kept = [p.strip() for p in _split(st.session_state.get(owner.key, ""))]
            st.session_state[owner.key] = "; ".join(p for p in kept if _same(p) != owner.value)


def _reset(defaults: dict[str, Any]) -> None:
    for key, value in defaults.items():
        st.session_state[key] = value


def _split(text: str) -> list[str]:
    try:
        return split_clauses(text or "")
    except FilterError:
        return []


def _same(item: str) -> str:
    """A clause's canonical text, or the item itself if it does not parse."""
    try:
        return str(FilterState.parse([item]).clauses[0])
    except (FilterError, IndexError):
        return item


# --- the filters ---------------------------------------------------------------------


def ranges(store: Store) -> Ranges:
    """What each widget can hold for these data."""
    have = data.populated(store)
    choices = {}
    for column in (*PRIMARY_FILTERS, *MORE_FILTERS):
        levels = data.levels(store, column) if column in have else []
        if len(levels) >= 2:  # one value everywhere: nothing to choose
            choices[column] = levels
    rng = data.value_range(store, AGE)
    age = (int(rng[0]), int(rng[1])) if rng is not None else None
    dates = data.value_range(store, ENROL_COLUMN)
    periods = []
    if dates is not None:
        qs = quarters(pd.Timestamp(dates[0]).date(), pd.Timestamp(dates[1]).date())
        periods = [(q[0], q[1].isoformat(), q[2].isoformat()) for q in qs]
    return Ranges(
        choices=choices,
        age=age if age and age[0] < age[1] else None,
        quarters=periods if len(periods) >= 2 else [],
        compare=data.compare_columns(store),
    )


class _Builder:
    def __init__(self, store: Store, ranges: Ranges) -> None:
        self.store = store
        self.ranges = ranges
        self.clauses: list[tuple[Clause, Owner]] = []
        self.defaults: dict[str, Any] = {}
        self.problems: list[str] = []  # "Other filters" that could not be used

    def add(self, clause: Clause, owner: Owner) -> None:
        self.clauses.append((clause, owner))

    def choice(self, column: str) -> None:
        options = self.ranges.choices.get(column)
        if not options:
            return
        words = self.store.labels
        chosen = st.multiselect(
            words.column(column),
            options,
            key=column,
            placeholder="All",
            format_func=lambda code: words.value(column, code),
        )
        self.defaults[column] = []
        if chosen:
            self.add(Clause(column, "in", tuple(str(v) for v in chosen)), Owner("multi", column))

    def age(self) -> None:
        if self.ranges.age is None:
            return
        lo, hi = self.ranges.age
        # the value makes it a range slider; the URL's view is in the session state
        a, b = st.slider("Age at enrolment (years)", lo, hi, (lo, hi), key=AGE)
        self.defaults[AGE] = (lo, hi)
        if a > lo:
            self.add(Clause(AGE, ">=", (str(a),)), Owner("low", AGE, lo))
        if b < hi:
            self.add(Clause(AGE, "<=", (str(b),)), Owner("high", AGE, hi))

    def enrolment(self) -> None:
        qs = self.ranges.quarters
        if not qs:
            return
        names = [q[0] for q in qs]
        a, b = st.select_slider(
            "Enrolment period (quarter)", names, (names[0], names[-1]), key=ENROL
        )
        self.defaults[ENROL] = (names[0], names[-1])
        first = {q[0]: q[1] for q in qs}
        last = {q[0]: q[2] for q in qs}
        if a != names[0]:
            self.add(Clause(ENROL_COLUMN, ">=", (first[a],)), Owner("low", ENROL, names[0]))
        if b != names[-1]:
            self.add(Clause(ENROL_COLUMN, "<=", (last[b],)), Owner("high", ENROL, names[-1]))

    def text(self) -> None:
        raw = st.text_input(
            "Other filters",
            key=TEXT,
            placeholder="e.g. BMI>=30; SMOKSTAT=CURRENT",
            help="Clauses on any patient column, separated by ';': COL=V1,V2 (one of), "
            "COL!=V (not), COL>=X, COL<=X.",
        )
        self.defaults[TEXT] = ""
        if not raw.strip():
            return
        try:
            state = FilterState.parse(split_clauses(raw))
            self.store.subject_where(state)  # unknown columns, non-numbers: say so now
        except FilterError as exc:
            st.error(f"These filters were not applied: {exc}.")
            self.problems.append(f"{TEXT}: {exc}")
            return
        for clause in state.clauses:
            self.add(clause, Owner("text", TEXT, str(clause)))

    def selection(self) -> tuple[FilterState, tuple[Chip, ...]]:
        owners: dict[Clause, list[Owner]] = {}
        for clause, owner in self.clauses:
            owners.setdefault(clause, []).append(owner)
        words = self.store.labels
        chips = tuple(Chip(c, words.clause(c), tuple(o)) for c, o in owners.items())
        return FilterState(tuple(owners)), chips


def _filters(store: Store, ranges: Ranges) -> _Builder:
    b = _Builder(store, ranges)
    st.header("Filters")
    for column in PRIMARY_FILTERS[:2]:
        b.choice(column)
    b.age()
    for column in PRIMARY_FILTERS[2:]:
        b.choice(column)
    with st.expander("More filters: race, site, study, enrolment…"):
        for column in MORE_FILTERS:
            b.choice(column)
        b.enrolment()
        b.text()
    return b


# --- compare-by and view options ---------------------------------------------------------


def _drop_post_baseline() -> None:
    # turning the option off takes away a comparison it allowed
    chosen = st.session_state.get(COMPARE)
    if not st.session_state.get(POST_BASELINE) and chosen and not is_baseline(chosen):
        st.session_state[COMPARE] = None


def _compare(columns: list[str], labels: Labels) -> tuple[str | None, bool]:
    """The compare-by column, from the baseline characteristics unless the user asks
    for post-baseline ones too; and whether they did."""
    post = st.toggle(
        "Post-baseline characteristics too (descriptive only)",
        key=POST_BASELINE,
        on_change=_drop_post_baseline,
        help="Compare by something known only after the procedure (technical success, "
        "death, disposition...). The groups then hold only patients who lived long enough "
        "to show it (immortal-time bias): a description, not an effect.",
    )
    offered = [c for c in columns if post or is_baseline(c)]
    names = {c: labels.column(c) + ("" if is_baseline(c) else " (post-baseline)") for c in offered}
    choice: str | None = st.selectbox(
        "Compare by",
        [None, *offered],
        format_func=lambda c: "Nothing (all patients together)" if c is None else names[c],
        key=COMPARE,
        help="Curves, log-rank test and hazard ratios per level of a baseline "
        "characteristic (known before the procedure).",
    )
    return choice, post


def _options(filters: FilterState, compare: str | None) -> View:
    presentation = st.toggle(
        "Presentation mode",
        key=PRESENT,
        help="Large type and high-contrast figures for a projector; the sidebar starts "
        "collapsed and the pages are listed at the top.",
    )
    with st.expander("View options"):
        landmark = st.number_input(
            "Landmark (days)",
            1,
            3650,
            step=1,
            key="landmark",
            help="Day of the headline estimates (183 = 6 months).",
        )
        goal = st.number_input("AFS performance goal (%)", 1, 99, step=1, key="goal")
        ci_type = st.selectbox(
            "Confidence interval",
            CI_TYPES,
            key="ci",
            help="log-log: SAS PROC LIFETEST's default; log: R survfit's default; plain: "
            "linear, clipped to 0-100%.",
        )
        ticks = st.radio("Time-axis ticks every (months)", (3, 6), key="ticks", horizontal=True)
        show_ci = st.toggle("Shade the 95% CI", key="band")
        risk_rows = st.toggle("Events and censored rows in the risk table", key="riskrows")
        min_at_risk = st.number_input(
            "Draw lighter below this many at risk", 0, 1000, step=1, key="minrisk"
        )
    return View(
        filters=filters,
        compare=compare,
        landmark=float(landmark),
        ci_type=ci_type,
        goal=goal / 100,
        tick_months=float(ticks),
        show_ci=bool(show_ci),
        risk_rows=bool(risk_rows),
        min_at_risk=int(min_at_risk),
        presentation=bool(presentation),
    )


def build(store: Store) -> Selection:
    """Draw the sidebar from the view the URL holds; return the view it makes, which
    the URL then holds."""
    limits = ranges(store)
    view_state.sync(store, limits)
    with st.sidebar:
        b = _filters(store, limits)
        filters, chips = b.selection()
        st.header("Compare and show")
        compare, post = _compare(limits.compare, store.labels)
        view = replace(_options(filters, compare), post_baseline=post)
    problems = (*view_state.settle(store, view), *b.problems)
    return Selection(replace(view, problems=problems), chips, b.defaults, problems)


def summary(
    where: Any, n: int, total: int, selection: Selection, shown: str | None = None
) -> None:
    """N of M, the active filters as removable chips, and Reset, in `where` (`shown`:
    what N reads instead, when small-cell protection withholds it)."""
    with where:
        if shown is not None:
            shown = shown.replace("*", "\\*")  # a withheld N ("*") is text, not emphasis
        st.markdown(f"**{patients(n, total) if shown is None else f'{shown} of {total:,}'}**")
        if selection.chips:
            with st.container(horizontal=True, gap="small", key="chips"):
                for i, chip in enumerate(selection.chips):
                    st.button(
                        chip.text,
                        key=f"chip_{i}_{chip.clause}",
                        on_click=_remove,
                        args=(chip.owners,),
                        icon=":material/close:",
                        icon_position="right",
                        help="Remove this filter",
                    )
        else:
            st.caption("No filters: all patients.")
        st.button(
            "Reset filters",
            key="reset",
            on_click=_reset,
            args=(dict(selection.defaults),),
            disabled=not selection.filters,
            icon=":material/restart_alt:",
        )


def reset_button(selection: Selection) -> None:
    """Reset alone, for when the filters chosen could not be used."""
    st.sidebar.button(
        "Reset filters", key="reset_failed", on_click=_reset, args=(dict(selection.defaults),)
    )
