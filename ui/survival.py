"""Survival figures and tables shared by the survival pages (AFS, patency).

Everything drawn comes from an `analytics.analyses.views.SurvivalView` (via `ui.data`): the
figures from its Kaplan-Meier results, the tables from their landmarks, the group
comparison from its log-rank test and Cox model. Nothing is estimated here.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from analytics.analyses.survival import GroupComparison
from analytics.analyses.views import SurvivalView
from analytics.estimators.km import CI_LABELS, KMResult
from analytics.model.basket import Card
from analytics.model.labels import DEFAULT as DEFAULT_LABELS
from analytics.model.labels import Labels
from analytics.model.schema import ENDPOINT_SHORT
from charts.survival import km_figure
from charts.theme import Mode, Theme
from ui import data, disclosure, fmt
from ui.context import Context
from ui.figure import cached_figure, show_figure
from ui.notes import not_compared, small_group_caution
from ui.themes import screen_theme, slide_theme

SHORT = ENDPOINT_SHORT


def short(code: str) -> str:
    return SHORT.get(code, code)


def group_name(labels: Labels, column: str, level: str) -> str:
    """A level as legends and tables show it: "On dialysis: Y"."""
    return labels.level(column, level)


def curves_figure(
    ctx: Context,
    results: dict[str, KMResult],
    *,
    order: Sequence[str],
    y_title: str,
    title: str | None = None,
    goal: float | None = None,
    goal_label: str = "Performance goal",
    theme: Mode | Theme | None = None,
    comparison: str | None = None,
    footnote: str | None = None,
) -> go.Figure:
    """Kaplan-Meier curves with the at-risk table, drawn with the view options (on the
    page's theme unless `theme` says otherwise)."""
    opt = ctx.view
    return km_figure(
        results,
        comparison=comparison,
        footnote=footnote,
        levels=list(order),
        y_title=y_title,
        title=title,
        tick_months=opt.tick_months,
        ci=opt.show_ci,
        table_events=opt.risk_rows,
        fade_below=opt.min_at_risk or None,
        landmark_day=opt.landmark,
        goal=goal,
        goal_label=goal_label,
        theme=theme or screen_theme(opt),
    )


def show_curves(
    ctx: Context,
    view: SurvivalView,
    codes: Sequence[str],
    name: str,
    *,
    title: str,
    y_title: str = "Patients free of the event",
    goal: float | None = None,
    goal_label: str = "Performance goal",
    card: str | Card | None = None,
) -> bool:
    """The endpoints' curves on one figure with its downloads; False if none has data."""
    results = {short(c): view.endpoints[c] for c in codes if c in view.endpoints}
    protect = disclosure.active()
    results, hidden = protect.curves(results)
    if hidden:
        st.caption(protect.hidden_note(hidden))
    if not results:
        st.info(
            "The patients in view have no records for "
            f"{', '.join(short(c).lower() for c in codes)}."
        )
        return False
    order = [short(c) for c in codes]

    def build(theme: Theme | None = None, with_title: bool = False) -> go.Figure:
        return curves_figure(
            ctx,
            results,
            order=order,
            y_title=y_title,
            goal=goal,
            goal_label=goal_label,
            theme=theme,
            title=title if with_title else None,
        )

    key = (ctx.figure_key, tuple(codes), y_title, goal)
    fig = cached_figure(f"curves_{name}", key, build)
    show_figure(fig, name, slide=lambda: build(slide_theme(), with_title=True), card=card)
    return True


def estimates_frame(view: SurvivalView, codes: Sequence[str], day: float) -> pd.DataFrame:
    """One row per endpoint: patients, events, estimate at the landmark with its CI,
    at risk then, median."""
    at = fmt.months(day)
    rows = []
    for code in codes:
        km = view.endpoints.get(code)
        if km is None:
            continue
        lm = km.landmark(day)
        rows.append(
            {
                "Endpoint": short(code),
                "Patients": fmt.count(km.n),
                "Events": fmt.count(km.events),
                f"At {at}": fmt.pct(lm.estimate),
                "95% CI": fmt.ci_range(lm.lower, lm.upper),
                f"At risk at day {day:g}": fmt.count(lm.at_risk),
                "Median": fmt.median_days(km.median.estimate),
            }
        )
    return pd.DataFrame(rows)


def show_estimates(view: SurvivalView, codes: Sequence[str], day: float) -> None:
    frame = disclosure.active().estimates(estimates_frame(view, codes, day))
    if frame.empty:
        return
    # a static table: its text scales with the page (large in presentation mode)
    st.table(frame, hide_index=True, border="horizontal")
    ci = next(iter(view.endpoints.values())).ci_type
    st.caption(
        f"Kaplan-Meier estimates at day {day:g} with 95% confidence intervals "
        f"({CI_LABELS[ci]}); NR: median not reached."
    )


def comparison_frame(
    view: SurvivalView, code: str, by: str, day: float, labels: Labels = DEFAULT_LABELS
) -> pd.DataFrame:
    """One row per level: patients, events, estimate at the landmark, hazard ratio
    against the reference with its 95% CI and Wald p."""
    cmp = view.comparison.get(code)
    rows = []
    for level, km in view.groups.get(code, {}).items():
        lm = km.landmark(day)
        if cmp is None:
            hr, p = "–", "–"
        elif level == cmp.reference:
            hr, p = "1 (reference)", ""
        elif level in cmp.hazard_ratios:
            h, lo, hi, pv = cmp.hazard_ratios[level]
            hr, p = fmt.ratio(h, lo, hi), fmt.p_value(pv)
        else:
            # the reason says what to do about it (e.g. no events in this group)
            hr, p = cmp.not_estimable.get(level, "not estimable"), ""
        rows.append(
            {
                labels.column(by): labels.value(by, level),
                "Patients": fmt.count(km.n),
                "Events": fmt.count(km.events),
                f"At {fmt.months(day)}": fmt.estimate_with_interval(
                    lm.estimate, lm.lower, lm.upper
                ),
                "Hazard ratio (95% CI)": hr,
                "p": p,
            }
        )
    return pd.DataFrame(rows)


def comparison_text(cmp: GroupComparison, labels: Labels) -> str:
    """The groups' test as the figure's caption states it: log-rank p, then each
    hazard ratio against the reference with its 95% CI."""
    by = cmp.by
    parts = [fmt.logrank(cmp.logrank_p)]
    for level, (hr, lower, upper, _p) in cmp.hazard_ratios.items():
        parts.append(
            f"HR {labels.value(by, level)} vs {labels.value(by, cmp.reference)} "
            f"{fmt.ratio(hr, lower, upper)}"
        )
    return "; ".join(parts)


def show_comparison(ctx: Context, codes: Sequence[str], key: str, card: str | None = None) -> None:
    """Curves per level of the compare-by column for one chosen endpoint, the
    log-rank test and the hazard ratios."""
    by = ctx.compare_by
    if by is None:
        st.info(
            "Choose a characteristic under **Compare by** in the sidebar to see these "
            "curves per group, with the log-rank test and hazard ratios."
        )
        return
    code = st.selectbox(
        "Endpoint to compare", list(codes), format_func=short, key=key, bind="query-params"
    )
    opt = ctx.view
    view = data.survival(ctx.store, opt, [code], by=by)
    per_level = view.groups.get(code, {})
    if not per_level:
        st.info(f"No {short(code).lower()} records among the patients in view.")
        return
    for level, km in per_level.items():
        small_group_caution(int(km.n), group=group_name(ctx.labels, by, level))
    not_compared(view.n_ungrouped, ctx.labels.column(by).lower())
    results = {group_name(ctx.labels, by, lv): km for lv, km in per_level.items()}
    protect = disclosure.active()
    hidden = protect.withheld_groups({name: int(km.n) for name, km in results.items()})
    if hidden:
        st.caption(protect.hidden_note(sorted(hidden)))
        results = {name: km for name, km in results.items() if name not in hidden}
    order = [group_name(ctx.labels, by, lv) for lv in ctx.levels(by)]
    title = f"{short(code)} by {ctx.labels.column(by).lower()}"
    cmp = view.comparison.get(code)
    test = comparison_text(cmp, ctx.labels) if cmp is not None else None

    def build(theme: Theme | None = None, with_title: bool = False) -> go.Figure:
        return curves_figure(
            ctx,
            results,
            order=order,
            y_title=short(code),
            theme=theme,
            title=title if with_title else None,
            comparison=test,
            footnote=view.provenance.footnote(),
        )

    if cmp is not None:
        st.markdown(
            f"**{fmt.logrank(cmp.logrank_p)}** (χ² = {cmp.logrank_chisq:.2f} on "
            f"{cmp.logrank_df} df)"
        )
    else:
        st.info(f"No test: {view.comparison_note.get(code, 'nothing to compare')}.")
    fig = cached_figure("compare", (ctx.figure_key, key, code, by), build)
    show_figure(
        fig,
        f"{key}_{code}_by_{by}",
        slide=lambda: build(slide_theme(), True),
        # the card splits its first endpoint by group unless it names another
        card=None
        if card is None
        else Card(card, options=() if code == codes[0] else (("compared", code),)),
    )
    st.table(
        protect.estimates(comparison_frame(view, code, by, opt.landmark, ctx.labels), groups=True),
        hide_index=True,
        border="horizontal",
    )
    if cmp is not None:
        # the method names the reference by its code (as the command line's JSON does)
        method = cmp.method.replace(
            f"reference {cmp.by}={cmp.reference}",
            f"reference {ctx.labels.level(cmp.by, cmp.reference)}",
        )
        st.caption(f"Method: {method}. Hazard ratios with Wald 95% CI and p.")
