"""Table 1, Table 2, the procedure summary and the safety tables are counted from
DuckDB value counts and the few rows each needs (analytics.analyses.tables, .procedure,
.safety): those counts equal the counts of the patients' own rows, on the demo and on
small extracts with missing values, blank causes of death, empty columns and no
adverse-event table."""

from __future__ import annotations

import pandas as pd
import pytest

from analytics.analyses.outcomes import procedural_success, reinterventions
from analytics.analyses.procedure import procedure_view
from analytics.analyses.safety import (
    adverse_event_cohort,
    adverse_event_table,
    deaths_view,
    minor_amputations,
    safety_view,
)
from analytics.analyses.tables import ColumnCounts, N, table1_view, table2_view
from analytics.model.filters import FilterState
from analytics.model.labels import DEFAULT as DEFAULT_LABELS
from analytics.store import Store

DAYS = (183, 30, 365, 10)


class RowCounts:
    """The value counts of a frame of patient rows, each patient weighing 1."""

    labels = DEFAULT_LABELS

    def __init__(self, adsl: pd.DataFrame) -> None:
        self.adsl = adsl
        self.n = len(adsl)

    def __contains__(self, column: object) -> bool:
        return column in self.adsl

    def of(self, *columns: str) -> pd.DataFrame:
        grouped = self.adsl.groupby(list(columns), dropna=False, sort=False)
        return grouped.size().reset_index(name=N)


def check_counts_equal_rows(store: Store, filters: FilterState) -> None:
    cohort = store.cohort(filters)
    rows = RowCounts(cohort.adsl)
    counts = ColumnCounts(store, filters)
    assert counts.n == cohort.n
    assert table1_view(store, filters) == table1_view(store, filters, rows)
    for day in DAYS:
        t2 = table2_view(store, filters, day, counts=counts)
        assert t2 == table2_view(store, filters, day, counts=rows), day
        # reinterventions and procedural success: the few rows read equal all rows
        reint, success = reinterventions(cohort, day), procedural_success(cohort, 14)
        row = table2_view(store, filters, day, 14).row(f"Reintervention within {day:g} days")
        assert (row.n, row.denominator) == (reint.patients, reint.denominator), day
        done = table2_view(store, filters, day, 14).row("Procedural success (at 14 days)")
        assert (done.n, done.denominator) == (success.n, success.denominator), day
        proc = procedure_view(store, filters, day, table2=t2)
        assert proc == procedure_view(store, filters, day), day
        assert (proc.planned.n, proc.unplanned.n, proc.planned.missing) == (
            reint.planned,
            reint.unplanned,
            reint.kind_not_recorded,
        ), day
    assert adverse_event_cohort(store, filters).adae.equals(cohort.adae)
    for day in (183, None, 30):
        ae, minor, dead = safety_view(store, filters, day)
        assert ae == adverse_event_table(cohort, day), day
        assert minor == minor_amputations(cohort, day), day
        assert dead == deaths_view(store, filters, rows)


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


SMALL = ("with adverse events", "without adverse events")


@pytest.fixture(scope="module")
def small_stores(tmp_path_factory):
    stores = {}
    for variant in SMALL:
        folder = tmp_path_factory.mktemp("patient_counts")
        ADSL.to_csv(folder / "adsl.csv", index=False)
        ADTTE.to_csv(folder / "adtte.csv", index=False)
        if variant == "with adverse events":
            ADAE.to_csv(folder / "adae.csv", index=False)
        stores[variant] = Store.open(folder)
    yield stores
    for store in stores.values():
        store.close()


@pytest.fixture(scope="module", params=SMALL)
def small_store(request, small_stores):
    return small_stores[request.param]


@pytest.mark.slow
@pytest.mark.parametrize(
    ("source", "filters"),
    [
        ("demo", FilterState()),
        ("demo", FilterState.parse(["AGEGR1=>70", "DIABFL=N"])),
        ("demo", FilterState.parse(["AGE>=500"])),  # nobody
        *(
            (variant, filters)
            for variant in SMALL
            for filters in (
                FilterState(),
                FilterState.from_mapping({"SEX": ["F"]}),
                FilterState.parse(["DIALFL!=Y"]),
            )
        ),
    ],
    ids=lambda x: x if isinstance(x, str) else x.describe(),
)
def test_store_counts_equal_the_counts_of_patient_rows(demo_store, small_stores, source, filters):
    store = demo_store if source == "demo" else small_stores[source]
    check_counts_equal_rows(store, filters)


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
