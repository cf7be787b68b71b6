"""Report cards that carry their page's settings (the sites outcome and benchmark, the
Rutherford visit, the subgroups' endpoint and added columns, the primary endpoint's
analysis, the simulated design) and the cards of the Patients, Published evidence and
Trial design pages.

Each card's numbers are checked against the analytics called here with the same
settings, against the data read with SQL, or against a closed form (the Beta posterior
of complete cases, the exact binomial power of a single analysis)."""

from __future__ import annotations

import pandas as pd
import pytest
from scipy import stats

from analytics.analyses import views
from analytics.analyses.evidence import evidence_frame
from analytics.analyses.evidence_file import load_evidence
from analytics.analyses.safety import safety_view
from analytics.analyses.sites import compare_sites
from analytics.analyses.subgroup_counts import subgroup_view
from analytics.analyses.subgroup_model import subgroup_variables
from analytics.model.basket import Basket, Card
from analytics.model.labels import DEFAULT as LABELS
from analytics.model.view import View
from analytics.report.protect import Protection
from pack.cards import build_card
from tests.helpers import codes_in
from ui import fmt


def card(text: str) -> Card:
    found, problem = Card.from_text(text)
    assert problem is None, problem
    assert found is not None
    return found


def build(store, text: str):
    return build_card(store, card(text), Protection())


# --- settings in the link ------------------------------------------------------------------


def test_settings_survive_the_link_and_read_in_words():
    sites = Card(
        "sites",
        View.from_text("DIALFL=N"),
        options=(("outcome", "amputation"), ("target", "benchmark"), ("benchmark", "20")),
    )
    back = Basket.from_query(Basket((sites,)).to_query())
    assert back.cards == (sites,)
    assert back.problems == ()
    subgroups = card("kind=subgroups&opt.endpoint=LS&opt.extra=AGEGR1&opt.extra=DIABFL")
    assert subgroups.option_list("extra") == ["AGEGR1", "DIABFL"]
    words = subgroups.describe(LABELS) + card("kind=rutherford&opt.visit=MONTH+12").describe(LABELS)
    assert "Limb salvage" in words
    assert "Age group" in words
    assert "Month 12" in words
    assert not codes_in(words), words


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("kind=afs&opt.outcome=afs", "not a setting of this card"),
        ("kind=sites&opt.outcome=death", "not one of afs, amputation"),
        ("kind=sites&opt.benchmark=120", "not between 0.1 and 99.9"),
        ("kind=sites&opt.min_n=2.5", "not a whole number"),
        ("kind=sites&opt.benchmark=nan", "not a number"),
        ("kind=design&opt.seed=1&opt.seed=2", "given more than once"),
        ("kind=rutherford&opt.visit=" + "x" * 500, "characters"),
    ],
)
def test_a_setting_the_card_cannot_take_is_named_and_left_out(text, said):
    found, problem = Card.from_text(text)
    assert found is not None
    assert problem is not None
    assert said in problem
    assert len(found.options) <= 1  # the good first value of a repeated setting stays


# --- settings the builders use -------------------------------------------------------------


def test_the_sites_card_uses_its_outcome_benchmark_and_threshold(demo_store):
    made = build(
        demo_store, "kind=sites&opt.outcome=amputation&opt.target=benchmark&opt.benchmark=20"
    )
    expected = compare_sites(demo_store, View().filters, "amputation", day=183, benchmark=0.2)
    assert made.title == "Sites: major amputation at the landmark"
    frame = made.tables[0].frame
    assert frame["Events"].tolist() == [str(s.events) for s in expected.sites]
    assert expected.target == pytest.approx(0.2)
    small = build(demo_store, "kind=sites&opt.min_n=3").tables[0].frame
    assert (small["Position"] == "too few to judge").sum() < (
        frame["Position"] == "too few to judge"
    ).sum()


def test_the_rutherford_card_is_at_its_visit(demo_store):
    made = build(demo_store, "kind=rutherford&opt.visit=MONTH+12")
    rows = demo_store.query(
        "SELECT b.RUTHCAT AS base, v.RUTHCAT AS at FROM visits v JOIN visits b "
        "ON b.USUBJID = v.USUBJID AND b.AVISIT = 'BASELINE' "
        "WHERE v.AVISIT = 'MONTH 12' AND v.RUTHCAT IS NOT NULL AND b.RUTHCAT IS NOT NULL"
    )
    change = made.tables[0].frame.set_index("Class against baseline")["Patients"]
    assert change["Decreased"] == str(int((rows["at"] < rows["base"]).sum()))
    assert change["Unchanged"] == str(int((rows["at"] == rows["base"]).sum()))
    assert change["Increased"] == str(int((rows["at"] > rows["base"]).sum()))
    assert "month 12" in made.tables[0].caption
    gone = build(demo_store, "kind=rutherford&opt.visit=MONTH+99")
    assert gone.withheld == "No visit 'Month 99' among those in view."


def test_the_subgroups_card_uses_its_endpoint_and_added_columns(demo_store):
    made = build(demo_store, "kind=subgroups&opt.endpoint=LS&opt.extra=AGEGR1")
    variables = subgroup_variables(demo_store.subject_columns(), ["AGEGR1"])
    found = subgroup_view(demo_store, View().filters, "LS", variables, landmark=183)
    assert found is not None
    expected = [(str(lv.n), str(lv.events)) for v in found.variables for lv in v.levels]
    frame = pd.concat([t.frame for t in made.tables])
    assert list(zip(frame["n"], frame["Events"], strict=True)) == expected
    assert made.title.startswith("Subgroups: limb salvage")
    assert "Age group" in frame["Variable"].tolist()
    refused = build(demo_store, "kind=subgroups&opt.extra=USUBJID")
    assert refused.withheld == "Not a subgroup column of these data: Unique subject identifier."


def test_the_primary_card_uses_its_prior_and_complete_cases(demo_store):
    made = build(demo_store, "kind=primary&opt.missing=none&opt.a=2&opt.b=3&opt.threshold=0.95")
    status = made.tables[0].frame.iloc[0]
    s, f = int(status["Event-free"]), int(status["Event"])
    # complete cases: the Beta(2 + s, 3 + f) posterior, in closed form
    posterior = made.tables[1].frame.set_index(made.tables[1].frame.columns[0])["Value"]
    assert posterior["Posterior mean"] == fmt.pct((2 + s) / (5 + s + f))
    above = stats.beta.sf(0.54, 2 + s, 3 + f)
    assert fmt.probability(above) in " ".join(posterior.tolist())
    assert "complete cases" in made.view_line
    assert "0.95" in made.view_line


# --- the pages' other cards ----------------------------------------------------------------


def test_the_adverse_event_card_holds_the_patients_terms_and_groups(demo_store):
    made = build(demo_store, "kind=adverse_events&compare=SEX")
    onset = demo_store.query(
        "SELECT count(DISTINCT USUBJID) AS n FROM adae WHERE ASTDY <= 183"
    ).iloc[0, 0]
    patients = made.tables[0].frame.set_index("Adverse events")
    assert patients.loc["Any adverse event", "With"] == str(onset)
    assert patients.loc["Any adverse event", "Without"] == str(demo_store.count() - onset)
    ae = safety_view(demo_store, View().filters, 183)[0]
    terms = made.tables[1].frame
    assert terms["Patients"].tolist() == [str(t.patients) for t in ae.terms]
    by_sex = made.tables[-1]
    assert by_sex.caption == "by sex"
    for level, name in (("M", "Male"), ("F", "Female")):
        n = demo_store.query(
            "SELECT count(DISTINCT a.USUBJID) FROM adae a JOIN adsl s USING (USUBJID) "
            "WHERE a.ASTDY <= 183 AND s.SEX = ?",
            [level],
        ).iloc[0, 0]
        assert by_sex.frame.set_index("Sex").loc[name, "Any"] == str(n)
    whole = build(demo_store, "kind=adverse_events&opt.window=whole")
    everyone = demo_store.query("SELECT count(DISTINCT USUBJID) FROM adae").iloc[0, 0]
    assert whole.tables[0].frame.iloc[0]["With"] == str(everyone)
    assert "whole follow-up" in whole.tables[0].caption


def test_the_deaths_card_counts_every_cause(demo_store):
    made = build(demo_store, "kind=deaths")
    died = demo_store.query("SELECT count(*) FROM adsl WHERE DTHFL = 'Y'").iloc[0, 0]
    assert made.tables[0].frame.iloc[0]["Died"] == str(died)
    by_cause = made.tables[1].frame
    assert sum(int(x) for x in by_cause["Patients"]) == died
    assert not codes_in(" ".join(by_cause["Cause of death"]))


def test_the_evidence_card_holds_the_figure_and_every_published_figure(demo_store):
    made = build(demo_store, "kind=evidence&compare=DIALFL")
    assert made.figure is not None
    assert not made.withheld
    published = evidence_frame(load_evidence())
    rows = pd.concat([t.frame for t in made.tables])
    assert len(rows) == len(published)
    assert rows["Study"].tolist() == published["Study"].tolist()
    assert "<NA>" not in " ".join(rows.to_numpy().ravel().tolist())


def test_the_design_card_simulates_its_settings(demo_store):
    """A single analysis of 60 patients with no early stop: the probability of success
    is the exact binomial chance of reaching the critical count of successes."""
    text = (
        "kind=design&opt.looks=60&opt.expected_success=1.0&opt.futility=0.0"
        "&opt.rate=68&opt.simulations=5000&opt.seed=7"
    )
    made = build(demo_store, text)
    assert not made.withheld
    assert made.figure is not None
    n, goal, threshold = 60, 0.54, 0.977
    critical = next(k for k in range(n + 1) if stats.beta.sf(goal, 1 + k, 1 + n - k) > threshold)
    exact = stats.binom.sf(critical - 1, n, 0.68)
    table = made.tables[0].frame.set_index("Operating characteristic")
    simulated = float(table.loc["Probability of success (%)"].iloc[0]) / 100
    assert abs(simulated - exact) < 4 * (exact * (1 - exact) / 5000) ** 0.5
    assert "What-if design" in " ".join(made.methods)
    assert made.view_line.startswith("Simulated trials, no patient data")
    bad = build(demo_store, "kind=design&opt.looks=60,50")
    assert bad.withheld
    assert "increasing order" in bad.withheld
    assert build(demo_store, "kind=design_power&opt.simulations=1000").figure is not None


def test_a_compared_survival_card_splits_the_endpoint_it_names(demo_store):
    made = build(demo_store, "kind=afs&compare=SEX&opt.compared=OS")
    by_sex = {s.name for s in made.chart.series} if made.chart else set()
    assert by_sex == {"Sex: Male", "Sex: Female"}
    found = views.survival_view(
        demo_store, View().filters, ("OS",), landmarks=(183,), by="SEX", compare=("OS",)
    )
    rows = made.tables[0].frame
    assert sorted(rows["Patients"]) == sorted(f"{km.n:.0f}" for km in found.groups["OS"].values())
    assert "Overall survival" in made.view_line
    refused = build(demo_store, "kind=afs&opt.compared=PP")
    assert refused.withheld == "'Primary patency' is not a curve of this card."
