"""Survival cards (AFS, limb salvage and survival; patency): the Kaplan-Meier figure with
its at-risk table, the same curves as points for an editable chart, and the estimates
at the landmark. With compare-by set, the card shows the first endpoint per group."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from analytics.analyses import views
from analytics.estimators.km import CI_LABELS, KMResult
from analytics.model.basket import Card
from analytics.model.schema import DAYS_PER_MONTH
from analytics.report.protect import Protection
from analytics.store import Store
from charts._steps import thin_steps
from charts.survival import km_figure
from pack import frames
from pack.content import Content, NativeChart, Series, Table, content_for, slide_theme
from ui import fmt

# an editable chart needs no more points than the eye sees: 0.5 percentage point
NATIVE_TOL = 0.005


def step_series(name: str, km: KMResult) -> Series:
    """The curve's corners from day 0 (100%): a line through them draws the steps."""
    t = np.concatenate([[0.0], np.asarray(km.timeline, float)])
    s = np.concatenate([[1.0], np.asarray(km.survival, float)])
    keep = thin_steps(t, s, tol=NATIVE_TOL)
    t, s = t[keep], s[keep]
    x = np.repeat(t, 2)[1:]
    y = np.repeat(s, 2)[:-1]
    months = np.round(x / DAYS_PER_MONTH, 3)
    return Series(name, tuple(map(float, months)), tuple(float(v) for v in np.round(100 * y, 2)))


def at_risk_frame(results: dict[str, KMResult], ticks: np.ndarray) -> pd.DataFrame:
    """Patients at risk at each tick (months), one row per curve; "–" past follow-up."""
    columns = [f"{m:g}" for m in ticks]
    rows = {}
    for name, km in results.items():
        days = np.asarray(km.risk_table.days, float)
        values = []
        for month in ticks:
            hit = np.flatnonzero(np.isclose(days, month * DAYS_PER_MONTH, atol=1e-6))
            values.append(frames.DASH if hit.size == 0 else f"{km.risk_table.at_risk[hit[0]]:.0f}")
        rows[name] = values
    return pd.DataFrame.from_dict(rows, orient="index", columns=columns).rename_axis("Months")


def curves_card(
    store: Store,
    card: Card,
    protect: Protection,
    codes: Sequence[str],
    *,
    goal: float | None = None,
    goal_label: str = "Performance goal",
) -> Content:
    v = card.view
    compared = card.option("compared") or codes[0]  # the endpoint split by group
    if compared not in codes:
        named = store.labels.value("PARAMCD", compared)
        return content_for(store, card, withheld=f"'{named}' is not a curve of this card.")
    found = views.survival_view(
        store,
        v.filters,
        codes,
        landmarks=(v.landmark,),
        ci_type=v.ci_type,
        tick_months=v.tick_months,
        by=v.compare,
        compare=(compared,),
    )
    labels = store.labels
    comparison = None
    grouped = bool(v.compare and compared in found.groups)
    if grouped:
        by = v.compare
        code = compared
        results = {labels.level(by, level): km for level, km in found.groups[code].items()}
        cmp = found.comparison.get(code)
        if cmp is not None:
            comparison = fmt.logrank(cmp.logrank_p)
        y_title = found.endpoints[code].label
        goal = goal if code == "AFS" else None
    else:
        results = {
            found.endpoints[c].label: found.endpoints[c] for c in codes if c in found.endpoints
        }
        y_title = "Patients free of the event"
    if not results:
        return content_for(
            store,
            card,
            withheld="No records of these endpoints in view.",
            provenance=found.provenance,
        )
    if grouped:
        gone = protect.withheld_groups({name: int(km.n) for name, km in results.items()})
        drawn = {name: km for name, km in results.items() if name not in gone}
        hidden = [name for name in results if name in gone]
    else:
        drawn, hidden = protect.curves(results)
    figure = None
    chart = None
    if drawn:
        figure = km_figure(
            drawn,
            title=None,
            y_title=y_title,
            tick_months=v.tick_months,
            ci=v.show_ci,
            fade_below=v.min_at_risk or None,
            landmark_day=v.landmark,
            goal=goal,
            goal_label=goal_label,
            theme=slide_theme(protect),
            comparison=comparison,
            table_events=v.risk_rows,
            footnote=found.provenance.footnote(),
        )
        end = max(float(np.max(km.timeline, initial=0.0)) for km in drawn.values())
        ticks = np.arange(0.0, end / DAYS_PER_MONTH + 1e-9, v.tick_months)
        chart = NativeChart(
            x_title="Months since procedure",
            y_title=f"{y_title} (%)",
            series=tuple(step_series(name, km) for name, km in drawn.items()),
            at_risk=protect.risk(at_risk_frame(drawn, ticks)),
        )
    table = Table(
        f"Kaplan-Meier estimates at {fmt.at_day(v.landmark)}",
        protect.estimates(frames.estimates(results, v.landmark), groups=grouped),
    )
    methods = [
        f"Kaplan-Meier with Greenwood variance; 95% CI {CI_LABELS[v.ci_type]}; months of "
        f"{DAYS_PER_MONTH:g} days; landmark day {v.landmark:g}.",
    ]
    if comparison:
        methods.append(
            "Groups: log-rank test; Cox proportional hazards (Efron ties) against the "
            f"reference level. {comparison}."
        )
    if hidden:
        methods.append(protect.hidden_note(hidden))
    return content_for(
        store,
        card,
        figure=figure,
        tables=(table,),
        chart=chart,
        methods=tuple(methods),
        provenance=found.provenance,
    )
