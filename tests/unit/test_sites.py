"""Site comparison (analytics.analyses.sites), its funnel plot (charts.funnel) and the Sites page.

Funnel limits are checked against binomial sums written out here with exact fractions
(the interpolation of Spiegelhalter 2005, appendix A.1.1), per-site counts against a
small extract whose answers are worked out by hand below, the time-to-event column
against lifelines, and the demo's totals against the Bayesian endpoint's complete-case
counts (a separate code path over patient rows).
"""

from __future__ import annotations

import datetime as dt
import io
import math
from fractions import Fraction
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from lifelines import KaplanMeierFitter
from scipy import stats
from streamlit.testing.v1 import AppTest

import ui.context
from analytics.analyses.funnel import clopper_pearson, funnel_limits, limit_grid
from analytics.analyses.sites import SMALL_SITE, compare_sites, site_times
from analytics.estimators.bayes import BayesianEndpoint
from analytics.model.filters import FilterState
from analytics.store import Store
from charts import export
from charts.funnel import funnel_figure

ROOT = Path(__file__).resolve().parents[2]
APP = str(ROOT / "app.py")
PAGE = "pages/sites.py"
DAY = 183

# --- funnel limits ------------------------------------------------------------------------


def cdf(r: int, n: int, p: Fraction) -> Fraction:
    """P(R <= r) for R ~ Binomial(n, p), exactly."""
    return sum((math.comb(n, k) * p**k * (1 - p) ** (n - k) for k in range(r + 1)), Fraction(0))


def spiegelhalter(n: int, p: Fraction, q: Fraction) -> float:
    """The interpolated limit by direct summation: r = the smallest r with P(R <= r) >= q,
    a = (P(R <= r) - q) / (P(R <= r) - P(R <= r - 1)), limit = (r - a) / n."""
    r = next(r for r in range(n + 1) if cdf(r, n, p) >= q)
    below = cdf(r - 1, n, p) if r > 0 else Fraction(0)
    a = (cdf(r, n, p) - q) / (cdf(r, n, p) - below)
    return float(max(Fraction(0), min(Fraction(1), (r - a) / n)))


def test_limits_for_ten_patients_at_one_half_by_hand():
    # P(R <= 8) = 1013/1024, P(R <= 7) = 968/1024: a = (1013 - 998.4) / 45
    lo, hi = funnel_limits([10], 0.5, 0.95)
    assert hi[0] == pytest.approx((8 - 14.6 / 45) / 10, abs=1e-12)
    # P(R <= 2) = 56/1024, P(R <= 1) = 11/1024: a = (56 - 25.6) / 45
    assert lo[0] == pytest.approx((2 - 30.4 / 45) / 10, abs=1e-12)


@pytest.mark.parametrize("n", [1, 2, 7, 37, 150])
@pytest.mark.parametrize("p0", ["1/10", "3/10", "2/3", "9/10"])
def test_exact_limits_equal_direct_binomial_sums(n, p0):
    p = Fraction(p0)
    for level, (lo_q, hi_q) in {
        0.95: (Fraction(1, 40), Fraction(39, 40)),
        0.998: (Fraction(1, 1000), Fraction(999, 1000)),
    }.items():
        lo, hi = funnel_limits([n], float(p), level)
        assert lo[0] == pytest.approx(spiegelhalter(n, p, lo_q), abs=1e-9)
        assert hi[0] == pytest.approx(spiegelhalter(n, p, hi_q), abs=1e-9)


def test_wider_limits_contain_narrower_and_narrow_with_n():
    n = limit_grid(5000)
    lo95, hi95 = funnel_limits(n, 0.3, 0.95)
    lo998, hi998 = funnel_limits(n, 0.3, 0.998)
    assert np.all(lo998 <= lo95)
    assert np.all(hi95 <= hi998)
    big = n >= 50  # where the discreteness no longer makes the width wobble
    width = (hi95 - lo95)[big]
    assert np.all(np.diff(width) <= 1e-12)
    assert n[0] == 1
    assert n[-1] >= 5000
    assert len(n) <= 400


def test_normal_approximation_is_p0_plus_minus_z_se():
    z95, z998 = 1.959963984540054, 3.090232306167813  # qnorm(0.975), qnorm(0.999) in R
    n = np.array([4.0, 25.0, 400.0])
    lo, hi = funnel_limits(n, 0.2, 0.95, method="normal")
    se = np.sqrt(0.2 * 0.8 / n)
    np.testing.assert_allclose(hi, 0.2 + z95 * se, atol=1e-12)
    np.testing.assert_allclose(lo, np.maximum(0.0, 0.2 - z95 * se), atol=1e-12)
    assert lo[0] == 0.0  # clipped: 0.2 - 0.39 is below zero
    lo, hi = funnel_limits(n, 0.2, 0.998, method="normal")
    np.testing.assert_allclose(hi, 0.2 + z998 * se, atol=1e-12)


def test_clopper_pearson_matches_scipy_binomtest():
    x = np.array([0, 1, 4, 9, 10])
    n = np.array([10, 10, 10, 10, 10])
    lo, hi = clopper_pearson(x, n)
    for k, a, b in zip(x, lo, hi, strict=True):
        ci = stats.binomtest(int(k), 10).proportion_ci(0.95, method="exact")
        assert (a, b) == pytest.approx((ci.low, ci.high), abs=1e-10)
    assert np.isnan(clopper_pearson([0], [0])[0][0])


# --- a small extract worked out by hand -------------------------------------------------

# Site A: A1 amputated day 50 (AFS event, LS event); A2 died day 100 (AFS event, LS
# censored 4: known not amputated); A3 alive at day 365; A4 lost at day 90 (unknown);
# A5 died on day 183 itself (AFS event by the day, LS censored 4); A6 last seen on day
# 183 (followed to the day: known event-free).
# Site B: B1 died day 200 (after the landmark: event-free at it); B2 has no record;
# B3 amputated day 10. C1 has no site identifier.
PATIENTS = [
    # USUBJID, SITEID, SEX, (AFS day, CNSR), (LS day, CNSR)
    ("A1", "A", "M", (50, 0), (50, 0)),
    ("A2", "A", "F", (100, 0), (100, 4)),
    ("A3", "A", "M", (365, 1), (365, 1)),
    ("A4", "A", "F", (90, 2), (90, 2)),
    ("A5", "A", "M", (183, 0), (183, 4)),
    ("A6", "A", "F", (183, 1), (183, 1)),
    ("B1", "B", "M", (200, 0), (200, 4)),
    ("B2", "B", "F", None, None),
    ("B3", "B", "M", (10, 0), (10, 0)),
    ("C1", "", "F", (30, 0), (30, 0)),
]


def write_extract(folder: Path, study: str = "S1", sites: dict[str, str] | None = None) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    rename = sites or {}
    pd.DataFrame(
        {
            "STUDYID": study,
            "USUBJID": [f"{study}-{p[0]}" for p in PATIENTS],
            "SITEID": [rename.get(p[1], p[1]) for p in PATIENTS],
            "SEX": [p[2] for p in PATIENTS],
        }
    ).to_csv(folder / "adsl.csv", index=False)
    start = dt.date(2021, 3, 1)
    rows = []
    for subject, _, _, afs, ls in PATIENTS:
        for code, rec in (("AFS", afs), ("LS", ls)):
            if rec is None:
                continue
            day, cnsr = rec
            rows.append(
                {
                    "STUDYID": study,
                    "USUBJID": f"{study}-{subject}",
                    "PARAMCD": code,
                    "PARAM": code,
                    "AVAL": day,
                    "CNSR": cnsr,
                    "EVNTDESC": "EVENT" if cnsr == 0 else "CENSORED",
                    "STARTDT": start.isoformat(),
                    "ADT": (start + dt.timedelta(days=day)).isoformat(),
                }
            )
    pd.DataFrame(rows).to_csv(folder / "adtte.csv", index=False)


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    folder = tmp_path_factory.mktemp("sites")
    write_extract(folder)
    store = Store.open(folder)
    yield store
    store.close()


def by_site(res) -> dict:
    return {s.site: s for s in res.sites}


def test_afs_counts_per_site_by_hand(small):
    res = compare_sites(small, FilterState(), "afs", day=DAY)
    a, b = by_site(res)["A"], by_site(res)["B"]
    assert (a.n, a.events, a.event_free, a.censored_early, a.no_record) == (6, 3, 2, 1, 0)
    assert (b.n, b.events, b.event_free, b.censored_early, b.no_record) == (3, 1, 1, 0, 1)
    assert (a.known, a.unknown, a.numerator) == (5, 1, 2)
    assert (b.known, b.unknown, b.numerator) == (2, 1, 1)
    assert a.proportion == pytest.approx(2 / 5)
    assert b.proportion == pytest.approx(1 / 2)
    assert res.target == pytest.approx(3 / 7)  # (2 + 1) / (5 + 2): pooled over the sites
    assert res.target_kind == "pooled"
    assert res.no_site == 1  # C1: listed as not compared, not in the pooled proportion
    assert (res.n, res.known, res.unknown) == (9, 7, 2)
    assert not res.by_study
    assert [s.label for s in res.sites] == ["A", "B"]


def test_amputation_counts_death_as_known_without_amputation(small):
    res = compare_sites(small, FilterState(), "amputation", day=DAY)
    a, b = by_site(res)["A"], by_site(res)["B"]
    # A2 and A5 died without amputation by the day: known, not amputated
    assert (a.events, a.event_free, a.unknown, a.numerator) == (1, 4, 1, 1)
    assert (b.events, b.event_free, b.unknown, b.numerator) == (1, 1, 1, 1)
    assert a.proportion == pytest.approx(1 / 5)
    assert b.proportion == pytest.approx(1 / 2)
    assert res.target == pytest.approx(2 / 7)
    assert not res.outcome.higher_is_better


def test_time_to_event_estimates_by_hand_and_lifelines(small):
    afs = by_site(compare_sites(small, FilterState(), "afs", day=DAY))["A"]
    # at risk 6, 4 and 3 at days 50, 100 and 183 (A4 censored at 90), one event each
    assert afs.estimate == pytest.approx(5 / 6 * 3 / 4 * 2 / 3, abs=1e-12)
    times = np.array([50, 100, 365, 90, 183, 183], dtype=float)
    events = np.array([1, 1, 0, 0, 1, 0], dtype=bool)
    km = KaplanMeierFitter().fit(times, events)
    ci = km.confidence_interval_survival_function_
    row = ci[ci.index <= DAY].iloc[-1]
    assert afs.estimate == pytest.approx(float(km.predict(DAY)), abs=1e-12)
    assert (afs.estimate_lower, afs.estimate_upper) == pytest.approx(
        (float(row.iloc[0]), float(row.iloc[1])), abs=1e-9
    )
    amp = by_site(compare_sites(small, FilterState(), "amputation", day=DAY))["A"]
    # the one amputation (day 50, 6 at risk); the deaths compete and add nothing
    assert amp.estimate == pytest.approx(1 / 6, abs=1e-12)


def test_times_after_the_landmark_are_folded_into_one_row(small):
    rows = site_times(small, FilterState(), "AFS", DAY)
    a = rows[rows["SITE"] == "A"]
    assert a["AVAL"].max() == DAY + 1
    assert a.loc[a["AVAL"] == DAY + 1, "CODE"].tolist() == [0]  # A3 censored there
    b = rows[rows["SITE"] == "B"]
    # B1's death on day 200 is after the landmark: at risk at it, not an event
    assert b.loc[b["AVAL"] == DAY + 1, ["CODE", "N"]].values.tolist() == [[0, 1]]


def test_small_site_flag_follows_the_threshold(small):
    default = compare_sites(small, FilterState(), "afs", day=DAY)
    assert default.min_n == SMALL_SITE == 10
    assert [s.flag for s in default.sites] == ["too few to judge"] * 2
    assert default.judged == ()
    three = compare_sites(small, FilterState(), "afs", day=DAY, min_n=3)
    a, b = by_site(three)["A"], by_site(three)["B"]
    assert not a.small
    assert a.flag == "within the 95% limits"
    assert b.small
    assert b.flag == "too few to judge"
    assert b.position is not None  # still positioned (and drawn), only not judged


def test_benchmark_replaces_the_pooled_target(small):
    res = compare_sites(small, FilterState(), "afs", day=DAY, benchmark=0.95, min_n=3)
    assert res.target == 0.95
    assert res.target_kind == "benchmark"
    assert "around the benchmark 95%" in res.provenance.method
    # n = 5 at p0 = 0.95: the lower 95% limit is (4 - a) / 5 with
    # a = (P(R <= 4) - 0.025) / P(R = 4), about 0.602; 2/5 is below it. The lower
    # 99.8% limit, (2 - a') / 5, about 0.372, is not above 2/5.
    p = Fraction(95, 100)
    lo95 = spiegelhalter(5, p, Fraction(1, 40))
    lo998 = spiegelhalter(5, p, Fraction(1, 1000))
    assert lo998 < 0.4 < lo95
    assert lo95 == pytest.approx(0.602365, abs=1e-6)
    a = by_site(res)["A"]
    assert a.position == "below 95%"
    assert a.flag == "below the 95% limit"
    lower = res.limit(0.95).lower[res.limit(0.95).n == 5][0]
    assert lower == pytest.approx(lo95, abs=1e-12)
    pooled = compare_sites(small, FilterState(), "afs", day=DAY, min_n=3)
    assert by_site(pooled)["A"].position == "within"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"benchmark": 1.0}, "strictly between 0 and 1"),
        ({"benchmark": 0.0}, "strictly between 0 and 1"),
        ({"min_n": 0}, "at least 1"),
        ({"day": 0}, "positive number of days"),
    ],
)
def test_bad_settings_are_refused_in_words(small, kwargs, message):
    with pytest.raises(ValueError, match=message):
        compare_sites(small, FilterState(), "afs", **kwargs)


def test_unknown_outcome_is_refused(small):
    with pytest.raises(ValueError, match="unknown outcome 'death'"):
        compare_sites(small, FilterState(), "death")


def test_filters_apply_to_the_sites(small):
    res = compare_sites(small, FilterState.parse(["SEX=M"]), "afs", day=DAY)
    a, b = by_site(res)["A"], by_site(res)["B"]
    # men: A1 (event), A3 (free), A5 (event); B1 (free), B3 (event)
    assert (a.n, a.events, a.event_free, a.unknown) == (3, 2, 1, 0)
    assert (b.n, b.events, b.event_free, b.unknown) == (2, 1, 1, 0)
    assert res.no_site == 0


def test_sites_of_several_studies_are_told_apart(tmp_path):
    write_extract(tmp_path / "registry" / "one", "S1", {"A": "01", "B": "02"})
    write_extract(tmp_path / "registry" / "two", "S2", {"A": "01", "B": "03"})
    store = Store.open(tmp_path / "registry")
    try:
        res = compare_sites(store, FilterState(), "afs", day=DAY)
        assert res.by_study
        assert [s.label for s in res.sites] == ["S1 / 01", "S1 / 02", "S2 / 01", "S2 / 03"]
        assert [s.n for s in res.sites] == [6, 3, 6, 3]
        assert res.no_site == 2
        one = compare_sites(store, FilterState.parse(["STUDYID=S2"]), "afs", day=DAY)
        assert not one.by_study
        assert [s.label for s in one.sites] == ["01", "03"]
    finally:
        store.close()


# --- the demo ---------------------------------------------------------------------------


def test_demo_totals_equal_the_complete_case_counts(demo_store, demo_cohort):
    res = compare_sites(demo_store, FilterState(), "afs", day=DAY)
    afs = demo_cohort.endpoint("AFS")
    bayes = BayesianEndpoint(day=DAY, impute=False).fit(afs["AVAL"], afs["CNSR"] == 0).result_
    assert res.no_site == 0
    assert res.numerator == bayes.successes
    assert res.known - res.numerator == bayes.failures
    assert res.unknown == bayes.missing + (demo_cohort.n - len(afs))
    assert bayes.missing > 0  # the demo has patients of unknown status to count
    assert res.n == demo_cohort.n
    assert len(res.sites) == demo_cohort.adsl["SITEID"].nunique()


def test_demo_site_estimates_match_lifelines(demo_store, demo_cohort):
    res = compare_sites(demo_store, FilterState(), "afs", day=DAY)
    afs = demo_cohort.endpoint("AFS").merge(demo_cohort.adsl[["USUBJID", "SITEID"]])
    checked = 0
    for row in res.sites:
        own = afs[afs["SITEID"] == row.site]
        km = KaplanMeierFitter().fit(own["AVAL"], own["CNSR"] == 0)
        s = float(km.predict(DAY))
        if own["AVAL"].max() < DAY or not 0 < s < 1:
            continue
        ci = km.confidence_interval_survival_function_
        lim = ci[ci.index <= DAY].iloc[-1]
        assert row.estimate == pytest.approx(s, abs=1e-12)
        assert (row.estimate_lower, row.estimate_upper) == pytest.approx(
            (float(lim.iloc[0]), float(lim.iloc[1])), abs=1e-9
        )
        checked += 1
    assert checked >= 10


# --- the figure ---------------------------------------------------------------------------


def test_funnel_figure_draws_target_limits_and_sites(small):
    res = compare_sites(small, FilterState(), "afs", day=DAY, min_n=3)
    fig = funnel_figure(res)
    names = [t.name for t in fig.data]
    assert names[0] == "Pooled proportion 42.9%"
    assert fig.data[0].y.tolist() == pytest.approx([100 * 3 / 7] * 2)
    limits = [t for t in fig.data if t.meta and t.meta["csv"]["section"] == "limit"]
    assert len(limits) == 4
    curve = res.limit(0.998)
    upper = next(
        t for t in limits if t.name == "99.8% limits" and t.meta["csv"]["series"] == "upper"
    )
    np.testing.assert_allclose(upper.y, 100 * curve.upper)
    np.testing.assert_allclose(upper.x, curve.n)
    judged = next(t for t in fig.data if t.name == "Site within the 95% limits")
    small_sites = next(t for t in fig.data if t.name.startswith("Site with under 3"))
    assert list(judged.text) == ["A"]
    assert judged.marker.symbol == "circle"
    assert list(small_sites.text) == ["B"]
    assert small_sites.marker.symbol == "circle-open"
    assert small_sites.x.tolist() == [2.0]
    assert small_sites.y.tolist() == [50.0]
    assert "too few to judge" in small_sites.hovertext[0]
    assert "Site %{text}" in judged.hovertemplate
    # only a site outside the limits is named beside its point (names would pile up)
    assert judged.mode == "markers"
    assert small_sites.mode == "markers"


def test_a_site_beyond_the_limits_is_named_beside_its_point(small):
    res = compare_sites(small, FilterState(), "afs", day=DAY, min_n=3, benchmark=0.99)
    fig = funnel_figure(res)
    beyond = [t for t in fig.data if t.name and t.name.startswith("Site beyond")]
    assert beyond
    for trace in beyond:
        assert trace.mode == "markers+text"
        assert list(trace.text)


def test_funnel_csv_holds_every_site_and_the_method(small):
    res = compare_sites(small, FilterState(), "amputation", day=DAY)
    table = pd.read_csv(io.BytesIO(export.to_csv(funnel_figure(res))), comment="#")
    sites = table[table["section"] == "site"]
    assert sorted(sites["site"]) == ["A", "B"]
    a = sites[sites["site"] == "A"].iloc[0]
    assert (a["known_status"], a["numerator"], a["unknown_status"]) == (5, 1, 1)
    assert a["percent"] == pytest.approx(20.0)
    text = export.to_csv(funnel_figure(res)).decode()
    assert "death before the day counts as known without amputation" in text


# --- the page -----------------------------------------------------------------------------


@pytest.fixture
def at(monkeypatch: pytest.MonkeyPatch) -> AppTest:
    monkeypatch.delenv("DVA_DATA_DIR", raising=False)
    return AppTest.from_file(APP, default_timeout=60)


def test_page_shows_every_demo_site(at, demo_store):
    at.switch_page(PAGE).run()
    assert not at.exception
    assert not at.error, [e.value for e in at.error]
    assert at.title[0].value == "Sites"
    res = compare_sites(demo_store, FilterState(), "afs", day=DAY)
    shown = at.dataframe[0].value
    assert list(shown["Site"]) == [s.label for s in res.sites]
    assert list(shown["Unknown"]) == [s.unknown for s in res.sites]
    assert list(shown["Flag"]) == [s.flag for s in res.sites]
    assert len(at.get("plotly_chart")) == 1
    text = " ".join(m.value for m in at.main.markdown)
    assert f"Target: pooled proportion {100 * res.target:.1f}%" in text
    assert "unknown status" in " ".join(c.value for c in at.caption)


def test_page_outcome_and_benchmark_come_from_the_url(at, demo_store):
    at.query_params["sites_outcome"] = "Major amputation"
    at.query_params["sites_target"] = "Benchmark"
    at.query_params["sites_benchmark"] = "20"
    at.switch_page(PAGE).run()
    assert not at.exception
    assert at.selectbox(key="sites_outcome").value == "amputation"
    res = compare_sites(demo_store, FilterState(), "amputation", day=DAY, benchmark=0.2)
    shown = at.dataframe[0].value
    assert list(shown["Proportion"]) == pytest.approx([s.proportion for s in res.sites])
    assert list(shown["Flag"]) == [s.flag for s in res.sites]
    assert "Target: benchmark 20.0%" in " ".join(m.value for m in at.main.markdown)


def test_page_follows_the_sidebar_landmark(at, demo_store):
    at.query_params["landmark"] = "365"
    at.switch_page(PAGE).run()
    assert not at.exception
    res = compare_sites(demo_store, FilterState(), "afs", day=365)
    assert res.known != compare_sites(demo_store, FilterState(), "afs", day=DAY).known
    shown = at.dataframe[0].value
    assert list(shown["Known"]) == [s.known for s in res.sites]
    assert "Status at 12 months (day 365)" in " ".join(m.value for m in at.main.markdown)


def test_page_asks_for_a_missing_benchmark(at):
    at.switch_page(PAGE).run()
    at.radio(key="sites_target").set_value("benchmark").run()
    assert not at.exception
    assert any("Enter the benchmark" in i.value for i in at.info)
    assert "Target: pooled proportion" in " ".join(m.value for m in at.main.markdown)


def test_page_with_one_site_says_so(at):
    at.query_params["SITEID"] = "013"
    at.switch_page(PAGE).run()
    assert not at.exception
    assert any("one site (013)" in i.value for i in at.info)
    assert len(at.get("plotly_chart")) == 0  # nothing to compare against its own rate
    assert list(at.dataframe[0].value["Site"]) == ["013"]


def test_page_with_nobody_in_view_says_so(at):
    at.query_params["where"] = "AGE>=200"
    at.switch_page(PAGE).run()
    assert not at.exception
    assert any("no sites to compare" in i.value for i in at.info)


def test_page_names_studies_and_counts_patients_without_a_site(tmp_path):
    write_extract(tmp_path / "registry" / "one", "S1", {"A": "01", "B": "02"})
    write_extract(tmp_path / "registry" / "two", "S2", {"A": "01", "B": "03"})
    store = Store.open(tmp_path / "registry")
    try:
        at = AppTest.from_file(str(ROOT / PAGE), default_timeout=60)
        at.session_state[ui.context._KEY] = ui.context.Context(store=store)
        at.run()
        assert not at.exception
        assert not at.error, [e.value for e in at.error]
        assert list(at.dataframe[0].value["Site"]) == ["S1 / 01", "S1 / 02", "S2 / 01", "S2 / 03"]
        text = " ".join(m.value for m in at.main.markdown)
        assert "2 patients without a site identifier are not compared" in text
    finally:
        store.close()
