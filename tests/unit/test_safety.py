"""Adverse events, minor amputations, deaths (analytics.analyses.safety), the procedure summary
(analytics.analyses.procedure) and the table layouts (analytics.report.frames), on a small
extract whose answers are counted by hand."""

from __future__ import annotations

import io

import pandas as pd
import pytest

from analytics.analyses.procedure import procedure_view
from analytics.analyses.safety import MINOR_AMPUTATION_TERMS, safety_view
from analytics.analyses.subgroups import SubgroupAnalysis
from analytics.analyses.tables import table1_view
from analytics.model.filters import FilterState
from analytics.report.frames import side_by_side, stack, subgroup_frame, table_csv
from analytics.store import Store

ADSL = pd.DataFrame(
    {
        "USUBJID": ["P1", "P2", "P3", "P4", "P5"],
        "AGE": [60, 75, 70, 80, 55],
        "SEX": ["M", "F", "M", "M", "F"],
        "DIALFL": ["Y", "N", "N", "Y", "N"],
        "RUTHCAT": [5, 6, 6, 5, 5],
        "TECHSFL": ["Y", "Y", "Y", "Y", "N"],
        "PROCMIN": [100, 200, 300, 400, ""],
        "CINFL": ["N", "N", "Y", "N", "N"],
        "PROCDT": ["2021-01-01"] * 5,
        "DTHFL": ["N", "N", "Y", "Y", "N"],
        "DTHCAUS": ["", "", "", "COVID-19", ""],
    }
)
# AFS: P1 amputation day 20; REINT: P2 day 10 (planned), P3 day 100 (unplanned)
ADTTE = pd.DataFrame(
    {
        "USUBJID": ["P1", "P2", "P3", "P4", "P5", "P1", "P2", "P3", "P4"],
        "PARAMCD": ["AFS"] * 5 + ["REINT"] * 4,
        "AVAL": [20, 364, 364, 300, 30, 20, 10, 100, 300],
        "CNSR": [0, 1, 1, 0, 3, 5, 0, 0, 4],
        "EVNTDESC": [
            "MAJOR AMPUTATION",
            "LC",
            "LC",
            "DEATH",
            "WD",
            "MAJOR AMPUTATION",
            "PLANNED REINTERVENTION",
            "UNPLANNED REINTERVENTION",
            "DEATH",
        ],
    }
)
ADAE = pd.DataFrame(
    [
        # USUBJID, AESEQ, AETERM, AESER, AEDEVFL, ASTDY, AEOUT
        ("P1", 1, "TOE AMPUTATION", "N", "N", 5, "NOT FATAL"),
        ("P1", 2, "TOE AMPUTATION", "N", "N", 15, "NOT FATAL"),
        ("P1", 3, "CIRCUIT OCCLUSION", "Y", "Y", 100, "NOT FATAL"),
        ("P2", 1, "PNEUMONIA", "Y", "N", 40, "NOT FATAL"),
        ("P2", 2, "TRANSMETATARSAL AMPUTATION OR REVISION", "N", "N", 200, "NOT FATAL"),
        ("P3", 1, "PNEUMONIA", "Y", "N", 300, "FATAL"),
    ],
    columns=["USUBJID", "AESEQ", "AETERM", "AESER", "AEDEVFL", "ASTDY", "AEOUT"],
)


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    folder = tmp_path_factory.mktemp("safety")
    for name, frame in (("adsl", ADSL), ("adtte", ADTTE), ("adae", ADAE)):
        frame.to_csv(folder / f"{name}.csv", index=False)
    s = Store.open(folder)
    yield s
    s.close()


EVERYONE = FilterState()


def test_adverse_events_within_the_landmark(store):
    ae = safety_view(store, EVERYONE, 183)[0]
    assert (ae.n, ae.events) == (5, 4)
    assert (ae.any_patients, ae.serious_patients, ae.device_patients) == (2, 2, 1)
    # most patients first, then most events, then by name
    assert [t.term for t in ae.terms] == ["TOE AMPUTATION", "CIRCUIT OCCLUSION", "PNEUMONIA"]
    toe = ae.term("TOE AMPUTATION")
    assert (toe.patients, toe.events, toe.serious_events, toe.device_events) == (1, 2, 0, 0)
    occ = ae.term("CIRCUIT OCCLUSION")
    assert (occ.serious_patients, occ.device_patients, occ.device_events) == (1, 1, 1)
    assert ae.term("NOT THERE").patients == 0
    assert ae.share(ae.any_patients) == pytest.approx(2 / 5)


def test_adverse_events_whole_follow_up(store):
    ae = safety_view(store, EVERYONE, None)[0]
    assert (ae.events, ae.any_patients, ae.serious_patients) == (6, 3, 3)
    pn = ae.term("PNEUMONIA")
    assert (pn.patients, pn.events, pn.serious_patients, pn.fatal_events) == (2, 2, 2, 1)
    assert ae.terms[0].term == "PNEUMONIA"
    frame = ae.to_frame()
    assert list(frame["Term"]) == [t.term for t in ae.terms]
    assert list(frame["Patients"]) == [t.patients for t in ae.terms]


def test_minor_amputations(store):
    m = safety_view(store, EVERYONE, 183)[1]
    assert [t.term for t in m.terms] == list(MINOR_AMPUTATION_TERMS)  # zeros kept
    assert (m.patients, m.events) == (1, 2)
    assert m.term("TRANSMETATARSAL AMPUTATION OR REVISION").events == 0
    whole = safety_view(store, EVERYONE, None)[1]
    assert (whole.patients, whole.events) == (2, 3)
    with pytest.raises(KeyError):
        m.term("PNEUMONIA")


def test_deaths_by_cause(store):
    d = safety_view(store, EVERYONE)[2]
    assert (d.n, d.deaths) == (5, 2)
    assert [(c.cause, c.n) for c in d.causes] == [("COVID-19", 1), ("NOT RECORDED", 1)]
    assert d.cause("SEPSIS") == 0
    assert list(d.to_frame()["Share of deaths"]) == [0.5, 0.5]


def test_procedure_summary(store):
    p = procedure_view(store, EVERYONE, reintervention_day=183, procedural_day=30)
    assert (p.technical_success.n, p.technical_success.denominator) == (4, 5)
    # P1 amputated day 20, P2 reintervened day 10: 2 of 4 technical successes
    assert (p.procedural_success.n, p.procedural_success.denominator) == (2, 4)
    assert (p.reintervention.n, p.planned.n, p.unplanned.n) == (2, 1, 1)
    assert p.planned.denominator == 4
    assert (p.procedure_time.median, p.procedure_time.missing) == (250.0, 1)
    assert (p.cin_free.n, p.cin_free.denominator) == (4, 5)
    early = procedure_view(store, EVERYONE, reintervention_day=30)
    assert (early.reintervention.n, early.planned.n, early.unplanned.n) == (1, 1, 0)
    assert list(p.to_frame()["Measure"]) == [r.label for r in p.rows]


def test_empty_cohort(store):
    nobody = FilterState.parse(["SEX=X"])
    ae, minor, dead = safety_view(store, nobody)
    assert (ae.n, ae.any_patients, ae.terms, ae.share(0)) == (0, 0, (), None)
    assert minor.patients == 0
    assert dead.deaths == 0
    assert procedure_view(store, nobody).technical_success.denominator == 0


# --- frames ---------------------------------------------------------------------------------


def test_subgroup_frame_has_every_level(demo_cohort):
    res = SubgroupAnalysis().fit(demo_cohort, "AFS", ["SEX", "RACE", "SITEID"]).result_
    frame = subgroup_frame(res)
    levels = [(v.label, lv.level) for v in res.variables for lv in v.levels]
    shown = [
        (a, b) for a, b in zip(frame["Variable"], frame["Level"], strict=True) if isinstance(b, str)
    ]
    assert shown == levels
    race = res.variable("RACE")
    for lv in race.levels:
        row = frame[(frame["Variable"] == race.label) & (frame["Level"] == lv.level)].iloc[0]
        assert (row["n"], row["Events"]) == (lv.n, lv.events)
        if lv.estimate is None:
            assert pd.isna(row["Estimate"])
        else:
            assert row["Estimate"] == lv.estimate
        if lv.reason:
            assert lv.reason in row["Note"]  # too small to estimate: said so
        assert row["Heterogeneity p"] == race.p_interaction
    # a variable with too many levels keeps one row with its note
    site = frame[frame["Variable"] == res.variable("SITEID").label]
    assert len(site) == 1
    assert site["Note"].iloc[0] == res.variable("SITEID").note


def test_side_by_side_and_stack(store):
    groups = {
        "All": table1_view(store, EVERYONE),
        "Dialysis": table1_view(store, FilterState.parse(["DIALFL=Y"])),
    }
    frame = side_by_side(groups)
    assert list(frame.columns) == ["Section", "Characteristic", "All (n = 5)", "Dialysis (n = 2)"]
    male = frame[(frame["Section"] == "Sex") & (frame["Characteristic"] == "Male")].iloc[0]
    assert male["All (n = 5)"] == groups["All"].row("Male", "Sex").text()
    assert male["Dialysis (n = 2)"] == groups["Dialysis"].row("Male", "Sex").text()
    assert list(frame["Characteristic"]) == list(groups["All"].to_frame()["Characteristic"])
    stacked = stack({"a": pd.DataFrame({"x": [1]}), "b": pd.DataFrame({"x": [2]})}, "Group")
    assert list(stacked.columns) == ["Group", "x"]
    assert list(stacked["Group"]) == ["a", "b"]


def test_table_csv_names_the_filters(store):
    dialysis = FilterState.parse(["DIALFL=Y"])
    ae = safety_view(store, dialysis)[0]
    view = f"Filters: {dialysis.describe()}"
    data = table_csv(ae.to_frame(), "Adverse events", view, ae.provenance)
    lines = data.decode().splitlines()
    assert lines[0] == "# Adverse events"
    assert lines[1] == f"# Filters: {dialysis.describe()}"
    assert "DIALFL=Y" in lines[1]
    back = pd.read_csv(io.BytesIO(data), comment="#")
    pd.testing.assert_frame_equal(back, ae.to_frame(), check_dtype=False)
