"""The view between the URL and the sidebar's widgets.

The URL holds the view in its own form (`View.to_query`: codes, never labels), so a
saved link survives a change of wording. When the URL says something the widgets do
not (the first request, a pasted link, other data), the widgets are set from the
URL's view; after the sidebar is drawn the URL is rewritten from the view the
widgets make. A widget never binds itself to the URL: Streamlit would write its
label there, and a label is words that may change.

What a link asks for and cannot be used is named, with the nearest valid value
when there is one, and stays on the page until the user changes the view.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Any

import streamlit as st

from analytics.model.filters import Clause
from analytics.model.view import AGE, COMPARE, ENROL, POST_BASELINE, TEXT, View
from analytics.store import Store
from ui import data
from ui.basket import PARAM as CARDS

# Multiselect filters: the key and URL parameter is the column name (?DIALFL=Y).
PRIMARY_FILTERS = ("SEX", "AGEGR1", "DIALFL", "DIABFL", "CKDFL", "RUTHCAT")
MORE_FILTERS = ("RACE", "ETHNIC", "PRIORFL", "XARTERY", "SITEID", "STUDYID")
PRESENT = "present"
# view option -> its widget key, which is also its URL parameter
OPTION_KEYS = (
    "landmark", "goal", "ci", "ticks", "band", "riskrows", "minrisk", PRESENT, POST_BASELINE
)
ENROL_COLUMN = "ENRLDT"
_SEEDED = "_view_seeded"  # (data, view key) the widgets were last set from or wrote
_PROBLEMS = "_view_problems"  # (view key, what the link asked for and could not be used)


@dataclass(frozen=True)
class Ranges:
    """What the widgets can hold for the loaded data."""

    choices: dict[str, list[str]]  # multiselect column -> its levels
    age: tuple[int, int] | None
    quarters: list[tuple[str, str, str]]  # (label, first day, last day), ISO dates
    compare: list[str]


def url_view() -> View:
    """The view the URL asks for (the report's cards, bounded on their own, apart)."""
    params = st.query_params
    return View.from_query({name: params.get_all(name) for name in params if name != CARDS})


def sync(store: Store, ranges: Ranges) -> None:
    """Set the widgets from the URL's view when the URL says something they do not:
    on the session's first run, for other data, or when the URL holds another view.

    A URL holding no view at all, within a session, is a link to another page (page
    links carry no query): the widgets keep this session's view and `settle` puts it
    back in the URL."""
    requested = url_view()
    seeded = st.session_state.get(_SEEDED)
    same_data = seeded is not None and seeded[0] == data.src(store)
    if same_data and (seeded[1] == requested.key or not _holds_view(requested)):
        return
    problems = [*requested.problems, *_seed(requested, ranges)]
    st.session_state[_PROBLEMS] = (None, tuple(problems))


def settle(store: Store, view: View) -> tuple[str, ...]:
    """After the widgets are drawn: write their view to the URL (a page's own
    parameters kept) and return what the link asked for and could not be used."""
    wanted: dict[str, Any] = dict(view.to_query())
    params = st.query_params
    for name in (*url_view().ignored, CARDS):
        if name in params:
            wanted[name] = params.get_all(name)
    current = {name: params.get_all(name) for name in params}
    if {k: _as_list(v) for k, v in wanted.items()} != current:
        params.from_dict(wanted)
    st.session_state[_SEEDED] = (data.src(store), view.key)
    key, problems = st.session_state.get(_PROBLEMS, (None, ()))
    if key is None:  # just seeded: the problems belong to the view the widgets made
        st.session_state[_PROBLEMS] = (view.key, problems)
        return tuple(problems)
    return tuple(problems) if key == view.key else ()


def _holds_view(view: View) -> bool:
    return any(name not in view.ignored for name in st.query_params)


def _as_list(value: str | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


def _seed(view: View, ranges: Ranges) -> list[str]:
    """Put `view` in the widgets' state; return what no widget could take."""
    state = st.session_state
    problems: list[str] = []
    chosen: dict[str, list[str]] = {c: [] for c in ranges.choices}
    age = list(ranges.age) if ranges.age else None
    names = [q[0] for q in ranges.quarters]
    period = [names[0], names[-1]] if names else None
    text: list[str] = []
    for clause in view.filters.clauses:
        if clause.op == "in" and clause.column in chosen and not chosen[clause.column]:
            chosen[clause.column], bad = _known(clause, ranges.choices[clause.column])
            problems += bad
        elif not (_bound(clause, age, ranges) or _quarter(clause, period, ranges)):
            text.append(str(clause))
    for column, values in chosen.items():
        state[column] = values
    if age is not None:
        state[AGE] = tuple(age)
    if period is not None:
        state[ENROL] = tuple(period)
    state[TEXT] = "; ".join(text)
    compare = view.compare
    if compare is not None and compare not in ranges.compare:
        problems.append(f"compare={compare}: not a characteristic with 2 to "
                        f"{data.MAX_COMPARE_LEVELS} recorded values in these data")
        compare = None
    state[COMPARE] = compare
    state["landmark"] = round(view.landmark)
    state["goal"] = round(100 * view.goal)
    state["ci"] = view.ci_type
    state["ticks"] = int(view.tick_months)
    state["band"] = view.show_ci
    state["riskrows"] = view.risk_rows
    state["minrisk"] = view.min_at_risk
    state[PRESENT] = view.presentation
    state[POST_BASELINE] = view.post_baseline
    return problems


def _known(clause: Clause, levels: list[str]) -> tuple[list[str], list[str]]:
    """The clause's values the data hold, and a problem per value they do not."""
    good = [v for v in clause.values if v in levels]
    problems = []
    for value in clause.values:
        if value in levels:
            continue
        near = difflib.get_close_matches(value, levels, n=1, cutoff=0.5) or [
            lv for lv in levels if lv.lower() == value.lower()
        ]
        hint = f"; did you mean {near[0]!r}?" if near else f" (values: {', '.join(levels[:8])})"
        problems.append(f"{clause.column}={value[:40]!r}: not a value in these data{hint}")
    return good, problems


def _bound(clause: Clause, age: list[int] | None, ranges: Ranges) -> bool:
    """Put an age bound on the slider when it can hold it exactly."""
    if clause.column != AGE or clause.op not in (">=", "<=") or age is None:
        return False
    assert ranges.age is not None
    try:
        value = float(clause.values[0])
    except ValueError:
        return False
    lo, hi = ranges.age
    side = 0 if clause.op == ">=" else 1
    if not value.is_integer() or not lo <= value <= hi or age[side] != ranges.age[side]:
        return False
    age[side] = int(value)
    return True


def _quarter(clause: Clause, period: list[str] | None, ranges: Ranges) -> bool:
    """Put an enrolment bound on the quarter slider when it is a quarter's first or
    last day."""
    if clause.column != ENROL_COLUMN or clause.op not in (">=", "<=") or period is None:
        return False
    side = 0 if clause.op == ">=" else 1
    match = [q[0] for q in ranges.quarters if q[1 + side] == clause.values[0]]
    default = ranges.quarters[0][0] if side == 0 else ranges.quarters[-1][0]
    if not match or period[side] != default:
        return False
    period[side] = match[0]
    return True
