"""Table 1, Table 2, the procedure summary and the safety tables from aggregates
(analytics.analyses.patient_counts) equal the per-patient ones
(analytics.analyses.tables, .procedure, .safety) field for field, on the demo and on
small extracts with missing values,
blank causes of death, empty columns and no adverse-event table."""

from __future__ import annotations

import pandas as pd
import pytest

from analytics.analyses.patient_counts import (
    ColumnCounts,
    adverse_event_cohort,
    deaths_view,
    procedure_view,
    safety_view,
    table1_view,
    table2_view,
)
from analytics.analyses.procedure import procedure_summary
from analytics.analyses.safety import adverse_event_table, deaths, minor_amputations
from analytics.analyses.tables import table1, table2
from analytics.model.filters import FilterState
from analytics.store import Store

FILTERS = (
    FilterState(),
    FilterState.from_mapping({"DIALFL": ["Y"]}),
    FilterState.from_mapping({"SEX": ["F"]}),
    FilterState.parse(["AGEGR1=>70", "DIABFL=N"]),
    FilterState.parse(["BMI>=30"]),
    FilterState.parse(["AGE>=500"]),  # nobody
)
DAYS = (183, 30, 365, 10)


def check_all(store: Store, filters: FilterState) -> None:
    cohort = store.cohort(filters)
    counts = ColumnCounts(store, filters)
    assert counts.n == cohort.n
    assert table1_view(store, filters) == table1(cohort)
    assert table1_view(store, filters, counts) == table1(cohort)
    for day in DAYS:
        t2 = table2_view(store, filters, day, counts=counts)
        assert t2 == table2(cohort, reintervention_day=day), day
        assert table2_view(store, filters, day, 14) == table2(cohort, day, 14), day
        expected = procedure_summary(cohort, reintervention_day=day)
        assert procedure_view(store, filters, day) == expected, day
        assert procedure_view(store, filters, day, table2=t2) == expected, day
    for day in (183, None, 30):
        ae, minor, dead = safety_view(store, filters, day)
        assert ae == adverse_event_table(cohort, day), day
        assert minor == minor_amputations(cohort, day), day
        assert dead == deaths(cohort)
    assert deaths_view(store, filters) == deaths(cohort)


@pytest.mark.parametrize("filters", FILTERS, ids=lambda f: f.describe())
def test_demo_equals_the_per_patient_tables(demo_store, filters):
    check_all(demo_store, filters)


def test_demo_tables_are_not_trivial(demo_store):
    t1 = table1_view(demo_store, FilterState())
    assert t1.n == demo_store.count()
    assert t1.row("Median (range)", "Age, years").median is not None
    t2 = table2_view(demo_store, FilterState())
    assert t2.row("Technical success").n > 0
    assert t2.row("Reintervention within 183 days").n > 0
    ae, _, dead = safety_view(demo_store, FilterState(), None)
    assert ae.events > 0
    assert dead.deaths > 0


# A small extract: missing and blank values, a patient who is not a technical
# success, blank and missing causes of death, columns nobody has (kept empty), and
# adverse events only in the first variant.
ADSL = pd.DataFrame(
    {
        "USUBJID": ["P1", "P2", "P3", "P4", "P5", "P6"],
        "AGE": [60, 75, 70, 80, 55, None],
        "SEX": ["M", "F", "M", "M", "F", "F"],
        "RACE": ["WHITE", "BLACK OR AFRICAN AMERICAN", None, "ASIAN", "WHITE", "OTHER"],
        "DIALFL": ["Y", "N", "N", "Y", "N", None],
        "RUTHCAT": [5, 6, 6, 5, 5, None],
        "TECHSFL": ["Y", "Y", "Y", "Y", "N", "Y"],
        "PROCMIN": [100, 200, 300, 400, None, 250],
        "CINFL": ["N", "N", "Y", "N", "N", None],
        "DTHFL": ["N", "N", "Y", "Y", "N", "Y"],
        "DTHCAUS": ["", "", "", "COVID-19", "", None],
    }
)
ADTTE = pd.DataFrame(
    {
        "USUBJID": ["P1", "P2", "P3", "P4", "P5", "P6", "P1", "P2", "P3", "P4", "P6"],
        "PARAMCD": ["AFS"] * 6 + ["REINT"] * 5,
        "AVAL": [20, 364, 364, 300, 30, 25, 20, 10, 100, 300, 5],
        "CNSR": [0, 1, 1, 0, 3, 0, 5, 0, 0, 4, 0],
        "EVNTDESC": [
            "MAJOR AMPUTATION",
            "LC",
            "LC",
            "DEATH",
            "WD",
            "DEATH",
            "MAJOR AMPUTATION",
            "PLANNED REINTERVENTION",
            "UNPLANNED REINTERVENTION",
            "DEATH",
            "planned reintervention",
        ],
    }
)
ADAE = pd.DataFrame(
    [
        ("P1", 1, "TOE AMPUTATION", "N", "N", 5, "NOT FATAL"),
        ("P1", 2, "TOE AMPUTATION", "N", "N", 15, "NOT FATAL"),
        ("P2", 1, "PNEUMONIA", "Y", "N", 40, "NOT FATAL"),
        ("P3", 1, "PNEUMONIA", "Y", "N", 300, "FATAL"),
    ],
    columns=["USUBJID", "AESEQ", "AETERM", "AESER", "AEDEVFL", "ASTDY", "AEOUT"],
)


@pytest.fixture(scope="module", params=["with adverse events", "without adverse events"])
def small_store(request, tmp_path_factory):
    folder = tmp_path_factory.mktemp("patient_counts")
    ADSL.to_csv(folder / "adsl.csv", index=False)
    ADTTE.to_csv(folder / "adtte.csv", index=False)
    if request.param == "with adverse events":
        ADAE.to_csv(folder / "adae.csv", index=False)
    store = Store.open(folder)
    yield store
    store.close()


@pytest.mark.parametrize(
    "filters",
    [FilterState(), FilterState.from_mapping({"SEX": ["F"]}), FilterState.parse(["DIALFL!=Y"])],
    ids=lambda f: f.describe(),
)
def test_small_extract_equals_the_per_patient_tables(small_store, filters):
    check_all(small_store, filters)


def test_adverse_event_cohort_reads_no_patient_row(small_store):
    cohort = adverse_event_cohort(small_store, FilterState())
    assert cohort.n == len(ADSL)
    assert list(cohort.adsl.columns) == []


def test_derived_rows_leave_missing_values_out_of_the_denominator(small_store):
    # no ETHNIC column: only P2 (Black) is known; CINFL missing for P6
    t1 = table1_view(small_store, FilterState())
    black = t1.row("Black, or Hispanic or Latino")
    assert (black.n, black.denominator, black.missing) == (1, 1, 5)
    smoking = t1.row("History of smoking")
    assert (smoking.n, smoking.denominator, smoking.missing) == (0, 0, 6)
    assert t1.to_frame().set_index("Characteristic")["Value"]["History of smoking"] == (
        "not recorded; missing 6"
    )
    cin = table2_view(small_store, FilterState()).row(
        "Free from contrast-induced nephropathy at 72 h"
    )
    assert (cin.n, cin.denominator, cin.missing) == (4, 5, 1)
