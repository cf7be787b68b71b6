"""The synthetic demo cohort is coherent, labelled and reproducible byte for byte."""

from __future__ import annotations

import filecmp

import pandas as pd
import pytest

from analytics.model.schema import ADAE, ADSL, ADTTE, VISITS
from analytics.store import DEMO_DIR
from data import generate_demo


@pytest.fixture(scope="module")
def raw():
    read = {"parse_dates": False, "keep_default_na": False, "na_values": [""]}
    return {
        name: pd.read_csv(DEMO_DIR / f"{name}.csv", **read)
        for name in ("adsl", "adtte", "visits", "adae")
    }


@pytest.fixture(scope="module")
def days(raw):
    adsl = raw["adsl"].set_index("USUBJID")
    proc = pd.to_datetime(adsl["PROCDT"])
    return pd.DataFrame(
        {
            "last": (pd.to_datetime(adsl["LSTCNTDT"]) - proc).dt.days,
            "death": (pd.to_datetime(adsl["DTHDT"]) - proc).dt.days,
        }
    )


def test_columns_follow_the_data_model(raw):
    for name, table in (("adsl", ADSL), ("adtte", ADTTE), ("visits", VISITS), ("adae", ADAE)):
        assert list(raw[name].columns) == list(table.required_names), name


def test_one_row_per_patient_and_per_endpoint(raw):
    assert raw["adsl"]["USUBJID"].is_unique
    assert not raw["adtte"].duplicated(["USUBJID", "PARAMCD"]).any()
    assert set(raw["adtte"]["USUBJID"]) == set(raw["adsl"]["USUBJID"])


def test_codes_are_those_of_the_data_model(raw):
    for name, table in (("adsl", ADSL), ("visits", VISITS), ("adae", ADAE)):
        for col in table.columns:
            allowed = col.allowed
            if allowed:
                seen = set(raw[name][col.name].dropna().astype(str))
                assert seen <= set(allowed), (name, col.name, seen - set(allowed))
    assert set(raw["adtte"]["CNSR"]) <= {0, 1, 2, 3, 4, 5}


def test_manifest_says_synthetic():
    import json

    manifest = json.loads((DEMO_DIR / "dataset.json").read_text())
    assert manifest["synthetic"] is True
    assert "synthetic" in manifest["notice"].lower()
    assert "not patient data" in manifest["notice"].lower()


def test_afs_is_the_earlier_of_amputation_and_death(raw):
    tte = raw["adtte"].pivot(index="USUBJID", columns="PARAMCD", values=["AVAL", "CNSR"])
    afs_t, ls_t, os_t = tte[("AVAL", "AFS")], tte[("AVAL", "LS")], tte[("AVAL", "OS")]
    ls_event, os_event = tte[("CNSR", "LS")] == 0, tte[("CNSR", "OS")] == 0
    afs_event = tte[("CNSR", "AFS")] == 0
    expected = pd.concat([ls_t.where(ls_event), os_t.where(os_event)], axis=1).min(axis=1)
    assert (afs_event == (ls_event | os_event)).all()
    assert (afs_t[afs_event] == expected[afs_event]).all()
    # without an event every endpoint is censored at the same last contact
    assert (afs_t[~afs_event] == os_t[~afs_event]).all()


def test_nothing_happens_after_last_contact_or_death(raw, days):
    tte = raw["adtte"].join(days, on="USUBJID")
    assert (tte["AVAL"] <= tte["last"]).all()
    dead = tte["death"].notna()
    assert (tte.loc[dead, "AVAL"] <= tte.loc[dead, "death"]).all()
    vis = raw["visits"].join(days, on="USUBJID")
    assert (vis["ADY"] <= vis["last"]).all()
    ae = raw["adae"].join(days, on="USUBJID")
    assert (ae["ASTDY"] <= ae["last"]).all()
    # the dead are last seen on the day they die
    assert (
        days.loc[days["death"].notna(), "last"] == days.loc[days["death"].notna(), "death"]
    ).all()


def test_adt_is_startdt_plus_aval(raw):
    tte = raw["adtte"]
    adt = pd.to_datetime(tte["STARTDT"]) + pd.to_timedelta(tte["AVAL"], unit="D")
    assert (adt == pd.to_datetime(tte["ADT"])).all()


def test_patency_tiers_are_nested(raw):
    pat = raw["adtte"][raw["adtte"]["PARAMCD"].isin(["PP", "PAP", "SP"])]
    wide = pat.pivot(index="USUBJID", columns="PARAMCD", values=["AVAL", "CNSR"])
    t, c = wide["AVAL"], wide["CNSR"]
    assert (t["PP"] <= t["PAP"]).all()
    assert (t["PAP"] <= t["SP"]).all()
    # a lost secondary patency implies lost primary-assisted and primary patency
    assert ((c["SP"] != 0) | (c["PAP"] == 0)).all()
    assert ((c["PAP"] != 0) | (c["PP"] == 0)).all()


def test_technical_failure_has_no_patency_data(raw):
    fail = set(raw["adsl"].loc[raw["adsl"]["TECHSFL"] == "N", "USUBJID"])
    assert len(fail) == 1
    codes = set(raw["adtte"].loc[raw["adtte"]["USUBJID"].isin(fail), "PARAMCD"])
    assert codes == {"AFS", "LS", "OS"}
    assert set(raw["adsl"].loc[raw["adsl"]["TECHSFL"] == "N", "EOSSTT"]) == {"WITHDRAWN"}


def test_dates_are_in_order(raw):
    adsl = raw["adsl"]
    enrl, proc, last = (pd.to_datetime(adsl[c]) for c in ("ENRLDT", "PROCDT", "LSTCNTDT"))
    assert (enrl <= proc).all()
    assert (proc < last).all()
    vis = raw["visits"].sort_values(["USUBJID", "AVISITN"])
    assert (vis.groupby("USUBJID")["ADY"].diff().dropna() > 0).all()


def test_wound_status_agrees_with_area(raw):
    vis = raw["visits"].merge(
        raw["visits"].loc[raw["visits"]["AVISIT"] == "BASELINE", ["USUBJID", "WNDAREA"]],
        on="USUBJID",
        suffixes=("", "_BASE"),
    )
    healed = vis["WNDSTAT"] == "HEALED"
    assert (vis.loc[healed, "WNDAREA"] == 0).all()
    healing = vis["WNDSTAT"] == "HEALING"
    assert (vis.loc[healing, "WNDAREA"] < vis.loc[healing, "WNDAREA_BASE"]).all()
    assert (vis.loc[healing, "WNDAREA"] > 0).all()
    # all wounds healed only where the target wound has healed or was removed by amputation
    allh = vis["ALLHLFL"] == "Y"
    assert (
        vis.loc[allh, "WNDSTAT"]
        .isin(["HEALED"])
        .where(vis.loc[allh, "WNDSTAT"].notna(), True)
        .all()
    )


def test_wounds_heal_over_the_visits_as_in_a_real_cohort(raw, published):
    vis = raw["visits"][raw["visits"]["WNDSTAT"].notna()]
    share = vis.groupby("AVISITN")["WNDSTAT"].apply(lambda s: (s == "HEALED").mean())
    # healing rises visit by visit (no jump from none to a fixed count), some before month 3
    assert share.is_monotonic_increasing, share
    assert share.loc[3.0] > 0
    assert share.loc[12.0] > share.loc[6.0]
    healed_after = vis.groupby("AVISITN")["WNDSTAT"].apply(lambda s: int((s == "HEALED").sum()))
    assert healed_after.loc[9.0] != healed_after.loc[6.0] != healed_after.loc[12.0]
    # and the 6-month counts stay the published ones
    six = published["outcomes_6_months"]
    at6 = vis[vis["AVISIT"] == "MONTH 6"]["WNDSTAT"]
    assert int((at6 == "HEALED").sum()) == six["target_wound_healed"]["n"]
    assert int((at6 == "HEALING").sum()) == six["target_wound_healing"]["n"]


def test_regenerating_reproduces_the_files_byte_for_byte(tmp_path, published):
    from tests.helpers import PUBLISHED

    assert published  # the targets file is present
    generate_demo.main(["--targets", str(PUBLISHED), "--out", str(tmp_path)])
    names = sorted(p.name for p in DEMO_DIR.iterdir() if p.suffix in (".csv", ".json"))
    match, mismatch, errors = filecmp.cmpfiles(DEMO_DIR, tmp_path, names, shallow=False)
    assert not mismatch, mismatch
    assert not errors, errors
    assert sorted(match) == names


def test_data_readme_documents_every_column():
    from analytics.model.schema import TABLES

    text = (DEMO_DIR.parent / "README.md").read_text(encoding="utf-8")
    for table in TABLES.values():
        assert f"### `{table.name}`" in text
        for col in table.columns:
            assert f"| `{col.name}` |" in text, (table.name, col.name)
