"""The fast paths give the numbers of the plain ones.

- Kaplan-Meier on integer times (no conversion), the block-wise numpy counting pass and
  the compiled one (large inputs) against lifelines (an independent implementation),
  against each other and against the sort-based path;
- the per-patient analysis table (one time and event column per endpoint) against
  the same counts taken straight from adtte joined to adsl in SQL.
"""

from __future__ import annotations

import shutil

import numpy as np
import pandas as pd
import pytest
from lifelines import KaplanMeierFitter

from analytics.estimators import counting as km_module
from analytics.estimators.km import KaplanMeier
from analytics.model.filters import FilterState
from analytics.store import DEMO_DIR, Store
from bench.registry import make_registry


def _day_times(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    t = np.ceil(np.minimum(rng.exponential(400, n), rng.integers(30, 1100, n))).astype(np.int64)
    e = (rng.random(n) < 0.7).astype(np.int64)
    return t, e


def _lifelines(t: np.ndarray, e: np.ndarray) -> KaplanMeierFitter:
    return KaplanMeierFitter().fit(pd.Series(t, dtype=float), pd.Series(e))


def _assert_matches_lifelines(km: KaplanMeier, lf: KaplanMeierFitter) -> None:
    s_lf = lf.survival_function_at_times(km.timeline_).to_numpy()
    assert np.max(np.abs(s_lf - km.survival_)) < 1e-9
    ci = lf.confidence_interval_.loc[km.timeline_].to_numpy()
    defined = np.isfinite(km.lower_)
    assert defined.sum() > 0.9 * defined.size
    assert np.max(np.abs(ci[defined, 0] - km.lower_[defined])) < 1e-9
    assert np.max(np.abs(ci[defined, 1] - km.upper_[defined])) < 1e-9
    at_risk = lf.event_table.loc[km.timeline_, "at_risk"].to_numpy()
    np.testing.assert_array_equal(at_risk, km.at_risk_)


@pytest.mark.parametrize("n", [1, 70_000, 200_000])
def test_integer_times_match_lifelines_and_float_times(n):
    # sizes around the block length, so the last block is partial
    t, e = _day_times(n, seed=5)
    ours_int = KaplanMeier(ci_type="log-log").fit(t, e)
    ours_float = KaplanMeier(ci_type="log-log").fit(t.astype(float), e)
    for attr in ("timeline_", "survival_", "lower_", "upper_", "at_risk_", "observed_"):
        np.testing.assert_array_equal(getattr(ours_int, attr), getattr(ours_float, attr))
    if n > 1:
        _assert_matches_lifelines(ours_int, _lifelines(t, e))


@pytest.mark.parametrize("t_type", [np.uint8, np.int16, np.uint16, np.int32, np.uint64])
@pytest.mark.parametrize("e_type", [np.bool_, np.int8, np.uint8, np.int64, np.uint64])
def test_every_integer_type_counts_alike(t_type, e_type):
    # times up to 255 fit every type: uint8 times above 127 must not wrap when doubled
    rng = np.random.default_rng(4)
    t = rng.integers(0, 256, 5000)
    e = rng.integers(0, 2, 5000)
    reference = KaplanMeier().fit(t.astype(float), e.astype(float))
    typed = KaplanMeier().fit(t.astype(t_type), e.astype(e_type))
    for attr in ("timeline_", "survival_", "at_risk_", "observed_", "censored_"):
        np.testing.assert_array_equal(getattr(typed, attr), getattr(reference, attr))
    assert reference.timeline_[-1] == 255


def test_block_counting_equals_the_sort_path(monkeypatch):
    t, e = _day_times(150_000, seed=8)
    fast = KaplanMeier().fit(t.astype(float), e.astype(bool))
    # a bound of 0 sends every input to np.unique, the general path
    monkeypatch.setattr(km_module, "_BINCOUNT_LIMIT", 0)
    slow = KaplanMeier().fit(t.astype(float), e.astype(bool))
    for attr in ("timeline_", "survival_", "var_log_", "at_risk_", "observed_", "censored_"):
        np.testing.assert_array_equal(getattr(fast, attr), getattr(slow, attr))


def test_a_fractional_time_in_a_later_block_falls_back_exactly():
    t, e = _day_times(100_000, seed=9)
    tf = t.astype(float)
    tf[90_000] += 0.5  # past the first block: the check must run in every block
    km = KaplanMeier().fit(tf, e)
    assert pytest.approx(km.timeline_[np.searchsorted(km.timeline_, tf[90_000])] % 1) == 0.5
    _assert_matches_lifelines(km, _lifelines(tf, e))


@pytest.mark.parametrize(
    "t_type", [np.int64, np.int32, np.uint16, np.uint64, np.float64, np.float32]
)
@pytest.mark.parametrize("e_type", [np.bool_, np.int8, np.uint8, np.int64, np.float64])
def test_compiled_counting_equals_the_numpy_pass(monkeypatch, t_type, e_type):
    # the compiled loop takes over from a size on; lowered here so every type is cheap
    monkeypatch.setattr(km_module, "_COMPILED_MIN", 1)
    rng = np.random.default_rng(12)
    t = rng.integers(0, 3000, 20_000).astype(t_type)
    e = (rng.random(20_000) < 0.6).astype(e_type)
    compiled = km_module._patient_slots(t, e)
    by_numpy = km_module._numpy_slots(t, e) if e.dtype.kind in "biu" else None
    if e.dtype.kind == "f":  # float events are the general path's business
        assert compiled is None
        return
    assert compiled is not None
    np.testing.assert_array_equal(compiled, by_numpy)
    assert compiled.sum() == t.size
    assert compiled[-1] > 0  # no empty slots after the last time


@pytest.mark.parametrize(
    ("time", "event", "outcome"),
    [
        (-1, 1, "negative"),
        (np.nan, 1, "missing or infinite"),
        (np.inf, 0, "missing or infinite"),
        (1, 2, "0/1"),
        (1, -1, "0/1"),
        (2.5, 1, None),  # a fraction: counted by the general path
        (40_000, 1, None),  # beyond the slot table: counted by the general path
    ],
)
def test_compiled_counting_hands_bad_or_unusual_values_on(time, event, outcome):
    # the odd value sits near the end, after most of the input has been counted
    t, e = _day_times(1 << 17, seed=13)
    tf = t.astype(float) if not float(time).is_integer() or time < 0 else t.copy()
    ef = e.copy()
    tf[-3], ef[-3] = time, event
    assert km_module._patient_slots(tf, ef) is None
    if outcome is not None:
        with pytest.raises(ValueError, match=outcome):
            KaplanMeier().fit(tf, ef)
        return
    km = KaplanMeier().fit(tf, ef)
    assert km.n_ == t.size
    assert time in km.timeline_
    _assert_matches_lifelines(km, _lifelines(tf.astype(float), ef))


@pytest.mark.parametrize("dtype", [np.int8, np.int32, np.int64])
def test_negative_integer_times_are_refused(dtype):
    with pytest.raises(ValueError, match="negative"):
        KaplanMeier().fit(np.array([3, -1, 2], dtype=dtype), [1, 0, 1])


@pytest.mark.parametrize("events", [[1, -1, 0], [1, 2, 0], np.array([1, 2, 0], dtype=np.uint8)])
def test_integer_events_other_than_0_1_are_refused(events):
    with pytest.raises(ValueError, match="0/1"):
        KaplanMeier().fit(np.array([3, 1, 2]), events)


# --- the analysis table -----------------------------------------------------------------


def _reference_counts(store: Store, filters: FilterState, codes: list[str], by: str | None):
    """The same counts from adtte joined to adsl, the plain way."""
    where, params = store.subject_where(filters)
    group = f', CAST(s."{by}" AS VARCHAR) AS GRP' if by else ""
    marks = ", ".join("?" for _ in codes)
    sql = (
        "SELECT t.PARAMCD, t.AVAL, CAST(t.CNSR = 0 AS INTEGER) AS EVENT"
        f"{group}, count(*) AS N FROM adtte t JOIN (SELECT * FROM adsl WHERE {where}) s "
        f"USING (USUBJID) WHERE t.PARAMCD IN ({marks}) GROUP BY ALL ORDER BY ALL"
    )
    return store.query(sql, [*params, *codes])


FILTERS = [[], ["DIALFL=N"], ["AGE>=65", "SEX=F"], ["SITEID!=S01"], ["DIABFL=Y"]]


@pytest.mark.parametrize("filters", FILTERS)
@pytest.mark.parametrize("by", [None, "SEX", "RUTHCAT"])
def test_demo_counts_equal_the_join(demo_store, filters, by):
    f = FilterState.parse(filters)
    codes = ["AFS", "LS", "OS", "PP", "REINT"]
    got = demo_store.tte_counts_many(f, codes, by=by)
    want = _reference_counts(demo_store, f, codes, by)
    assert len(want) > 0
    pd.testing.assert_frame_equal(got, want, check_dtype=True)


def test_long_form_view_equals_adtte(demo_store):
    """`tte_wide` (read by the subgroup counts) holds every accepted time-to-event row."""
    wide = demo_store.query(
        "SELECT USUBJID, PARAMCD, AVAL, EVENT, SEX FROM tte_wide ORDER BY USUBJID, PARAMCD"
    )
    plain = demo_store.query(
        "SELECT t.USUBJID, t.PARAMCD, t.AVAL, CAST(t.CNSR = 0 AS INTEGER) AS EVENT, s.SEX "
        "FROM adtte t JOIN adsl s USING (USUBJID) ORDER BY t.USUBJID, t.PARAMCD"
    )
    pd.testing.assert_frame_equal(wide, plain)


def test_fractional_times_are_kept(tmp_path, monkeypatch):
    monkeypatch.setenv("DVA_CACHE_DIR", str(tmp_path / "cache"))
    src = tmp_path / "frac"
    src.mkdir()
    shutil.copy(DEMO_DIR / "adsl.csv", src / "adsl.csv")
    adtte = pd.read_csv(DEMO_DIR / "adtte.csv")
    adtte["AVAL"] = adtte["AVAL"].astype(float)
    afs = adtte["PARAMCD"] == "AFS"
    adtte.loc[afs, "AVAL"] = adtte.loc[afs, "AVAL"] + 0.25
    adtte = adtte.drop(columns=[c for c in ("ADT",) if c in adtte])
    adtte.to_csv(src / "adtte.csv", index=False)
    store = Store.open(src)
    try:
        got = store.tte_counts_many(FilterState(), ["AFS", "OS"], by="SEX")
        want = _reference_counts(store, FilterState(), ["AFS", "OS"], "SEX")
        pd.testing.assert_frame_equal(got, want)
        afs_times = got.loc[got["PARAMCD"] == "AFS", "AVAL"]
        assert (afs_times % 1 == 0.25).all()
    finally:
        store.close()


def test_registry_without_some_columns(tmp_path, monkeypatch):
    """Filters on data-model columns the extract lacks find them (as missing) and give
    what the join gives; an endpoint the data lacks gives no rows."""
    monkeypatch.setenv("DVA_CACHE_DIR", str(tmp_path / "cache"))
    src = make_registry(3000, tmp_path / "reg", seed=3)
    store = Store.open(src)
    try:
        for filters in (["RACE=WHITE"], ["RACE!=WHITE", "DIALFL=Y"], ["AGEGR1=>70"]):
            f = FilterState.parse(filters)
            got = store.tte_counts_many(f, ["AFS", "OS", "PP"], by="DIABFL")
            want = _reference_counts(store, f, ["AFS", "OS", "PP"], "DIABFL")
            pd.testing.assert_frame_equal(got, want)
        assert store.tte_counts(FilterState(), "PP").empty
        assert store.tte_counts(FilterState(), "AFS")["N"].sum() == 3000
    finally:
        store.close()


@pytest.mark.parametrize("n", [100, 1 << 16])  # the numpy pass, then the compiled one
@pytest.mark.parametrize("t_type", [np.float16, ">f8", ">i8", ">u4", "<u8"])
@pytest.mark.parametrize("e_type", ["<i8", ">i8", np.bool_])
def test_every_byte_order_and_float_width_counts_alike(n, t_type, e_type):
    rng = np.random.default_rng(14)
    t, e = rng.integers(0, 500, n), rng.integers(0, 2, n)
    reference = KaplanMeier().fit(t.astype(float), e)
    typed = KaplanMeier().fit(t.astype(t_type), e.astype(e_type))
    for attr in ("timeline_", "survival_", "at_risk_", "observed_"):
        np.testing.assert_array_equal(getattr(typed, attr), getattr(reference, attr))


@pytest.mark.parametrize(
    "times", [np.array([5, -(2**63), 3]), np.array([5, -(2.0**63), 3])]
)
def test_extreme_negative_times_do_not_wrap_to_day_zero(times):
    with pytest.raises(ValueError, match="negative"):
        KaplanMeier().fit(times, [1, 1, 0])


def test_a_time_of_two_to_the_63_is_kept_as_it_is():
    km = KaplanMeier().fit(np.array([5, 2**63, 3], dtype=np.uint64), [1, 1, 0])
    assert km.timeline_.tolist() == [3.0, 5.0, 2.0**63]
