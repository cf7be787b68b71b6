"""Structure of the figures in `charts`: what is drawn matches the result objects.

Fixtures are built with the analytics estimators on seeded synthetic data; expected
values are always read from the result objects, never typed in.
"""

from __future__ import annotations

import html
import re
import subprocess
import sys
from dataclasses import dataclass, field

import numpy as np
import pytest

from analytics.analyses.subgroups import SubgroupAnalysis
from analytics.estimators.bayes import BayesianEndpoint, BayesResult
from analytics.estimators.competing import CompetingRisksResult, cumulative_incidence
from analytics.estimators.km import KaplanMeier, KMResult
from analytics.model.provenance import Provenance
from charts import palette
from charts._curves import CENSOR_X_SHARE, CENSOR_Y_POINTS
from charts._steps import step_band, step_values_at, thin_marks
from charts.competing import cif_figure
from charts.forest import TOO_FEW, forest_figure
from charts.posterior import posterior_figure
from charts.survival import DAYS_PER_MONTH, km_figure, thin_steps, tick_days
from charts.theme import NORMAL, PRESENTATION

PROV = Provenance(
    filters=("SITEID=01,02",),
    data_fingerprint="0123456789abcdef0123",
    data_source="synthetic test cohort",
)
TOL_PP = 0.1  # percentage points


def synthetic(
    n: int, scale: float, seed: int, follow: float = 400.0, whole_days: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    t = rng.exponential(scale, n)
    c = rng.uniform(20.0, follow, n)
    if whole_days:
        t, c = np.ceil(t), np.ceil(c)
    return np.minimum(t, c), (t <= c).astype(int)


def km(
    n: int,
    scale: float,
    seed: int,
    label: str,
    ci_type: str = "log-log",
    risk_days: np.ndarray | None = None,
    whole_days: bool = True,
) -> KMResult:
    d, e = synthetic(n, scale, seed, whole_days=whole_days)
    return (
        KaplanMeier(ci_type=ci_type)  # type: ignore[arg-type]
        .fit(d, e)
        .result(
            endpoint="AFS",
            label=label,
            landmarks=(30, 183, 365),
            risk_days=tick_days(3, 400) if risk_days is None else risk_days,
            provenance=PROV,
        )
    )


@pytest.fixture(scope="module")
def groups() -> dict[str, KMResult]:
    return {"Rutherford 5": km(60, 500, 1, "AFS"), "Rutherford 6": km(60, 250, 2, "AFS")}


@pytest.fixture(scope="module")
def big() -> KMResult:
    """1e5 patients with continuous times: 1e5 distinct steps."""
    return km(100_000, 400, 11, "AFS", whole_days=False)


def traces(fig, section: str, group: str | None = None) -> list:
    out = []
    for tr in fig.data:
        meta = tr.meta if isinstance(tr.meta, dict) else {}
        spec = meta.get("csv", {})
        if spec.get("section") == section and (group is None or spec.get("group") == group):
            out.append(tr)
    return out


def plain(text: str) -> str:
    """Annotation text without tags and line breaks, entities decoded."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", text)).split())


def drawn_curve(fig, group: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(day, value %, lower %, upper %) of a group's curve as drawn: solid then faded."""
    parts = traces(fig, "curve", group)
    assert parts, f"no curve for {group}"
    day = np.concatenate([np.asarray(p.customdata)[:, 0] for p in parts])
    y = np.concatenate([np.asarray(p.y, dtype=float) for p in parts])
    lo = np.concatenate([np.asarray(p.customdata)[:, 1] for p in parts])
    hi = np.concatenate([np.asarray(p.customdata)[:, 2] for p in parts])
    # the faded part starts again at the last solid point: drop that repeat
    order = np.argsort(day, kind="stable")
    return day[order], y[order], lo[order], hi[order]


def assert_within(drawn_day, drawn, result_day, result, tol):
    """A step curve drawn through (drawn_day, drawn) is within tol of the result's."""
    at = step_values_at(drawn_day, drawn, result_day)
    both_nan = np.isnan(at) & np.isnan(result)
    assert np.array_equal(np.isnan(at), np.isnan(result))
    err = np.abs(np.where(both_nan, 0.0, at - result))
    assert err.max() < tol


# --- thinning -----------------------------------------------------------------------------
def test_thin_steps_error_below_a_tenth_of_a_point_on_a_1e5_patient_curve(big):
    x = np.concatenate(([0.0], big.timeline))
    series = [
        np.concatenate(([1.0], big.survival)),
        np.concatenate(([np.nan], big.lower)),
        np.concatenate(([np.nan], big.upper)),
    ]
    before = [s.copy() for s in series]
    kept = thin_steps(x, *series, tol=0.001)
    assert x.size > 50_000
    assert kept.size < 5_000
    assert kept[0] == 0
    assert kept[-1] == x.size - 1
    assert np.all(np.diff(kept) > 0)
    for s, b in zip(series, before, strict=True):
        np.testing.assert_array_equal(s, b)  # pure: inputs untouched
        assert_within(x[kept], s[kept], x, s, 0.001)


def test_thin_steps_keeps_forced_points_and_ties():
    x = np.array([0.0, 1.0, 1.0, 2.0, 3.0, 4.0])
    y = np.array([1.0, 0.9995, 0.999, 0.999, 0.9985, 0.5])
    kept = thin_steps(x, y, tol=0.001, keep=[3])
    assert 3 in kept
    assert_within(x[kept], y[kept], x, y, 0.001)
    mask = np.zeros(x.size, bool)
    mask[4] = True
    assert 4 in thin_steps(x, y, keep=mask)
    with pytest.raises(ValueError, match="sorted"):
        thin_steps(x[::-1], y)
    with pytest.raises(ValueError, match="tol"):
        thin_steps(x, y, tol=0)


def test_thin_steps_nan_changes_are_kept():
    x = np.arange(6.0)
    y = np.array([np.nan, np.nan, 0.5, 0.5, np.nan, 0.4])
    kept = thin_steps(x, y)
    assert_within(x[kept], y[kept], x, y, 0.001)


def test_thin_marks_every_dropped_mark_is_near_a_kept_one():
    rng = np.random.default_rng(3)
    x = np.sort(rng.uniform(0, 12, 20_000))
    y = np.sort(rng.uniform(30, 100, 20_000))[::-1]
    kept = thin_marks(x, y, x_tol=0.012, y_tol=0.1)
    assert kept.size < 3_000
    last = np.searchsorted(kept, np.arange(x.size), side="right") - 1
    assert np.all(np.abs(x - x[kept[last]]) < 0.012)
    assert np.all(np.abs(y - y[kept[last]]) < 0.1)


def test_step_band_outline_follows_the_steps():
    bx, by = step_band(
        np.array([0.0, 1.0, 2.0]), np.array([0.1, 0.2, np.nan]), np.array([0.3, 0.4, np.nan])
    )
    # one polygon: upper steps forward, lower steps back, closed
    assert np.isfinite(bx).all()
    assert bx.tolist() == [0, 1, 1, 2, 2, 1, 1, 0, 0]
    assert by.tolist() == [0.3, 0.3, 0.4, 0.4, 0.2, 0.2, 0.1, 0.1, 0.3]


# --- Kaplan-Meier figure ------------------------------------------------------------------
def test_risk_table_sits_on_exactly_the_plot_ticks(groups):
    fig = km_figure(groups, tick_months=3)
    ticks = np.asarray(fig.layout.xaxis.tickvals, dtype=float)
    assert fig.layout.xaxis2.matches == "x"
    np.testing.assert_array_equal(np.asarray(fig.layout.xaxis2.tickvals, dtype=float), ticks)
    rows = traces(fig, "risk table")
    assert len(rows) == len(groups)
    for tr in rows:
        assert tr.xaxis == "x2"
        np.testing.assert_array_equal(np.asarray(tr.x, dtype=float), ticks)
        res = groups[tr.meta["csv"]["group"]]
        days = np.asarray(res.risk_table.days)
        expected = np.asarray(res.risk_table.at_risk)[np.searchsorted(days, ticks * DAYS_PER_MONTH)]
        np.testing.assert_array_equal(np.asarray(tr.customdata)[:, 1], expected)
        assert list(tr.text) == [f"{v:,.0f}" for v in expected]
        (curve, *_) = traces(fig, "curve", tr.meta["csv"]["group"])
        assert tr.textfont.color == curve.line.color


def test_tick_spacing_six_months_uses_every_other_table_day(groups):
    fig = km_figure(groups, tick_months=6, table_events=True)
    ticks = np.asarray(fig.layout.xaxis.tickvals, dtype=float)
    np.testing.assert_allclose(np.diff(ticks), 6.0)
    rows = traces(fig, "risk table")
    assert {tr.meta["csv"]["series"] for tr in rows} == {"at risk", "events", "censored"}
    for tr in rows:
        np.testing.assert_array_equal(np.asarray(tr.x, dtype=float), ticks)
        res = groups[tr.meta["csv"]["group"]]
        col = {
            "at risk": res.risk_table.at_risk,
            "events": res.risk_table.cumulative_events,
            "censored": res.risk_table.cumulative_censored,
        }[tr.meta["csv"]["series"]]
        idx = np.searchsorted(np.asarray(res.risk_table.days), ticks * DAYS_PER_MONTH)
        np.testing.assert_array_equal(np.asarray(tr.customdata)[:, 1], np.asarray(col)[idx])


def test_table_cells_missing_from_the_result_show_a_dash():
    res = km(40, 300, 5, "AFS", risk_days=np.array([0.0, 91.3125]))
    fig = km_figure(res, tick_months=3, max_months=12)
    (row,) = traces(fig, "risk table")
    assert list(row.text[:2]) == [f"{v:,.0f}" for v in res.risk_table.at_risk]
    assert set(row.text[2:]) == {"–"}


def test_y_axis_spans_0_to_100_percent(groups):
    fig = km_figure(groups)
    lo, hi = fig.layout.yaxis.range
    assert -3 <= lo <= 0
    assert 100 <= hi <= 103
    assert list(fig.layout.yaxis.tickvals) == [0, 20, 40, 60, 80, 100]
    for tr in traces(fig, "curve"):
        y = np.asarray(tr.y, dtype=float)
        assert np.all((y >= 0) & (y <= 100))


def test_curves_are_hv_steps_from_100_percent_within_a_tenth_of_a_point(groups):
    fig = km_figure(groups, fade_below=None)
    for label, res in groups.items():
        (curve,) = traces(fig, "curve", label)
        assert curve.line.shape == "hv"
        assert isinstance(curve.x, np.ndarray)
        day, y, _lo, hi = drawn_curve(fig, label)
        assert day[0] == 0
        assert y[0] == 100
        full_day = np.concatenate(([0.0], res.timeline))
        assert_within(day, y, full_day, 100 * np.concatenate(([1.0], res.survival)), TOL_PP)
        assert_within(day, hi, full_day, 100 * np.concatenate(([np.nan], res.upper)), TOL_PP)
        np.testing.assert_allclose(np.asarray(curve.x), day / DAYS_PER_MONTH)


def test_censor_marks_are_plus_signs_at_each_censoring_on_the_curve(groups):
    fig = km_figure(groups, fade_below=None)
    for label, res in groups.items():
        marks = traces(fig, "censored", label)
        assert marks, "censor marks missing"
        (mk,) = marks
        assert mk.mode == "markers"
        assert mk.marker.symbol == "cross-thin"
        censored = res.censored > 0
        days = np.asarray(mk.customdata)[:, 0]
        counts = np.asarray(mk.customdata)[:, 1]
        # marks sit on the curve at censoring days; thinned where they would overlap,
        # each kept mark counting the censorings it stands for (none lost)
        assert set(days) <= set(res.timeline[censored])
        at = np.searchsorted(res.timeline, days)
        np.testing.assert_allclose(np.asarray(mk.y), 100 * res.survival[at])
        assert counts.sum() == res.censored.sum()
        months = np.asarray(mk.x)
        span = fig.layout.xaxis.range[1] - fig.layout.xaxis.range[0]
        close = (np.diff(months) < span * CENSOR_X_SHARE) & (
            np.abs(np.diff(np.asarray(mk.y))) < CENSOR_Y_POINTS
        )
        assert not close.any(), "two kept marks would print over one another"
    assert not traces(km_figure(groups, censor_marks=False), "censored")


def test_thinned_1e5_patient_figure_is_under_1mb_and_faithful(big):
    other = km(100_000, 300, 12, "AFS", whole_days=False)
    fig = km_figure({"A": big, "B": other}, landmark_day=183, goal=0.54, table_events=True)
    assert len(fig.to_json()) < 1_000_000
    for label, res in (("A", big), ("B", other)):
        day, y, lo, _ = drawn_curve(fig, label)
        full_day = np.concatenate(([0.0], res.timeline))
        assert_within(day, y, full_day, 100 * np.concatenate(([1.0], res.survival)), TOL_PP)
        assert_within(day, lo, full_day, 100 * np.concatenate(([np.nan], res.lower)), TOL_PP)
        marks = traces(fig, "censored", label)
        n_marks = sum(len(m.x) for m in marks)
        assert 0 < n_marks < 5_000


def test_curve_fades_where_few_remain_at_risk(groups):
    fig = km_figure(groups, fade_below=10)
    for label, res in groups.items():
        parts = traces(fig, "curve", label)
        assert [p.opacity for p in parts] == [1.0, NORMAL.faded_opacity]
        solid, faded = parts
        last_ok = int(np.flatnonzero(res.at_risk >= 10)[-1])
        assert np.asarray(solid.customdata)[-1, 0] == res.timeline[last_ok]
        assert np.asarray(faded.customdata)[0, 0] == res.timeline[last_ok]
        assert res.at_risk[last_ok + 1] < 10


def test_median_in_legend_and_nr_when_not_reached():
    reached = km(200, 150, 7, "short")
    never = km(200, 5000, 8, "long")
    assert reached.median.reached
    assert not never.median.reached
    fig = km_figure([reached, never])
    names = {tr.meta["csv"]["group"]: tr.name for tr in traces(fig, "curve") if tr.showlegend}
    assert "median NR" in names["long"]
    assert f"median {reached.median.estimate / DAYS_PER_MONTH:.1f} mo" in names["short"]
    (med,) = traces(fig, "median")
    assert med.meta["csv"]["group"] == "short"
    np.testing.assert_allclose(np.asarray(med.x), reached.median.estimate / DAYS_PER_MONTH)


def test_landmark_marker_shows_estimate_and_ci(groups):
    fig = km_figure(groups, landmark_day=183)
    for label, res in groups.items():
        lm = res.landmark(183)
        (mk,) = traces(fig, "landmark", label)
        assert mk.y[0] == pytest.approx(100 * lm.estimate)
        assert mk.error_y.array[0] == pytest.approx(100 * (lm.upper - lm.estimate))
        assert mk.error_y.arrayminus[0] == pytest.approx(100 * (lm.estimate - lm.lower))
        legend = next(tr.name for tr in traces(fig, "curve", label) if tr.showlegend)
        assert f"{100 * lm.estimate:.1f}%" in legend
        assert f"{100 * lm.lower:.1f}–{100 * lm.upper:.1f}" in legend
    with pytest.raises(KeyError):
        km_figure(groups, landmark_day=100)


def test_goal_line_is_a_parameter(groups):
    assert not [s for s in km_figure(groups).layout.shapes if s.name == "goal"]
    fig = km_figure(groups, goal=0.6, goal_label="Goal")
    (line,) = [s for s in fig.layout.shapes if s.name == "goal"]
    assert line.y0 == line.y1 == pytest.approx(60)
    assert any("Goal 60%" in plain(a.text) for a in fig.layout.annotations)


def test_caption_names_ci_method_and_provenance(groups):
    fig = km_figure(groups)
    res = next(iter(groups.values()))
    (cap,) = [a for a in fig.layout.annotations if a.name == "caption"]
    text = plain(cap.text)
    assert " ".join(res.provenance.footnote().split()) in text
    assert "log-log" in text
    assert "95% pointwise CI" in text
    assert fig.layout.meta["footnote"] == res.provenance.footnote()


def test_group_labels_are_escaped_and_coloured(groups):
    res = next(iter(groups.values()))
    fig = km_figure({"Age <65": res})
    (label,) = [a for a in fig.layout.annotations if a.yref == "y2" and plain(a.text) == "Age <65"]
    assert "&lt;" in label.text
    assert label.font.color == palette.OKABE_ITO[0]


# --- colours ------------------------------------------------------------------------------
def test_colour_of_a_level_is_stable_across_subsets_and_pages():
    levels = ["Rutherford 5", "Rutherford 6", "Unknown"]
    assert palette.colour_for("Rutherford 6", levels) == palette.colour_for(
        "Rutherford 6", list(levels)
    )
    assert palette.colour_for("Unknown", levels) == palette.MISSING_COLOUR
    cmap = palette.colour_map(["a", "b", "c", "d", "e", "f", "g"])
    assert len(set(cmap.values())) == 7
    assert "#F0E442" not in cmap.values()  # Okabe-Ito yellow: invisible when projected
    with pytest.raises(KeyError):
        palette.colour_for("x", levels)


def test_figure_colours_follow_the_full_level_list(groups):
    levels = ["Rutherford 4", "Rutherford 5", "Rutherford 6"]
    only6 = {"Rutherford 6": groups["Rutherford 6"]}
    both = km_figure(groups, levels=levels)
    one = km_figure(only6, levels=levels)
    want = palette.colour_for("Rutherford 6", levels)
    for fig in (both, one):
        (curve,) = [t for t in traces(fig, "curve", "Rutherford 6") if t.showlegend]
        assert curve.line.color == want
        marks = traces(fig, "censored", "Rutherford 6")
        assert marks
        assert {m.marker.line.color for m in marks} == {want}


def test_presentation_theme_is_larger_and_bolder(groups):
    assert PRESENTATION.font_size >= 20
    assert PRESENTATION.tick_size >= 20
    assert PRESENTATION.line_width >= 2 * NORMAL.line_width
    fig = km_figure(groups, theme="presentation")
    assert fig.layout.width == PRESENTATION.width
    assert fig.layout.font.size == PRESENTATION.font_size
    (curve,) = [t for t in traces(fig, "curve", "Rutherford 5") if t.showlegend]
    assert curve.line.width == PRESENTATION.line_width


# --- competing risks ----------------------------------------------------------------------
def competing_times() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(21)
    n = 300
    amp, death, cens = rng.exponential(900, n), rng.exponential(500, n), rng.uniform(60, 400, n)
    t = np.ceil(np.minimum.reduce([amp, death, cens]))
    code = np.where(cens <= np.minimum(amp, death), 0, np.where(amp < death, 1, 2))
    return t, code


@pytest.fixture(scope="module")
def competing() -> CompetingRisksResult:
    t, code = competing_times()
    return cumulative_incidence(
        t, code, cause=1, landmarks=(183, 365), endpoint="LS", provenance=PROV
    )


def test_cumulative_incidence_beside_one_minus_km(competing):
    fig = cif_figure(competing, landmark_day=183)
    lo, hi = fig.layout.yaxis.range
    assert lo <= 0
    # scaled to the curves and their intervals, to the next 10%, not 0-100%
    drawn = [competing.aalen_johansen, competing.one_minus_km]
    highest = 100 * max(float(np.nanmax(np.r_[c.estimate, c.upper])) for c in drawn)
    ticks = list(fig.layout.yaxis.tickvals)
    assert ticks[-1] % 10 == 0
    assert highest <= ticks[-1] < highest * 1.15 + 10
    assert ticks[-1] <= hi <= 1.03 * ticks[-1]
    assert ticks[-1] < 100  # this risk is far from 100%
    curves = [t for t in traces(fig, "curve") if t.showlegend]
    assert [c.meta["csv"]["group"] for c in curves] == ["Aalen-Johansen", "1 - KM"]
    assert curves[0].line.dash is None
    assert curves[1].line.dash == "dash"
    for group, res in (
        ("Aalen-Johansen", competing.aalen_johansen),
        ("1 - KM", competing.one_minus_km),
    ):
        day, y, _, _ = drawn_curve(fig, group)
        assert day[0] == 0
        assert y[0] == 0
        assert all(t.line.shape == "hv" for t in traces(fig, "curve", group))
        full = np.concatenate(([0.0], res.timeline))
        assert_within(day, y, full, 100 * np.concatenate(([0.0], res.estimate)), TOL_PP)
        (mk,) = traces(fig, "landmark", group)
        assert mk.y[0] == pytest.approx(100 * res.landmark(183).estimate)
    assert competing.aalen_johansen.provenance.footnote() in fig.layout.meta["footnote"]


def test_cumulative_incidence_has_its_own_risk_table(competing):
    fig = cif_figure(competing, tick_months=3)
    (row,) = traces(fig, "risk table")
    t, _ = competing_times()
    days = np.asarray(row.customdata)[:, 0]
    assert days[0] == 0
    assert len(days) >= 3
    # patients still followed on each tick's day, counted by hand from the times
    assert [int(v) for v in row.text] == [int((t >= d - 1e-9).sum()) for d in days]
    assert row.yaxis == "y2"
    # the curves sit above the table
    assert fig.layout.yaxis.domain[0] > fig.layout.yaxis2.domain[1]


# --- posterior ----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def bayes() -> BayesResult:
    d, e = synthetic(105, 700, 31)
    return BayesianEndpoint(n_imputations=100).fit(d, e, endpoint="AFS", provenance=PROV).result_


def test_posterior_figure_shades_interval_and_area_above_goal(bayes):
    fig = posterior_figure(
        bayes, endpoint_label="Amputation-free survival", show_complete_case=True
    )
    lo, hi = bayes.credible_interval
    above, interval = fig.data[0], fig.data[1]
    assert above.fill == "tozeroy"
    assert interval.fill == "tozeroy"
    assert np.min(above.x) == pytest.approx(100 * bayes.goal)
    assert np.min(interval.x) == pytest.approx(100 * lo)
    assert np.max(interval.x) == pytest.approx(100 * hi)
    assert interval.fillpattern.shape == "/"
    (bar,) = traces(fig, "credible interval")
    np.testing.assert_allclose(np.asarray(bar.x), [100 * lo, 100 * hi])
    (density,) = traces(fig, "density", "posterior")
    x = np.asarray(density.x) / 100
    np.testing.assert_allclose(np.asarray(density.y), bayes.density(x)[1])
    (goal,) = [s for s in fig.layout.shapes if s.x0 == s.x1]
    assert goal.x0 == pytest.approx(100 * bayes.goal)
    verdict = next(a for a in fig.layout.annotations if a.name == "verdict")
    p = bayes.probability_above_goal
    expected = "> 0.9999" if p > 0.9999 else f"= {p:.4f}"
    assert expected in plain(verdict.text)
    word = {True: "met", False: "not met", None: "not assessable"}[bayes.success]
    assert f"0.977: {word}" in plain(verdict.text)
    assert traces(fig, "density", "complete cases")


# --- forest -------------------------------------------------------------------------------
@dataclass(frozen=True)
class Level:
    level: str
    n: int
    events: int
    is_reference: bool = False
    estimate: float | None = None
    lower: float | None = None
    upper: float | None = None
    hazard_ratio: float | None = None
    hr_lower: float | None = None
    hr_upper: float | None = None
    reason: str | None = None


@dataclass(frozen=True)
class Variable:
    variable: str
    label: str
    levels: tuple[Level, ...]
    reference: str | None = None
    n_missing: int = 0
    p_interaction: float | None = None
    note: str | None = None


@dataclass(frozen=True)
class Table:
    label: str
    landmark: float
    n: int
    events: int
    variables: tuple[Variable, ...]
    provenance: Provenance = field(default=PROV)


@pytest.fixture(scope="module")
def forest_table() -> Table:
    rng = np.random.default_rng(41)
    hr = np.exp(rng.normal(0, 0.4, 3))
    sex = Variable(
        "SEX",
        "Sex",
        (
            Level("M", 60, 25, True, 0.6, 0.5, 0.7, 1.0),
            Level("F", 40, 12, False, 0.7, 0.55, 0.8, hr[0], hr[0] / 2, hr[0] * 2),
        ),
        "M",
        0,
        0.0004,
    )
    race = Variable(
        "RACE",
        "Race",
        (
            Level("WHITE", 70, 30, True, 0.62, 0.5, 0.72, 1.0),
            Level("ASIAN", 2, 0, reason="n = 2 < 5: too few patients to estimate"),
            Level("BLACK", 28, 7, False, 0.7, 0.5, 0.84, hr[1], hr[1] / 40, hr[1] * 60),
        ),
        "WHITE",
        3,
        0.31,
    )
    return Table("Amputation-free survival", 183, 100, 37, (sex, race))


def test_forest_keeps_small_levels_as_text_and_draws_hr_on_log_axis(forest_table):
    fig = forest_figure(forest_table)
    assert fig.layout.xaxis.type == "log"
    (one,) = [s for s in fig.layout.shapes if s.type == "line" and s.x0 == 1 and s.x1 == 1]
    assert one.xref == "x"
    texts = [plain(a.text) for a in fig.layout.annotations]
    assert texts.count(TOO_FEW) == 2  # estimate and HR columns of ASIAN
    assert "ASIAN" in texts
    assert "reference" in texts
    for head in ("Subgroup", "n", "Events", "HR (95% CI)"):
        assert head in texts
    assert "<0.001" in texts
    assert "0.31" in texts
    assert "Race (3 missing)" in texts
    (hr,) = traces(fig, "subgroup")
    labels = [str(t) for t in hr.text]
    assert len(labels) == sum(len(v.levels) for v in forest_table.variables)
    asian = labels.index("Race: ASIAN — n = 2 < 5: too few patients to estimate")
    assert np.isnan(hr.x[asian])
    f = forest_table.variables[0].levels[1]
    i = labels.index("Sex: F")
    assert hr.x[i] == pytest.approx(f.hazard_ratio)
    assert hr.error_x.array[i] == pytest.approx(f.hr_upper - f.hazard_ratio)
    assert f"{f.hazard_ratio:.2f} ({f.hr_lower:.2f}–{f.hr_upper:.2f})" in texts
    # a CI wider than the axis is cut at the edge and marked with an arrow
    assert [t for t in fig.data if t.name == "CI beyond the axis"]


def test_forest_draws_the_real_subgroup_result(demo_cohort):
    res = SubgroupAnalysis(min_n=8).fit(demo_cohort, "AFS").result_
    fig = forest_figure(res, theme="presentation")
    (hr,) = traces(fig, "subgroup")
    assert len(hr.x) == sum(len(v.levels) for v in res.variables)
    texts = [plain(a.text) for a in fig.layout.annotations]
    for var in res.variables:
        assert var.label in " ".join(texts)
        for lv in var.levels:
            if lv.hazard_ratio is None and not lv.is_reference:
                assert TOO_FEW in texts or "not estimated" in texts


# --- layering -----------------------------------------------------------------------------
@pytest.mark.slow
def test_charts_never_import_streamlit():
    code = (
        "import sys, charts.survival, charts.competing, charts.posterior, charts.forest, "
        "charts.export, charts.palette, charts.theme; "
        "assert 'streamlit' not in sys.modules, 'streamlit imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
