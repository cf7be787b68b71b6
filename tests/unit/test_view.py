"""The view as one value (analytics.model.view): its URL form round-trips, its key is
stable, what cannot be used is reported clause by clause, and the command line's
``--view`` gives the numbers of the same filters and comparison given as options."""

from __future__ import annotations

import json
import time

import pytest

from analytics.model.filters import MAX_FILTER_TEXT, Clause, FilterState
from analytics.model.view import View
from analytics.report.cli import main
from ui.context import Context
from ui.figure import export_lines


def test_defaults_are_the_dashboards():
    view = View()
    assert (view.landmark, view.ci_type, view.goal, view.tick_months) == (183.0, "log-log",
                                                                          0.54, 3.0)
    assert view.to_query() == {}
    assert View.from_query({}) == view


def test_url_form_round_trips():
    view = View(
        filters=FilterState.parse(["DIALFL=N", "AGE>=60", "RUTHCAT=5,6"]),
        compare="SEX",
        landmark=365,
        ci_type="log",
        goal=0.6,
        tick_months=6,
        show_ci=False,
        risk_rows=True,
        min_at_risk=5,
        presentation=True,
    )
    again = View.from_text(view.url_query())
    assert again == view
    assert again.key == view.key
    assert not again.problems


def test_dashboard_parameters_become_clauses():
    view = View.from_text("DIALFL=N&SEX=F,M&AGE=60&AGE=80&ENRL=2020-Q1&ENRL=2021-Q4"
                          "&compare=sex&goal=60&pe_missing=km")
    assert set(view.filters.clauses) == {
        Clause("DIALFL", "in", ("N",)),
        Clause("SEX", "in", ("F", "M")),
        Clause("AGE", ">=", ("60",)),
        Clause("AGE", "<=", ("80",)),
        Clause("ENRLDT", ">=", ("2020-01-01",)),
        Clause("ENRLDT", "<=", ("2021-12-31",)),
    }
    assert view.compare == "SEX"
    assert view.goal == pytest.approx(0.6)
    assert view.ignored == ("pe_missing",)  # a page's own widget, not the view
    assert not view.problems


def test_the_key_ignores_clause_order_and_separates_different_views():
    a = View.from_text("DIALFL=N&SEX=F")
    b = View.from_text("SEX=F&DIALFL=N")
    assert a.key == b.key
    assert hash(a.key) == hash(b.key)
    assert View.from_text("DIALFL=N").key != View.from_text("DIALFL=Y").key
    assert View.from_text("landmark=365").key != View().key


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("ci=bogus", "ci='bogus'"),
        ("landmark=-3", "landmark='-3'"),
        ("goal=150", "goal='150'"),
        ("band=maybe", "band='maybe'"),
        ("where=BMI>>30", "BMI>>30"),
        ("AGE=60", "two bounds"),
        ("AGE=sixty&AGE=80", "'sixty'"),
        ("ENRL=2020-Q5&ENRL=2021-Q1", "2020-Q5"),
        ("compare=1x;DROP", "not a column name"),
    ],
)
def test_what_cannot_be_used_is_named_never_dropped_silently(text, named):
    view = View.from_text(text)
    assert view.problems, text
    assert any(named in p for p in view.problems), view.problems


def test_pathological_text_is_refused_fast():
    started = time.perf_counter()
    for text in ("where=" + " " * 1_000_000, "a=" + "x&" * 500_000, "=" * 10**6):
        view = View.from_text(text)
        assert view.problems
    for query in (
        {"where": " " * 1_000_000},
        {f"X{i}": "1" for i in range(100_000)},
        {"DIALFL": ["N"] * 100_000},
        {"SEX": "," * 1_000_000},
    ):
        view = View.from_query(query)
        assert "none of it is" in view.problems[0]
        assert view.filters.clauses == ()
    assert time.perf_counter() - started < 1.0
    assert str(MAX_FILTER_TEXT) in View.from_text("x" * (MAX_FILTER_TEXT + 1)).problems[0] \
        .replace(",", "")


def test_describe_prints_filters_comparison_and_changed_options():
    text = View.from_text("DIALFL=N&compare=SEX&landmark=365&ci=log").describe()
    # clinical words, never the codes of the URL
    assert text.startswith("Filters: On dialysis = No")
    assert "compared by Sex" in text
    assert "landmark day 365" in text
    assert "log confidence intervals" in text
    assert "DIALFL" not in text
    assert View().describe() == "Filters: none (all patients)"
    words = View.from_text("where=AGE>=60; RUTHCAT=6; ENRLDT<=2021-03-31").describe()
    assert words == ("Filters: Age at enrolment ≥ 60 years; Enrolment date ≤ 31 Mar 2021; "
                     "Rutherford class at baseline = 6 (major tissue loss)")


def _summary(capsys, *argv: str) -> dict:
    assert main(["summary", *argv]) == 0
    return json.loads(capsys.readouterr().out)


def test_cli_view_gives_the_numbers_of_the_same_options(capsys):
    by_view = _summary(capsys, "--view", "DIALFL=N&compare=SEX&landmark=365&ci=log")
    by_options = _summary(capsys, "--filter", "DIALFL=N", "--by", "SEX", "--landmark", "365",
                          "--ci", "log")
    by_view.pop("provenance", None)
    by_options.pop("provenance", None)
    assert by_view == by_options
    assert by_view["cohort"]["n"] < by_view["cohort"]["n_total"]


def test_the_json_prints_its_view_and_the_link_query_that_reproduces_it(capsys):
    first = _summary(capsys, "--filter", "DIALFL=N", "--filter", "AGE>=60", "--by", "SEX",
                     "--landmark", "365", "--ci", "log", "--goal", "0.6")
    assert first["cohort"]["view"] == (
        "Filters: Age at enrolment ≥ 60 years; On dialysis = No; compared by Sex; landmark "
        "day 365; log confidence "
        "intervals; performance goal 60%"
    )
    query = first["cohort"]["view_query"]
    assert View.from_text(query).key == View(
        FilterState.parse(["DIALFL=N", "AGE>=60"]), compare="SEX", landmark=365, ci_type="log",
        goal=0.6).key
    again = _summary(capsys, "--view", query)
    first.pop("provenance", None)
    again.pop("provenance", None)
    assert again == first


def test_cli_view_problems_exit_2_naming_the_clause(capsys):
    assert main(["summary", "--view", "DIALFL=N&ci=bogus"]) == 2
    assert "ci='bogus'" in capsys.readouterr().err


def test_the_dashboards_context_is_one_view_with_a_url(demo_store):
    view = View(FilterState.parse(["DIALFL=N", "BMI>=30"]), compare="SEX", landmark=365,
                ci_type="log")
    ctx = Context(demo_store, view)
    assert ctx.view is view
    assert (ctx.filters, ctx.compare_by) == (view.filters, "SEX")
    # one-of clauses as the sidebar's lists write them, the rest in `where`
    assert ctx.view.to_query() == {"DIALFL": "N", "where": "BMI>=30", "compare": "SEX",
                                   "landmark": "365", "ci": "log"}
    assert View.from_query(ctx.view.to_query()).key == ctx.view.key


def test_every_export_prints_the_view(demo_store):
    ctx = Context(demo_store, View(FilterState.parse(["DIALFL=Y"]), compare="SEX", landmark=365))
    first = export_lines(ctx)[0]
    assert first == "Filters: On dialysis = Yes; compared by Sex; landmark day 365"
    plain = Context(demo_store)
    assert export_lines(plain)[0] == "Filters: none (all patients)"
