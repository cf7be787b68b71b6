"""Missing information is never shown as 0: reinterventions whose kind the data do not
say (a wide extract), Table 1 and 2 rows derived from other columns, prespecified
subgroups the data lack, on the analytics and on the pages (AppTest)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from analytics.analyses.audit import audit_view, text
from analytics.analyses.outcomes import reinterventions
from analytics.analyses.procedure import procedure_view
from analytics.analyses.subgroups import AGE_SPLIT, SubgroupAnalysis
from analytics.analyses.tables import table1_view, table2_view
from analytics.model.filters import FilterState
from analytics.model.labels import DEFAULT as DEFAULT_LABELS
from analytics.report.frames import subgroup_frame
from analytics.store import DEMO_DIR, Store
from tests.helpers import demo, wide_frame  # a reintervention is a date there: its kind is lost

ROOT = Path(__file__).resolve().parents[2]
APP = str(ROOT / "app.py")
LANDMARK = 183


@pytest.fixture(scope="module")
def wide_dir(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("wide")
    wide_frame().to_csv(folder / "wide.csv", index=False)
    return folder


@pytest.fixture(scope="module")
def wide_store(wide_dir):
    store = Store.open(wide_dir)
    yield store
    store.close()


def page_lines(at: AppTest) -> list[str]:
    return [line for m in at.main.markdown for line in m.value.splitlines()]


def open_app(monkeypatch: pytest.MonkeyPatch, folder: Path, page: str) -> AppTest:
    monkeypatch.setenv("DVA_DATA_DIR", str(folder))
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    assert not at.exception
    at.switch_page(page).run()
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    return at


# --- reinterventions of unknown kind -------------------------------------------------------


def test_wide_extract_audit_says_the_kind_is_not_recorded(wide_store, demo_store):
    result = audit_view(wide_store, FilterState(), LANDMARK)
    demo_result = audit_view(demo_store, FilterState(), LANDMARK)
    within = f"within {LANDMARK} days"
    any_ = result.item(f"Any reintervention {within}")
    assert text(any_) == text(demo_result.item(f"Any reintervention {within}"))
    assert any_.n is not None
    assert any_.n > 0
    for which in ("planned", "unplanned"):
        item = result.item(f"First reintervention {which}, {within}")
        shown = text(item)
        assert shown.startswith("not recorded")
        assert f"kind not recorded for {any_.n} patients" in shown
        assert "0.0%" not in shown
        assert not shown.startswith("0/")
        # the demo itself records the kind: there the count is shown
        known = text(demo_result.item(f"First reintervention {which}, {within}"))
        assert known[0].isdigit()
        assert "not recorded" not in known


def test_wide_extract_audit_page_never_shows_zero_planned(monkeypatch, wide_dir, wide_store):
    at = open_app(monkeypatch, wide_dir, "pages/audit.py")
    lines = page_lines(at)
    expected = audit_view(wide_store, FilterState(), LANDMARK)
    for it in expected.reinterventions:
        assert f"- {it.label}: **{text(it)}**" in lines
    planned = [x for x in lines if "First reintervention planned" in x]
    assert len(planned) == 2
    assert all("not recorded" in x and "0.0%" not in x for x in planned)


def test_wide_extract_patients_page_never_shows_zero_planned(monkeypatch, wide_dir, wide_store):
    at = open_app(monkeypatch, wide_dir, "pages/patients.py")
    shown = {m.label: (m.value, m.delta) for m in at.metric}
    reint = audit_view(wide_store, FilterState(), LANDMARK).item(
        f"Any reintervention within {LANDMARK} days"
    )
    for title in ("First reintervention planned", "First reintervention unplanned"):
        value, delta = shown[title]
        assert value == "not recorded"
        assert delta == (
            f"kind not recorded for {reint.n} of {reint.n} patients with a reintervention"
        )


def test_demo_patients_page_shows_the_kinds(monkeypatch, demo_store):
    at = open_app(monkeypatch, DEMO_DIR, "pages/patients.py")
    shown = {m.label: (m.value, m.delta) for m in at.metric}
    result = audit_view(demo_store, FilterState(), LANDMARK)
    planned = result.item(f"First reintervention planned, within {LANDMARK} days")
    assert shown["First reintervention planned"] == (
        f"{100 * planned.n / planned.denominator:.1f}%",
        f"{planned.n} of {planned.denominator}",
    )


# --- Table 1 and 2 rows derived from other columns ------------------------------------------

# Black or Hispanic is known when either column says yes, and known not only when both
# are recorded and neither does: P1 no, P2 yes (race), P3 yes (ethnic group, race
# missing), P4 unknown (race missing, not Hispanic), P5 unknown (both missing), P6 no.
ADSL = pd.DataFrame(
    {
        "USUBJID": [f"P{i}" for i in range(1, 7)],
        "RACE": ["WHITE", "BLACK OR AFRICAN AMERICAN", "", "", "", "ASIAN"],
        "ETHNIC": [
            "NOT HISPANIC OR LATINO",
            "",
            "HISPANIC OR LATINO",
            "NOT HISPANIC OR LATINO",
            "",
            "NOT HISPANIC OR LATINO",
        ],
        "SMOKSTAT": ["CURRENT", "NEVER", "", "FORMER", "", "NEVER"],
        "CINFL": ["N", "Y", "N", "", "N", ""],
        "TECHSFL": ["Y"] * 6,
    }
)
ADTTE = pd.DataFrame(
    {
        "USUBJID": [f"P{i}" for i in range(1, 7)],
        "PARAMCD": ["AFS"] * 6,
        "AVAL": [10, 20, 30, 40, 50, 60],
        "CNSR": [0, 1, 0, 1, 0, 1],
    }
)


@pytest.fixture(scope="module")
def small_store(tmp_path_factory):
    folder = tmp_path_factory.mktemp("derived_rows")
    ADSL.to_csv(folder / "adsl.csv", index=False)
    ADTTE.to_csv(folder / "adtte.csv", index=False)
    store = Store.open(folder)
    yield store
    store.close()


def counted(row) -> tuple[int | None, int, int]:
    return row.n, row.denominator, row.missing


def test_derived_rows_count_among_patients_with_a_value(small_store):
    t1, t2 = table1_view(small_store, FilterState()), table2_view(small_store, FilterState())
    black = t1.row("Black, or Hispanic or Latino")
    assert counted(black) == (2, 4, 2)
    assert black.text() == "2/4 (50.0%); missing 2"
    assert counted(t1.row("History of smoking")) == (2, 4, 2)
    cin = t2.row("Free from contrast-induced nephropathy at 72 h")
    assert counted(cin) == (3, 4, 2)
    assert cin.text() == "3/4 (75.0%); missing 2"


def test_derived_rows_with_no_value_read_not_recorded(small_store):
    # CINFL of P4 and P6 is missing: nobody in view has a value
    filters = FilterState.from_mapping({"USUBJID": ["P4", "P6"]})
    t2 = table2_view(small_store, filters)
    cin = t2.row("Free from contrast-induced nephropathy at 72 h")
    assert counted(cin) == (0, 0, 2)
    value = t2.to_frame().set_index("Characteristic")["Value"]
    assert value["Free from contrast-induced nephropathy at 72 h"] == "not recorded; missing 2"


# --- subgroups the data lack, and the paper's age split --------------------------------------


def test_subgroups_page_on_an_extract_without_dialysis(monkeypatch, tmp_path):
    adsl = demo("adsl").drop(columns=["DIALFL", "AGEGR1"])
    adsl.to_csv(tmp_path / "adsl.csv", index=False)
    demo("adtte").to_csv(tmp_path / "adtte.csv", index=False)
    at = open_app(monkeypatch, tmp_path, "pages/subgroups.py")
    shown = at.dataframe[0].value
    store = Store.open(tmp_path)
    try:
        res = SubgroupAnalysis().fit(store.cohort(), "AFS").result_
    finally:
        store.close()
    expected = subgroup_frame(res.in_words(DEFAULT_LABELS))
    cols = ["Variable", "Level", "n", "Events", "Missing", "Note"]
    assert (
        shown[cols]
        .astype(str)
        .replace({"None": "nan", "<NA>": "nan"})
        .equals(expected[cols].astype(str).replace({"None": "nan", "<NA>": "nan"}))
    )
    dial = shown[shown["Variable"] == "On dialysis"]
    assert len(dial) == 1
    assert dial["Note"].iloc[0].startswith("not in the data")
    age = shown[shown["Variable"] == AGE_SPLIT.plain_label]
    assert list(age["Level"]) == list(AGE_SPLIT.words)
    captions = " ".join(c.value for c in at.caption)
    assert "heterogeneity across levels (log-rank)" in captions


def test_wide_extract_patency_page_never_shows_zero_planned(monkeypatch, wide_dir, wide_store):
    at = open_app(monkeypatch, wide_dir, "pages/patency.py")
    shown = {m.label: (m.value, m.delta) for m in at.metric}
    reint = reinterventions(wide_store.cohort(), 183)
    assert reint.patients > 0
    for title in ("Planned", "Unplanned"):
        assert shown[title] == (
            "not recorded",
            f"kind not recorded for {reint.patients} of {reint.patients} patients with a "
            "reintervention",
        )


def test_procedure_summary_counts_unrecorded_kinds_as_missing(wide_store, demo_store):
    proc = procedure_view(wide_store, FilterState())
    reint = reinterventions(wide_store.cohort(), proc.reintervention_day)
    for row in (proc.planned, proc.unplanned):
        assert row.missing == reint.kind_not_recorded > 0
        assert row.denominator == reint.denominator - reint.kind_not_recorded
        assert row.n == 0
    demo = procedure_view(demo_store, FilterState())
    assert demo.planned.missing == 0
    assert demo.planned.n > 0


def test_without_technical_success_records_every_patient_is_the_denominator(tmp_path):
    # an extract with no TECHSFL column: the store keeps it, empty; the denominators of
    # reinterventions and procedural success must be every patient, on every path
    folder = tmp_path / "no_techsfl"
    shutil.copytree(DEMO_DIR, folder)
    adsl = pd.read_csv(folder / "adsl.csv", dtype=str, keep_default_na=False)
    adsl.drop(columns="TECHSFL").to_csv(folder / "adsl.csv", index=False)
    store = Store.open(folder)
    try:
        cohort = store.cohort()
        t2 = table2_view(store, FilterState())
        for label in ("Reintervention within 183 days", "Procedural success (at 30 days)"):
            row = t2.row(label)
            assert row.denominator == cohort.n
            assert row.n is not None
            assert row.n > 0
        assert reinterventions(cohort, 183).denominator == cohort.n
        within = audit_view(store, FilterState(), LANDMARK).item(
            "Any reintervention within 183 days"
        )
        assert (within.n, within.denominator) == (
            reinterventions(cohort, 183).patients, cohort.n
        )
    finally:
        store.close()
