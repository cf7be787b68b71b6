"""Sites: each site's amputation-free survival or major amputation at the landmark
against the pooled proportion or a benchmark, as a funnel plot and a table."""

from __future__ import annotations

import streamlit as st

from analytics.analyses.sites import OUTCOMES, SMALL_SITE, SiteComparison
from analytics.model.basket import Card
from analytics.model.card_options import OPTIONS
from analytics.report.protected import shown_sites
from charts.funnel import funnel_figure
from ui import data, disclosure, fmt, style
from ui.context import Context, current
from ui.errors import shown_plainly
from ui.figure import cached_figure, show_figure
from ui.notes import no_patients
from ui.sites import sites
from ui.tables import show_table
from ui.themes import screen_theme, slide_theme

POOLED, BENCHMARK = "pooled", "benchmark"
# The URL holds what these read (?sites_outcome=Major+amputation&sites_target=Benchmark),
# so they do not change with the landmark.
OUTCOME_NAMES = {"afs": "Amputation-free survival", "amputation": "Major amputation"}
TARGETS = {POOLED: "Pooled", BENCHMARK: "Benchmark"}
BOUNDS = OPTIONS["sites"]  # the report's card takes what these inputs take


def outcome_label(key: str, day: float) -> str:
    months = fmt.months(day)
    return {
        "afs": f"Amputation-free survival at {months}",
        "amputation": f"Major amputation by {months}",
    }[key]


def controls(ctx: Context) -> tuple[str, float | None, int, bool]:
    """The outcome, the benchmark (a proportion; None: the pooled proportion), the
    small-site threshold, and whether a benchmark was asked for but not given."""
    c = st.columns([1.4, 1.2, 1, 1], vertical_alignment="bottom")
    outcome = c[0].selectbox(
        "Outcome at the landmark",
        list(OUTCOMES),
        format_func=OUTCOME_NAMES.__getitem__,
        key="sites_outcome",
        bind="query-params",
        help="The landmark is the sidebar's (day 183, 6 months, unless changed there).",
    )
    target = c[1].radio(
        "Target",
        list(TARGETS),
        format_func=TARGETS.__getitem__,
        key="sites_target",
        help="Pooled: the proportion over every site's patients of known status.",
        bind="query-params",
        horizontal=True,
    )
    benchmark = c[2].number_input(
        "Benchmark (%)",
        min_value=BOUNDS["benchmark"].low,
        max_value=BOUNDS["benchmark"].high,
        value=None,
        step=0.1,
        format="%.1f",
        key="sites_benchmark",
        bind="query-params",
        placeholder="e.g. a published rate",
        disabled=target != BENCHMARK,
        help="The proportion every site is compared with, in percent of patients of "
        "known status. Nothing is filled in for you: enter the figure you want to "
        "compare with.",
    )
    min_n = c[3].number_input(
        "Too few to judge under",
        min_value=int(BOUNDS["min_n"].low),
        max_value=int(BOUNDS["min_n"].high),
        value=SMALL_SITE,
        step=1,
        key="sites_min",
        bind="query-params",
        help="Sites with fewer patients of known status are listed and drawn (hollow), "
        "never called outliers.",
    )
    wanted = target == BENCHMARK
    chosen = float(benchmark) / 100 if wanted and benchmark is not None else None
    return str(outcome), chosen, int(min_n), wanted and chosen is None


def explain(res: SiteComparison) -> None:
    what = "alive without major amputation" if not res.outcome.counts_events else "amputated"
    better = "higher" if res.outcome.higher_is_better else "lower"
    death = (
        " A patient who died before the day without amputation counts as known not "
        "amputated (death competes)."
        if res.outcome.counts_events
        else ""
    )
    st.caption(
        f"Each site's proportion is the share of its patients **of known status** at day "
        f"{res.landmark:g} who were {what}: known means the event happened by the day or "
        "the patient was followed to it. Patients censored before the day, or without a "
        f"record, are of **unknown status**: counted in the table, left out of the "
        f"denominator.{death} {better.capitalize()} is better. Limits: 95% and 99.8% "
        "exact binomial limits around the target (Spiegelhalter, Stat Med 2005). The "
        f"table also gives the {res.estimator.split(',')[0]} estimate, which uses the "
        "patients of unknown status up to their censoring."
    )


def card_of(res: SiteComparison) -> Card:
    """The report's sites card with the page's outcome, target and threshold."""
    options = [("outcome", res.outcome.key), ("target", res.target_kind)]
    if res.target_kind == BENCHMARK and res.target is not None:
        options.append(("benchmark", f"{100 * res.target:g}"))
    options.append(("min_n", str(res.min_n)))
    return Card("sites", options=tuple(options))


def summary(res: SiteComparison) -> str:
    judged = res.judged
    beyond = [s for s in judged if s.position != "within"]
    small = [s for s in res.sites if s.small]
    target = "pooled proportion" if res.target_kind == "pooled" else "benchmark"
    share = "not defined" if res.target is None else f"{100 * res.target:.1f}%"
    protect = disclosure.active()
    status = f"{fmt.count(res.known)} of known status, {fmt.count(res.unknown)} unknown"
    if any(protect.disclosure.hides(x) for x in (res.known, res.unknown)):
        status = "known and unknown status withheld under small-cell protection"
    text = (
        f"Status at {fmt.at_day(res.landmark)}: "
        f"{len(res.sites)} sites, {fmt.count(res.n)} patients ({status}). "
        f"Target: {target} {share}. "
        f"{len(judged)} sites judged, {len(beyond)} beyond the 95% limits; {len(small)} "
        f"with fewer than {res.min_n} patients of known status are too few to judge."
    )
    if res.no_site:
        text += (
            f" {protect.count_text(res.no_site)} patients without a site identifier are not "
            "compared."
        )
    return text


def table(ctx: Context, res: SiteComparison, name: str) -> None:
    frame = res.to_frame()
    counted = "Amputated" if res.outcome.counts_events else "Alive without amputation"
    show_table(
        frame,
        name="sites",
        title=f"Sites: {outcome_label(res.outcome.key, res.landmark)}",
        view=ctx.view,
        provenance=res.provenance,
        label="Download the table (CSV)",
        file_name=f"{name}.csv",
        card=card_of(res),
        column_config={
            "Site": st.column_config.TextColumn(pinned=True),
            "n": st.column_config.NumberColumn("Patients", format="%d"),
            "Known": st.column_config.NumberColumn("Known status", format="%d"),
            "Unknown": st.column_config.NumberColumn(
                "Unknown status",
                format="%d",
                help="Censored before the day (not by death) or without a record",
            ),
            "Events": st.column_config.NumberColumn(
                f"{res.outcome.paramcd} events by day {res.landmark:g}", format="%d"
            ),
            "Numerator": st.column_config.NumberColumn(counted, format="%d"),
            "Proportion": st.column_config.NumberColumn(
                "Proportion", format="percent", help="Of patients of known status"
            ),
            "CI lower": st.column_config.NumberColumn("95% CI lower", format="percent"),
            "CI upper": st.column_config.NumberColumn("95% CI upper", format="percent"),
            "Estimate": st.column_config.NumberColumn(
                res.estimator.split(",")[0], format="percent", help=res.estimator
            ),
            "Estimate lower": st.column_config.NumberColumn("Estimate lower", format="percent"),
            "Estimate upper": st.column_config.NumberColumn("Estimate upper", format="percent"),
            "Flag": st.column_config.TextColumn("Position"),
        },
    )


def render() -> None:
    ctx = current()
    st.title("Sites")
    if no_patients(data.count(ctx.store, ctx.filters), "there are no sites to compare"):
        return
    # presentation: the settings fold away and the funnel comes first
    with style.settings_box(ctx.view.presentation, "Outcome and benchmark"):
        outcome, benchmark, min_n, missing = controls(ctx)
    figure_slot = style.figure_slot(ctx.view.presentation)
    if missing:
        st.info("Enter the benchmark in percent; until then the pooled proportion is the target.")
    opts = ctx.view
    res = sites(ctx.store, opts, outcome, day=opts.landmark, benchmark=benchmark, min_n=min_n)
    if not res.sites:
        st.info("The patients in view have no site identifier, so there are no sites to compare.")
        return
    if ctx.compare_by:
        st.caption("Compare by does not split this page: the sites are the groups.")
    explain(res)
    single = len(res.sites) == 1
    if single:
        st.info(
            f"All patients in view come from one site ({res.sites[0].label}): there is no "
            "other site to compare it with"
            + (
                ", and against its own pooled proportion it cannot differ. Choose a "
                "benchmark to compare it with."
                if res.target_kind == "pooled"
                else "; it is shown against the benchmark."
            )
        )
    st.markdown(summary(res))
    name = f"sites-{outcome}"
    if res.target is not None and not (single and res.target_kind == "pooled"):
        key = (ctx.figure_key, outcome, benchmark, min_n)
        title = outcome_label(outcome, res.landmark)
        protect = disclosure.active()
        drawn, gone = shown_sites(protect, res)
        if gone:
            st.caption(protect.hidden_note(gone))
        with style.in_slot(figure_slot):
            show_figure(
                cached_figure(
                    "funnel", key, lambda: funnel_figure(drawn, theme=screen_theme(opts))
                ),
                name,
                slide=lambda: funnel_figure(drawn, title=title, theme=slide_theme()),
                card=card_of(res),
            )
    elif res.target is None:
        st.info("No patient in view has a known status at the landmark: there is no funnel.")
    st.subheader("Table")
    table(ctx, res, name)
    st.caption(res.provenance.footnote())


with shown_plainly("the site comparison"):
    render()
