"""The subgroup analysis from aggregates (analytics.analyses.subgroup_counts) equals the
per-patient one (analytics.analyses.subgroups) field for field, on the demo and on a small
extract with missing values and empty columns."""

from __future__ import annotations

import pandas as pd
import pytest

from analytics.analyses.subgroup_counts import subgroup_counts, subgroup_view
from analytics.analyses.subgroups import AGE_SPLIT, DEFAULT_SUBGROUPS, SubgroupAnalysis
from analytics.model.filters import FilterState
from analytics.store import Store

FILTERS = (
    FilterState(),
    FilterState.from_mapping({"DIALFL": ["Y"]}),
    FilterState.from_mapping({"SEX": ["F"]}),
    FilterState.parse(["AGEGR1=>70", "DIABFL=N"]),
    FilterState.parse(["BMI>=30"]),
)
# numeric columns with many values are split at the median; SITEID, DIABTYP (missing for
# patients without diabetes) and the procedure columns are other kinds of level
VARIABLES = [
    *DEFAULT_SUBGROUPS,
    "SMOKSTAT",
    "BMI",
    "AGE",
    "SITEID",
    "DIABTYP",
    "CKDFL",
    "PROCMIN",
    "XVEIN",
    "NOOPTRS",
]
SETTINGS = (
    {},
    {"ci_type": "plain", "min_n": 15},
    {"ci_type": "log", "max_levels": 3, "references": {"SEX": "F"}},
    {"ties": "breslow", "min_events": 3, "landmark": 365},
)


def per_patient(store: Store, filters: FilterState, endpoint: str, variables, **settings):
    cohort = store.cohort(filters)
    if cohort.endpoint(endpoint).empty:
        return None
    return SubgroupAnalysis(**settings).fit(cohort, endpoint, variables).result_


@pytest.mark.parametrize("filters", FILTERS, ids=lambda f: f.describe())
@pytest.mark.parametrize("settings", SETTINGS, ids=str)
def test_equals_the_per_patient_analysis(demo_store, filters, settings):
    for endpoint in demo_store.endpoints():
        expected = per_patient(demo_store, filters, endpoint, VARIABLES, **settings)
        got = subgroup_view(demo_store, filters, endpoint, VARIABLES, **settings)
        assert got == expected, (endpoint, filters.describe())


def test_default_variables_and_the_result_shown(demo_store):
    filters = FilterState.from_mapping({"DIALFL": ["N"]})
    expected = SubgroupAnalysis().fit(demo_store.cohort(filters), "AFS").result_
    got = subgroup_view(demo_store, filters, "AFS")
    assert got == expected
    assert [v.variable for v in got.variables] == list(DEFAULT_SUBGROUPS)
    assert any(lv.hazard_ratio not in (None, 1.0) for v in got.variables for lv in v.levels)


def test_no_record_of_the_endpoint_is_none(demo_store):
    assert subgroup_view(demo_store, FilterState(), "NOT AN ENDPOINT") is None
    nobody = FilterState.parse(["AGE>=500"])
    assert demo_store.count(nobody) == 0
    assert subgroup_view(demo_store, nobody, "AFS") is None


def test_unknown_variable_is_refused_like_the_per_patient_path(demo_store):
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
    expected = per_patient(small_store, filters, "AFS", variables)
    got = subgroup_view(small_store, filters, "AFS", variables)
    assert got == expected
    assert got.label == expected.label
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
    aggregated path agrees with the per-patient one, names DIALFL as not in the data
    and splits age at 70 from AGE."""
    adsl = ADSL.drop(columns="DIALFL").assign(
        AGEGR1=["<65" if a < 65 else ("65-80" if a <= 80 else ">80") for a in ADSL["AGE"]]
    )
    adsl.to_csv(tmp_path / "adsl.csv", index=False)
    ADTTE.to_csv(tmp_path / "adtte.csv", index=False)
    store = Store.open(tmp_path)
    try:
        for filters in (FilterState(), FilterState.from_mapping({"SEX": ["F"]})):
            expected = per_patient(store, filters, "AFS", None)
            got = subgroup_view(store, filters, "AFS")
            assert got == expected
            dial = got.variable("DIALFL")
            assert (dial.levels, dial.p_interaction) == ((), None)
            assert (dial.note or "").startswith("not in the data")
            split = got.variable(AGE_SPLIT.name)
            assert [lv.level for lv in split.levels] == ["<=70", ">70"]
            own = subgroup_view(store, filters, "AFS", ["AGEGR1"]).variable("AGEGR1")
            assert own == per_patient(store, filters, "AFS", ["AGEGR1"]).variable("AGEGR1")
            assert {lv.level for lv in own.levels} == {"<65", "65-80"}
        counts = subgroup_counts(store, FilterState(), "AFS", AGE_SPLIT.name)
        assert set(counts["V"]) == {"<=70", ">70"}
        assert not counts.duplicated(["V", "AVAL", "EVENT"]).any()
        assert int(counts["N"].sum()) == len(ADTTE)
    finally:
        store.close()
