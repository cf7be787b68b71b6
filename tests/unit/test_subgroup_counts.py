"""The subgroup analysis of the patients in view from DuckDB counts
(analytics.analyses.subgroup_counts): the counts are those of the patients' own rows,
and the analysis on the demo and on a small extract with missing values and empty
columns."""

from __future__ import annotations

import pandas as pd
import pytest

from analytics.analyses.subgroup_counts import subgroup_counts, subgroup_view
from analytics.analyses.subgroups import AGE_SPLIT, DEFAULT_SUBGROUPS
from analytics.model.filters import FilterState
from analytics.model.schema import ENDPOINTS
from analytics.store import Store

FILTERS = (
    FilterState(),
    FilterState.from_mapping({"DIALFL": ["Y"]}),
    FilterState.from_mapping({"SEX": ["F"]}),
    FilterState.parse(["AGEGR1=>70", "DIABFL=N"]),
    FilterState.parse(["BMI>=30"]),
)


def row_counts(store: Store, filters: FilterState, endpoint: str, variable: str):
    """The (V, AVAL, EVENT, N) counts of the patients' own rows, V the variable's value
    (a derived variable's level)."""
    cohort = store.cohort(filters)
    rows = cohort.endpoint(endpoint)[["USUBJID", "AVAL", "CNSR"]]
    column = AGE_SPLIT.source if variable == AGE_SPLIT.name else variable
    data = rows.merge(cohort.adsl[["USUBJID", column]], on="USUBJID")
    values = data[column]
    if variable == AGE_SPLIT.name:
        values = AGE_SPLIT.level_of(values)
    data = data.assign(V=values, EVENT=(data["CNSR"] == 0).astype(int), N=1)
    return data.groupby(["V", "AVAL", "EVENT"], dropna=False, as_index=False)["N"].sum()


def tidy(counts: pd.DataFrame) -> pd.DataFrame:
    """Counts in one form: a missing value spelled one way, rows in one order."""
    v = counts["V"].astype(object).where(counts["V"].notna(), "<missing>").astype(str)
    out = counts.assign(V=v).astype({"EVENT": int, "N": int})
    return out.sort_values(["V", "AVAL", "EVENT"]).reset_index(drop=True)


@pytest.mark.parametrize("filters", FILTERS, ids=lambda f: f.describe())
def test_sql_counts_equal_the_counts_of_the_patient_rows(demo_store, filters):
    """The one check that DuckDB's counts are the patients' rows counted: every
    analysis of counts then gives the numbers of the rows they stand for."""
    for endpoint in ("AFS", "OS"):
        for variable in (*DEFAULT_SUBGROUPS, "BMI", "DIABTYP", "SITEID"):
            got = tidy(subgroup_counts(demo_store, filters, endpoint, variable))
            want = tidy(row_counts(demo_store, filters, endpoint, variable))
            pd.testing.assert_frame_equal(got, want, check_dtype=False)


def test_default_variables_and_the_result_shown(demo_store):
    filters = FilterState.from_mapping({"DIALFL": ["N"]})
    got = subgroup_view(demo_store, filters, "AFS")
    assert got.n == demo_store.tte_counts(filters, "AFS")["N"].sum()
    assert [v.variable for v in got.variables] == list(DEFAULT_SUBGROUPS)
    assert any(lv.hazard_ratio not in (None, 1.0) for v in got.variables for lv in v.levels)


def test_no_record_of_the_endpoint_is_none(demo_store):
    assert subgroup_view(demo_store, FilterState(), "NOT AN ENDPOINT") is None
    nobody = FilterState.parse(["AGE>=500"])
    assert demo_store.count(nobody) == 0
    assert subgroup_view(demo_store, nobody, "AFS") is None


def test_unknown_variable_is_refused(demo_store):
    with pytest.raises(ValueError, match="unknown subject column"):
        subgroup_view(demo_store, FilterState(), "AFS", ["SEX", "NOT_A_COLUMN"])
    with pytest.raises(ValueError, match="unknown subject column"):
        subgroup_view(demo_store, FilterState(), "AFS", ["USUBJID"])


def test_counts_add_up_to_the_endpoint_records(demo_store):
    filters = FilterState.from_mapping({"SEX": ["M"]})
    counts = subgroup_counts(demo_store, filters, "OS", "DIALFL")
    records = demo_store.cohort(filters).endpoint("OS")
    assert int(counts["N"].sum()) == len(records)
    assert int((counts["N"] * counts["EVENT"]).sum()) == int((records["CNSR"] == 0).sum())


# A small extract: a numeric column with missing values and more than 12 values, a
# level of one patient, columns nobody has (the store keeps them, empty); the endpoint's
# PARAM text differs between records (the label is the first patient's) or is absent.
ADSL = pd.DataFrame(
    {
        "USUBJID": [f"P{i:02d}" for i in range(30)],
        "SEX": ["M", "F"] * 15,
        "DIALFL": ["Y"] * 9 + ["N"] * 21,
        "AGE": [50 + i for i in range(30)],
        "BMI": [None, None] + [20 + 0.5 * i for i in range(28)],
        "SMOKSTAT": ["NEVER"] * 20 + ["FORMER"] * 9 + ["CURRENT"],
    }
)
ADTTE = pd.DataFrame(
    {
        "USUBJID": [f"P{i:02d}" for i in range(30)],
        "PARAMCD": ["AFS"] * 30,
        "AVAL": [float(10 * (i % 7) + 5) for i in range(30)],
        "CNSR": [0 if i % 3 else 1 for i in range(30)],
        "EVNTDESC": ["DEATH" if i % 3 else "LAST CONTACT" for i in range(30)],
    }
)


@pytest.fixture(scope="module", params=["PARAM varies", "no PARAM"])
def small_store(request, tmp_path_factory):
    folder = tmp_path_factory.mktemp("subgroup_counts")
    ADSL.to_csv(folder / "adsl.csv", index=False)
    adtte = ADTTE
    if request.param == "PARAM varies":
        texts = ["Amputation-free survival", "AFS (earlier wording)"]
        adtte = ADTTE.assign(PARAM=[texts[i % 2] for i in range(len(ADTTE))])
    adtte.to_csv(folder / "adtte.csv", index=False)
    store = Store.open(folder)
    yield store
    store.close()


@pytest.mark.parametrize(
    "filters",
    [FilterState(), FilterState.from_mapping({"SEX": ["F"]})],
    ids=lambda f: f.describe(),
)
def test_small_extract_with_missing_and_empty_columns(small_store, filters):
    variables = [*DEFAULT_SUBGROUPS, "AGE", "BMI", "SMOKSTAT"]
    got = subgroup_view(small_store, filters, "AFS", variables)
    # the first patient's PARAM in view (P00 for all, P01 among women), else the schema's
    params = small_store.cohort(filters).endpoint("AFS").get("PARAM")
    first = ENDPOINTS["AFS"] if params is None or params.isna().all() else params.iloc[0]
    assert got.label == first
    bmi = got.variable("BMI")
    assert bmi.n_missing == (2 if not filters else 1)
    assert len(bmi.levels) == 2  # split at the median
    # prespecified columns the extract lacks come back named, not silently empty
    for name in ("DIABFL", "RACE", "ETHNIC", "RUTHCAT"):
        var = got.variable(name)
        assert var.levels == ()
        assert var.note == f"not in the data (no {name} recorded for these patients)"
        assert var.n_missing == got.n
    # the extract has no AGEGR1: the paper's age split comes from AGE, on both paths
    split = got.variable(AGE_SPLIT.name)
    ages = ADSL.loc[ADSL["SEX"].isin(["F"] if filters else ["M", "F"]), "AGE"]
    assert [(lv.level, lv.n) for lv in split.levels] == [
        ("<=70", int((ages <= 70).sum())),
        (">70", int((ages > 70).sum())),
    ]


def test_extract_without_dialysis_and_with_other_age_groups(tmp_path):
    """A prespecified column absent (DIALFL) and AGEGR1 in CDISC pilot groups: the
    analysis names DIALFL as not in the data and splits age at 70 from AGE."""
    adsl = ADSL.drop(columns="DIALFL").assign(
        AGEGR1=["<65" if a < 65 else ("65-80" if a <= 80 else ">80") for a in ADSL["AGE"]]
    )
    adsl.to_csv(tmp_path / "adsl.csv", index=False)
    ADTTE.to_csv(tmp_path / "adtte.csv", index=False)
    store = Store.open(tmp_path)
    try:
        for filters in (FilterState(), FilterState.from_mapping({"SEX": ["F"]})):
            got = subgroup_view(store, filters, "AFS")
            dial = got.variable("DIALFL")
            assert (dial.levels, dial.p_interaction) == ((), None)
            assert (dial.note or "").startswith("not in the data")
            split = got.variable(AGE_SPLIT.name)
            assert [lv.level for lv in split.levels] == ["<=70", ">70"]
            own = subgroup_view(store, filters, "AFS", ["AGEGR1"]).variable("AGEGR1")
            assert {lv.level for lv in own.levels} == {"<65", "65-80"}
        counts = subgroup_counts(store, FilterState(), "AFS", AGE_SPLIT.name)
        assert set(counts["V"]) == {"<=70", ">70"}
        assert not counts.duplicated(["V", "AVAL", "EVENT"]).any()
        assert int(counts["N"].sum()) == len(ADTTE)
    finally:
        store.close()
