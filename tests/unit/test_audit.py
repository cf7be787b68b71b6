"""The NICE IPG773 audit (analytics.analyses.audit) on a small extract whose answers are worked
out by hand below, the demo extract (which has no quality-of-life score), and the NICE
audit page run headless through AppTest."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from lifelines import KaplanMeierFitter
from streamlit.testing.v1 import AppTest

import ui.context
from analytics.analyses.audit import Estimate, KindCount, audit_view, text
from analytics.estimators.describe import Row
from analytics.model.filters import FilterState
from analytics.report.frames import table_csv
from analytics.store import Store

ROOT = Path(__file__).resolve().parents[2]
APP = str(ROOT / "app.py")
PAGE = "pages/audit.py"
LANDMARK = 183

# Eight patients; P8 is the one technical failure and has no crossing vessels recorded.
ADSL = pd.DataFrame(
    {
        "USUBJID": [f"P{i}" for i in range(1, 9)],
        "DIALFL": ["Y", "Y", "N", "N", "N", "N", "Y", ""],
        "RUTHCAT": [5, 5, 6, 5, 6, 5, 5, 6],
        "DIABFL": ["Y", "N", "Y", "Y", "N", "Y", "Y", "N"],
        "CKDFL": ["Y", "Y", "N", "N", "N", "Y", "N", "N"],
        "NOOPTRS": ["NO PEDAL TARGET"] * 3 + ["NO AUTOGENOUS CONDUIT"] + ["NO PEDAL TARGET"] * 4,
        "TECHSFL": ["Y"] * 7 + ["N"],
        "XARTERY": ["POSTERIOR TIBIAL ARTERY"] * 4
        + ["PERONEAL ARTERY"] * 2
        + ["TIBIOPERONEAL TRUNK", ""],
        "XVEIN": ["POSTERIOR TIBIAL VEIN"] * 5 + ["PERONEAL VEIN"] * 2 + [""],
        "ACDURD": [30, 90, 90, 180, 180, 365, "", 60],
        "PROCDT": ["2021-01-01"] * 8,
    }
)
# Limb salvage: amputations P8 day 10, P1 day 50, P3 day 200; deaths P7 day 20, P2 day
# 100 (censor LS with CNSR 4), P3 day 300 (after the amputation); P5 lost at day 120.
LS = [(50, 0), (100, 4), (200, 0), (365, 1), (120, 2), (365, 1), (20, 4), (10, 0)]
OS = [(365, 1), (100, 0), (300, 0), (365, 1), (120, 2), (365, 1), (20, 0), (365, 1)]
AFS = [(50, 0), (100, 0), (200, 0), (365, 1), (120, 2), (365, 1), (20, 0), (10, 0)]
AMP, DEATH = "MAJOR AMPUTATION", "DEATH"
AFS_EVENT = [AMP, DEATH, AMP, "", "", "", DEATH, AMP]
# First reintervention (technical successes only): P1 planned day 30, P2 unplanned day 60,
# P3 unplanned day 250 (after the landmark), P4 planned day 90; P5-P7 censored.
REINT = [
    (30, 0, "PLANNED REINTERVENTION"),
    (60, 0, "UNPLANNED REINTERVENTION"),
    (250, 0, "UNPLANNED REINTERVENTION"),
    (90, 0, "PLANNED REINTERVENTION"),
    (120, 2, "LOST"),
    (365, 1, "ALIVE"),
    (20, 4, "DEATH"),
]
# VascuQoL-6 at baseline (P5 not scored) and month 6 (P3 not scored; P2, P5, P7 have no
# month-6 visit); a month-1 visit so that the month-6 visit must be chosen by the landmark.
QOL_BASELINE = [10, 12, 8, 14, "", 9, 11, 13]
QOL_MONTH6 = {"P1": 18, "P3": "", "P4": 20, "P6": 15, "P8": 16}


def _adtte() -> pd.DataFrame:
    rows = []
    for code, values, events in (
        ("LS", LS, [AMP] * 8),
        ("OS", OS, [DEATH] * 8),
        ("AFS", AFS, AFS_EVENT),
    ):
        for i, ((aval, cnsr), desc) in enumerate(zip(values, events, strict=True), start=1):
            rows.append((f"P{i}", code, aval, cnsr, desc if cnsr == 0 else "CENSORED"))
    for i, (aval, cnsr, desc) in enumerate(REINT, start=1):
        rows.append((f"P{i}", "REINT", aval, cnsr, desc))
    return pd.DataFrame(rows, columns=["USUBJID", "PARAMCD", "AVAL", "CNSR", "EVNTDESC"])


def _visits() -> pd.DataFrame:
    rows = [(f"P{i}", "BASELINE", 0, 0, q) for i, q in enumerate(QOL_BASELINE, start=1)]
    rows.append(("P1", "MONTH 1", 1, 30, 12))
    rows += [(p, "MONTH 6", 6, 182, q) for p, q in QOL_MONTH6.items()]
    return pd.DataFrame(rows, columns=["USUBJID", "AVISIT", "AVISITN", "ADY", "QOLSCORE"])


def _write(folder: Path, *, qol: bool = True) -> Path:
    ADSL.to_csv(folder / "adsl.csv", index=False)
    _adtte().to_csv(folder / "adtte.csv", index=False)
    visits = _visits() if qol else _visits().drop(columns="QOLSCORE")
    visits.to_csv(folder / "visits.csv", index=False)
    return folder


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    store = Store.open(_write(tmp_path_factory.mktemp("audit")))
    yield store
    store.close()


@pytest.fixture(scope="module")
def result(small):
    return audit_view(small, FilterState(), LANDMARK)


def count(it) -> tuple[int | None, int, int]:
    assert isinstance(it, Row), it
    assert it.kind == "count", it
    return it.n, it.denominator, it.missing


def test_patient_selection(result):
    assert count(result.item("On dialysis")) == (3, 7, 1)
    assert text(result.item("On dialysis")) == "3/7 (42.9%); missing 1"
    assert count(result.item("Rutherford 5 (minor tissue loss)")) == (5, 8, 0)
    assert count(result.item("Rutherford 6 (major tissue loss)")) == (3, 8, 0)
    assert count(result.item("Diabetes")) == (5, 8, 0)
    assert count(result.item("Chronic kidney disease")) == (3, 8, 0)
    assert count(result.item("No option: no pedal target")) == (7, 8, 0)
    assert count(result.item("No option: no autogenous conduit")) == (1, 8, 0)
    assert result.selection[0].label == "On dialysis"  # the guidance names it first


def test_technique_counts_crossing_vessels_with_missing(result):
    assert count(result.item("Technical success")) == (7, 8, 0)
    assert count(result.item("Crossing artery: posterior tibial artery")) == (4, 7, 1)
    assert count(result.item("Crossing artery: peroneal artery")) == (2, 7, 1)
    assert count(result.item("Crossing artery: tibioperoneal trunk")) == (1, 7, 1)
    assert count(result.item("Crossing vein: posterior tibial vein")) == (5, 7, 1)
    assert count(result.item("Crossing vein: peroneal vein")) == (2, 7, 1)


def test_anticoagulation_median_iqr_range_and_missing(result):
    # 30 60 90 90 180 180 365 (P7 missing). Definition 2: median x(4) = 90; Q1 at
    # 7 * 0.25 = 1.75 -> x(2) = 60; Q3 at 5.25 -> x(6) = 180.
    iqr, rng = result.anticoagulation
    assert (iqr.median, iqr.q1, iqr.q3, iqr.missing) == (90, 60, 180, 1)
    assert (rng.minimum, rng.maximum) == (30, 365)
    assert text(iqr) == "90 (60-180); missing 1"
    assert text(rng) == "90 (30-365); missing 1"


def kind(it) -> tuple[int | None, int, int]:
    assert isinstance(it, KindCount), it
    return it.n, it.denominator, it.not_recorded


def test_reinterventions_planned_and_unplanned_among_technical_successes(result):
    within = f"within {LANDMARK} days"
    assert count(result.item(f"Any reintervention {within}")) == (3, 7, 0)
    assert kind(result.item(f"First reintervention planned, {within}")) == (2, 7, 0)
    assert kind(result.item(f"First reintervention unplanned, {within}")) == (1, 7, 0)
    assert text(result.item(f"First reintervention planned, {within}")) == "2/7 (28.6%)"
    whole = "over the whole follow-up"
    assert count(result.item(f"Any reintervention {whole}")) == (4, 7, 0)
    assert kind(result.item(f"First reintervention planned, {whole}")) == (2, 7, 0)
    assert kind(result.item(f"First reintervention unplanned, {whole}")) == (2, 7, 0)


def _store_with_reint_texts(folder: Path, texts: list[str]) -> Store:
    """The small extract with the reintervention event texts of P1-P4 replaced."""
    _write(folder)
    tte = _adtte()
    events = tte.index[(tte["PARAMCD"] == "REINT") & (tte["CNSR"] == 0)]
    tte.loc[events, "EVNTDESC"] = texts
    tte.to_csv(folder / "adtte.csv", index=False)
    return Store.open(folder)


def test_reintervention_kind_not_recorded_is_never_shown_as_zero(tmp_path):
    # a wide extract writes REINTERVENTION: planned and unplanned cannot be told apart
    store = _store_with_reint_texts(tmp_path, ["REINTERVENTION"] * 4)
    try:
        result = audit_view(store, FilterState(), LANDMARK)
    finally:
        store.close()
    within, whole = f"within {LANDMARK} days", "over the whole follow-up"
    assert count(result.item(f"Any reintervention {within}")) == (3, 7, 0)
    for which in ("planned", "unplanned"):
        early = result.item(f"First reintervention {which}, {within}")
        late = result.item(f"First reintervention {which}, {whole}")
        assert kind(early) == (None, 7, 3)
        assert kind(late) == (None, 7, 4)
        assert text(early) == (
            "not recorded (kind not recorded for 3 patients with a reintervention)"
        )
        assert "0/7" not in text(late)
        assert "0.0%" not in text(late)
    frame = result.to_frame().set_index("Item")
    row = frame.loc[f"First reintervention planned, {within}"]
    assert pd.isna(row["n"])
    assert (row["Denominator"], row["Missing"]) == (7, 3)


def test_reintervention_kind_partly_recorded_shows_known_counts_and_the_rest(tmp_path):
    # P1 planned (day 30), P2 "STAGED" (day 60: a wording that does not say), P3 unplanned
    # (day 250), P4 missing text (day 90)
    store = _store_with_reint_texts(
        tmp_path, ["PLANNED REINTERVENTION", "STAGED", "Unplanned reintervention", ""]
    )
    try:
        result = audit_view(store, FilterState(), LANDMARK)
    finally:
        store.close()
    within, whole = f"within {LANDMARK} days", "over the whole follow-up"
    planned = result.item(f"First reintervention planned, {within}")
    unplanned = result.item(f"First reintervention unplanned, {within}")
    assert kind(planned) == (1, 7, 2)
    assert text(planned) == "1/7 (14.3%); kind not recorded: 2"
    # no unplanned one by the landmark, but two of unknown kind: 0 is shown with them
    assert text(unplanned) == "0/7 (0.0%); kind not recorded: 2"
    assert kind(result.item(f"First reintervention unplanned, {whole}")) == (1, 7, 2)


def lifelines_at(times: list[tuple[int, int]], day: float) -> tuple[float, float, float]:
    """S(day) and its 95% CI from lifelines (exponential Greenwood, i.e. log-log)."""
    t = np.array([a for a, _ in times], dtype=float)
    e = np.array([c == 0 for _, c in times])
    km = KaplanMeierFitter().fit(t, e)
    ci = km.confidence_interval_survival_function_
    row = ci[ci.index <= day].iloc[-1]
    return float(km.predict(day)), float(row.iloc[0]), float(row.iloc[1])


def test_major_amputation_crude_km_and_competing(result):
    assert count(result.item(f"Major amputation by day {LANDMARK} (crude)")) == (2, 8, 0)
    assert count(result.item("Major amputation over the whole follow-up (crude)")) == (3, 8, 0)
    km = result.item(f"Major amputation at day {LANDMARK}: 1 - Kaplan-Meier limb salvage")
    assert isinstance(km, Estimate)
    # S = 7/8 after day 10 (8 at risk), then x 5/6 at day 50 (6 at risk: P7 censored at 20)
    assert km.estimate == pytest.approx(1 - 35 / 48, abs=1e-12)
    assert km.at_risk == 3  # P3, P4, P6 still followed at day 183
    s, lo, hi = lifelines_at(LS, LANDMARK)
    assert s == pytest.approx(35 / 48)
    assert (km.lower, km.upper) == (
        pytest.approx(1 - hi, abs=1e-9),
        pytest.approx(1 - lo, abs=1e-9),
    )
    aj = result.item(f"Major amputation at day {LANDMARK}: cumulative incidence, death competing")
    assert isinstance(aj, Estimate)
    # F = 1/8 at day 10; all-cause S before day 50 = 7/8 x 6/7 = 3/4, so F += 3/4 x 1/6
    assert aj.estimate == pytest.approx(1 / 8 + 3 / 4 * 1 / 6, abs=1e-12)
    assert aj.lower < aj.estimate < aj.upper
    assert aj.estimate < km.estimate  # 1 - KM overstates when deaths compete


def test_mortality(result):
    assert count(result.item(f"Deaths by day {LANDMARK} (crude)")) == (2, 8, 0)
    assert count(result.item("Deaths over the whole follow-up (crude)")) == (3, 8, 0)
    km = result.item(f"Mortality at day {LANDMARK}: 1 - Kaplan-Meier survival")
    assert isinstance(km, Estimate)
    # deaths day 20 (8 at risk) and day 100 (7 at risk): S = 7/8 x 6/7 = 3/4
    assert km.estimate == pytest.approx(0.25, abs=1e-12)
    s, lo, hi = lifelines_at(OS, LANDMARK)
    assert s == pytest.approx(0.75)
    assert (km.lower, km.upper) == (
        pytest.approx(1 - hi, abs=1e-9),
        pytest.approx(1 - lo, abs=1e-9),
    )
    assert km.at_risk == 5


def test_quality_of_life_at_baseline_and_month_6(result):
    assert result.qol_visit == "MONTH 6"
    base, month6, change = result.quality_of_life
    # baseline 8 9 10 11 12 13 14 (P5 missing): median x(4) = 11, Q1 x(2) = 9, Q3 x(6) = 13
    assert (base.median, base.q1, base.q3) == (11, 9, 13)
    assert (base.denominator - base.missing, base.missing) == (7, 1)
    # month 6: 15 16 18 20 (P3 missing): 4 x 0.5 = 2 is whole, so the median averages
    # x(2) and x(3) = 17; Q1 averages x(1), x(2) = 15.5; Q3 x(3), x(4) = 19
    assert (month6.median, month6.q1, month6.q3) == (17, 15.5, 19)
    assert (month6.denominator - month6.missing, month6.missing) == (4, 1)
    # paired changes P1 +8, P4 +6, P6 +6, P8 +3: 3 6 6 8 -> median 6, Q1 4.5, Q3 7
    assert (change.median, change.q1, change.q3, change.denominator) == (6, 4.5, 7, 4)
    assert "quality of life" not in result.lacking


def test_quality_of_life_visit_follows_the_landmark(small):
    early = audit_view(small, FilterState(), 30)
    assert early.qol_visit == "MONTH 1"
    assert early.quality_of_life[1].median == 12  # P1 alone


def test_nothing_lacking_when_the_extract_has_every_item(result):
    assert result.lacking == ()
    assert result.n == 8
    assert result.day == LANDMARK


def test_counts_are_of_the_patients_in_view(small):
    dial = audit_view(small, FilterState.parse(["DIALFL=Y"]), LANDMARK)
    assert dial.n == 3
    assert count(dial.item("On dialysis")) == (3, 3, 0)
    assert count(dial.item("Major amputation over the whole follow-up (crude)")) == (1, 3, 0)


def test_items_the_extract_lacks_are_kept_and_named(tmp_path):
    folder = _write(tmp_path, qol=False)
    ADSL.drop(columns=["ACDURD", "XVEIN"]).to_csv(folder / "adsl.csv", index=False)
    tte = _adtte()
    tte[tte["PARAMCD"] != "REINT"].to_csv(folder / "adtte.csv", index=False)
    store = Store.open(folder)
    try:
        # an optional column's absence is no data problem: nothing is said about it
        assert not [i for i in store.quality().issues if i.column == "QOLSCORE"]
        assert all("QOLSCORE" not in i.message for i in store.quality().issues)
        result = audit_view(store, FilterState(), LANDMARK)
    finally:
        store.close()
    assert result.lacking == (
        "crossing vein",
        "anticoagulation duration",
        "reinterventions",
        "quality of life",
    )
    for label in (
        "Crossing vein",
        "Anticoagulation duration, days",
        "Reinterventions",
        "Quality of life (VascuQoL-6, 6 to 24)",
    ):
        assert text(result.item(label)) == "not in this extract"
    assert count(result.item("On dialysis")) == (3, 7, 1)  # the rest is unaffected


def test_an_unreadable_score_is_reported_with_file_row_and_column(tmp_path):
    folder = _write(tmp_path)
    visits = _visits().astype({"QOLSCORE": object})
    visits.loc[2, "QOLSCORE"] = "high"
    visits.to_csv(folder / "visits.csv", index=False)
    store = Store.open(folder)
    try:
        issues = [i for i in store.quality().issues if i.column == "QOLSCORE"]
        base = audit_view(store, FilterState(), LANDMARK).quality_of_life[0]
    finally:
        store.close()
    assert [(i.file, i.row, i.value, i.severity) for i in issues] == [
        ("visits.csv", 3, "high", "warning")
    ]
    assert base.missing == 2  # P3's score is kept as missing, not dropped silently


def test_whole_audit_table_and_its_csv(result):
    frame = result.to_frame()
    assert list(frame["Section"].unique()) == [
        "Patient selection",
        "Technique",
        "Anticoagulation",
        "Reinterventions",
        "Major amputation",
        "Quality of life",
        "Mortality",
    ]
    dial = frame[frame["Item"] == "On dialysis"].iloc[0]
    assert (dial["n"], dial["Denominator"], dial["Missing"]) == (3, 7, 1)
    back = pd.read_csv(
        io.BytesIO(table_csv(frame, "NICE IPG773 audit", "Filters: none", result.provenance)),
        comment="#",
    )
    assert list(back["Item"]) == list(frame["Item"])
    row = back[back["Item"].str.startswith("Mortality at day")].iloc[0]
    assert row["Estimate"] == pytest.approx(0.25)


def test_demo_extract_loads_without_quality_of_life(demo_store):
    assert not [i for i in demo_store.quality().issues if i.column == "QOLSCORE"]
    result = audit_view(demo_store, FilterState())
    assert result.lacking == ("quality of life",)
    (qol,) = result.quality_of_life
    assert text(qol) == "not in this extract"
    # the dialysis count read back from the patients themselves
    adsl = demo_store.query("SELECT DIALFL FROM adsl")
    on = int((adsl["DIALFL"] == "Y").sum())
    assert count(result.item("On dialysis")) == (on, int(adsl["DIALFL"].notna().sum()), 0)


def test_empty_cohort_is_refused_plainly(small):
    with pytest.raises(ValueError, match="no patients"):
        audit_view(small, FilterState.parse(["DIALFL=nobody"]))


# --- the page ------------------------------------------------------------------------------


@pytest.fixture
def at(monkeypatch: pytest.MonkeyPatch) -> AppTest:
    monkeypatch.delenv("DVA_DATA_DIR", raising=False)
    return AppTest.from_file(APP, default_timeout=60)


def page_lines(at: AppTest) -> list[str]:
    return [line for m in at.main.markdown for line in m.value.splitlines()]


def test_page_shows_the_audit_of_the_patients_in_view(at, demo_store):
    at.query_params["DIALFL"] = "Y"
    at.switch_page(PAGE).run()
    assert not at.exception
    assert not at.error, [e.value for e in at.error]
    assert at.title[0].value == "NICE audit"
    expected = audit_view(demo_store, FilterState.parse(["DIALFL=Y"]))
    lines = page_lines(at)
    for _, items in expected.sections:
        for it in items:
            assert f"- {it.label}: **{text(it)}**" in lines
    # dialysis reads n/N (here every patient in view)
    n = demo_store.count(FilterState.parse(["DIALFL=Y"]))
    assert f"- On dialysis: **{n}/{n} (100.0%)**" in lines
    headers = [h.value for h in at.subheader]
    assert headers.index("Patient selection") < headers.index("Technique")
    assert headers.index("Major amputation") < headers.index("Quality of life")
    assert "Not in this extract: quality of life." in [i.value for i in at.info]
    shown = at.dataframe[0].value
    assert list(shown["Item"]) == list(expected.to_frame()["Item"])


def test_page_with_nobody_in_view_says_so(at):
    at.query_params["where"] = "AGE>=200"
    at.switch_page(PAGE).run()
    assert not at.exception
    assert any("nothing to audit" in i.value for i in at.info)


def test_page_shows_quality_of_life_when_the_extract_has_it(small, result):
    # run the page file by itself, with the context app.py would publish
    at = AppTest.from_file(str(ROOT / PAGE), default_timeout=60)
    at.session_state[ui.context._KEY] = ui.context.Context(store=small)
    at.run()
    assert not at.exception
    assert not at.error, [e.value for e in at.error]
    lines = page_lines(at)
    qol = "Quality of life (VascuQoL-6, 6 to 24): month 6, median (IQR)"
    assert f"- {qol}: **17 (15.5-19); missing 1**" in lines
    aj = result.amputation[-1]
    assert f"- {aj.label}: **{text(aj)}**" in lines
    assert not [i.value for i in at.info if i.value.startswith("Not in this extract")]
    assert "The extract holds every item of the audit." in [c.value for c in at.caption]


def test_no_amputation_gives_zero_incidence_without_an_interval(small):
    # P6 and P7 (peroneal vein): no amputation; P7 dies on day 20
    result = audit_view(small, FilterState.parse(["XVEIN=PERONEAL VEIN"]), LANDMARK)
    aj = result.amputation[-1]
    assert isinstance(aj, Estimate)
    assert aj.estimate == 0
    assert text(aj) == "0.0% (95% CI not estimable)"
    assert count(result.item("Major amputation over the whole follow-up (crude)")) == (0, 2, 0)
