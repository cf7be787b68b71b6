"""Property tests of the Kaplan-Meier engine on random data (deterministic: derandomized)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lifelines import KaplanMeierFitter

from analytics.estimators.km import CI_TYPES, CIType, KaplanMeier

SETTINGS = settings(derandomize=True, deadline=None, max_examples=150, database=None)

# Whole-day times from a small range, so ties between events and censorings are common.
Rows = tuple[np.ndarray, np.ndarray]


@st.composite
def survival_rows(draw: st.DrawFn, min_size: int = 1, max_size: int = 60) -> Rows:
    n = draw(st.integers(min_size, max_size))
    times = draw(st.lists(st.integers(0, 40), min_size=n, max_size=n))
    events = draw(st.lists(st.booleans(), min_size=n, max_size=n))
    return np.array(times, dtype=float), np.array(events)


@st.composite
def weighted_rows(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    t, e = draw(survival_rows(max_size=30))
    w = np.array(draw(st.lists(st.integers(0, 6), min_size=t.size, max_size=t.size)), dtype=float)
    if w.sum() == 0:
        w[0] = 1.0
    return t, e, w


ci_types = st.sampled_from(CI_TYPES)


@SETTINGS
@given(rows=survival_rows(), ct=ci_types)
def test_survival_is_a_non_increasing_probability(rows: Rows, ct: CIType) -> None:
    km = KaplanMeier(ct).fit(*rows)
    s = km.survival_
    assert np.all((s >= 0) & (s <= 1))
    assert np.all(np.diff(s) <= 0)
    grid = np.linspace(-1, 45, 93)
    assert np.all(np.diff(km.survival_at(grid)) <= 0)


@SETTINGS
@given(rows=survival_rows(), ct=ci_types)
def test_band_contains_estimate_where_defined(rows: Rows, ct: CIType) -> None:
    km = KaplanMeier(ct).fit(*rows)
    lo, hi, s = km.lower_, km.upper_, km.survival_
    defined = ~np.isnan(lo) & ~np.isnan(hi)
    assert np.all(lo[defined] <= s[defined] + 1e-12)
    assert np.all(s[defined] <= hi[defined] + 1e-12)
    assert np.all((lo[defined] >= 0) & (hi[defined] <= 1))
    # Undefined only where R leaves it undefined: S = 0, or S = 1 for log-log.
    edge = (s == 0) | ((s == 1) if ct == "log-log" else False)
    assert np.array_equal(~defined, edge)


@SETTINGS
@given(rows=survival_rows(), days=st.lists(st.floats(-5, 50, allow_nan=False), max_size=10))
def test_at_risk_counts_times_at_or_after(rows: Rows, days: list[float]) -> None:
    t, e = rows
    km = KaplanMeier().fit(t, e)
    queries = np.concatenate([np.array(days), np.unique(t), np.unique(t) + 0.5])
    expected = np.array([(t >= d).sum() for d in queries], dtype=float)
    assert np.array_equal(km.at_risk_at(queries), expected)
    ev, ce = km.cumulative_at(queries)
    assert np.array_equal(ev, [(e & (t <= d)).sum() for d in queries])
    assert np.array_equal(ce, [(~e & (t <= d)).sum() for d in queries])


@SETTINGS
@given(rows=weighted_rows(), ct=ci_types)
def test_frequency_weights_equal_expanded_rows(
    rows: tuple[np.ndarray, np.ndarray, np.ndarray], ct: CIType
) -> None:
    t, e, w = rows
    reps = w.astype(int)
    grouped = KaplanMeier(ct).fit(t, e, weights=w)
    expanded = KaplanMeier(ct).fit(np.repeat(t, reps), np.repeat(e, reps))
    for name in ("timeline_", "at_risk_", "observed_", "censored_", "survival_", "var_log_",
                 "lower_", "upper_", "cumhaz_"):
        np.testing.assert_allclose(
            getattr(grouped, name), getattr(expanded, name), rtol=1e-12, atol=1e-12,
            err_msg=name,
        )
    assert grouped.n_ == expanded.n_
    for p in (0.25, 0.5, 0.75):
        assert grouped.quantile_time(p) == expanded.quantile_time(p)
    days = [0, 5, 10.5, 20, 41]
    for a, b in zip(grouped.landmarks(days), expanded.landmarks(days), strict=True):
        np.testing.assert_allclose(
            [a.estimate, a.lower, a.upper, a.at_risk, a.events, a.censored],
            [b.estimate, b.lower, b.upper, b.at_risk, b.events, b.censored],
            rtol=1e-12, atol=1e-12,
        )
    assert grouped.restricted_mean() == pytest.approx(expanded.restricted_mean(), rel=1e-12)


@SETTINGS
@given(rows=survival_rows(min_size=2))
def test_matches_lifelines(rows: Rows) -> None:
    """lifelines' KaplanMeierFitter: same S(t) and the same (log-log) CI where R defines it."""
    t, e = rows
    km = KaplanMeier("log-log").fit(t, e)
    ll = KaplanMeierFitter().fit(t, e)
    grid = ll.survival_function_.index.to_numpy(dtype=float)
    np.testing.assert_allclose(
        km.survival_at(grid), ll.survival_function_.iloc[:, 0].to_numpy(), rtol=0, atol=1e-9
    )
    ci = ll.confidence_interval_.to_numpy()
    lo, hi = km.band_at(grid)
    s = km.survival_at(grid)
    inside = (s > 0) & (s < 1)
    np.testing.assert_allclose(lo[inside], ci[inside, 0], rtol=0, atol=1e-9)
    np.testing.assert_allclose(hi[inside], ci[inside, 1], rtol=0, atol=1e-9)
    # lifelines counts at risk at the start of each period like R.
    table = ll.event_table
    at_risk = km.at_risk_at(table.index.to_numpy())
    np.testing.assert_array_equal(at_risk, table["at_risk"].to_numpy())


@SETTINGS
@given(rows=survival_rows(), days=st.lists(st.integers(0, 45), min_size=1, max_size=8))
def test_landmark_intervals_add_up(rows: Rows, days: list[int]) -> None:
    km = KaplanMeier().fit(*rows)
    lms = km.landmarks(days)
    assert [lm.day for lm in lms] == sorted(days)
    assert sum(lm.events for lm in lms) == lms[-1].cumulative_events
    assert sum(lm.censored for lm in lms) == lms[-1].cumulative_censored


def test_rejects_fractional_and_negative_weights() -> None:
    with pytest.raises(ValueError, match="whole numbers"):
        KaplanMeier().fit([1, 2], [1, 0], weights=[1.5, 1])
    with pytest.raises(ValueError, match="non-negative"):
        KaplanMeier().fit([1, 2], [1, 0], weights=[-1, 1])
