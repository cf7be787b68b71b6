"""Notices every page shares: where the data come from, who is in view, small groups."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import streamlit as st

from analytics.analyses.views import ungrouped_note
from analytics.estimators.bayes import BayesResult
from analytics.model.labels import Labels
from analytics.model.schema import is_baseline
from analytics.model.view import IMMORTAL_TIME, View
from analytics.store import Store
from ui import disclosure, fmt
from ui.glossary import TERMS

SYNTHETIC_NOTICE = "Synthetic data, not patient data."
SMALL_GROUP = 10


def notice_text(store: Store) -> str | None:
    """The data's synthetic notice, or None for real data."""
    if not store.synthetic:
        return None
    return store.meta.get("notice") or SYNTHETIC_NOTICE


def synthetic_notice(store: Store) -> None:
    """Shown by app.py above every page when the data are invented (in presentation
    mode `cohort_line` carries it instead)."""
    text = notice_text(store)
    if text:
        st.warning(text, icon="⚠️")


def source_text(store: Store) -> str:
    """Data source and synthetic notice, as printed on every export."""
    source = store.meta.get("source", "unknown")
    notice = notice_text(store)
    return f"Data: {source}." + (f" {notice}" if notice else "")


def cohort_line(n: int, total: int, view: View, labels: Labels, notice: str | None = None) -> None:
    """N of M and the view in words, above every page; in presentation mode after the
    first sentence of the synthetic `notice`, on one line."""
    line = f"**{fmt.patients(n, total)}** · {view.describe(labels)}"
    if notice:
        first = notice.split(". ")[0].rstrip(".")
        line = f":orange[:material/warning: **{first}.**] · {line}"
    st.caption(line)


def link_problems(problems: Sequence[str]) -> None:
    """What the link or the filter text asked for and could not be used, at the top
    of the page (the sidebar may be collapsed): a view never changes silently."""
    if problems:
        st.warning(
            "Part of this view could not be used, so the page shows it without that part: "
            + "; ".join(problems)
            + "."
        )


def no_patients(n: int, consequence: str = "there are no results to show") -> bool:
    """Say so when no patient passes the filters (the page then has nothing to draw)."""
    if n:
        return False
    st.info(
        f"No patients match the current filters, so {consequence}. "
        "Remove a filter in the sidebar or press Reset filters."
    )
    return True


def small_group_caution(n: int, threshold: int = SMALL_GROUP, *, group: str | None = None) -> None:
    """A warning for a group under `threshold` patients: its estimates are unstable.

    `group` names the group in the message (default: the patients in view)."""
    if n >= threshold:
        return
    where = f" in {group}" if group else ""
    if n == 0:
        st.warning(f"No patients{where}, so there are no estimates.")
        return
    who = "1 patient" if n == 1 else f"{n} patients"
    if disclosure.active().disclosure.hides(n):
        who = f"fewer than {disclosure.active().disclosure.threshold} patients"
    st.warning(
        f"Only {who}{where}: with fewer than {threshold} patients the estimates are "
        "unstable and their confidence intervals wide. Read them with caution.",
        icon="⚠️",
    )


def bayes_verdict(result: BayesResult, where: Any = st) -> None:
    """The primary endpoint's verdict in one box: met, not met, or not assessable with
    the reason (the same words on every page that shows it)."""
    goal = fmt.share(result.goal)
    prob = fmt.probability(result.probability_above_goal)
    text = (
        f"the posterior probability that the AFS rate at day {result.day:g} exceeds the "
        f"{goal} goal is {prob}, against a threshold of {result.threshold:g}."
    )
    if result.success is None:
        where.warning(f"Not assessable: {result.verdict_note}. For information, {text}")
    elif result.success:
        where.success(f"Performance goal met: {text}")
    else:
        where.info(f"Performance goal not met: {text}")


def not_compared(n: int, by_label: str) -> None:
    """Patients left out of a comparison for a missing value, counted and said."""
    text = ungrouped_note(n, by_label)
    if text:
        st.caption(f"{text}.")


def view_not_applied(view: View | None, why: str) -> None:
    """One line on a page the sidebar's filters and comparison do not change, when
    some are set: a reader must not think the page shows them."""
    if view is not None and (view.filters or view.compare):
        st.caption(f"The filters and comparison in the sidebar do not apply here: {why}.")


def post_baseline(view: View, labels: Labels) -> None:
    """Above every page while the comparison is by something known only after the
    procedure: what the groups can and cannot say."""
    if view.compare and not is_baseline(view.compare):
        st.warning(f"Compared by {labels.column(view.compare)}, {IMMORTAL_TIME}.")


def methods(items: Mapping[str, str], terms: Sequence[str] = ()) -> None:
    """How the page's numbers are made, once, at the foot of the page: each method by
    name, then the definitions of `terms` (from the glossary). Figures and tables keep
    their one footnote line."""
    with st.expander("Methods", icon=":material/info:"):
        for name, text in items.items():
            st.markdown(f"**{name}.** {text.rstrip('.')}.")
        for term in terms:
            st.markdown(f"**{term}.** {TERMS[term]}")
