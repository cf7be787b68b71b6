"""The synthetic registry generator (data/generate_registry.py): reproducible bytes, a
registry the loader reads without errors (Parquet and CSV, the data model and ADaM),
the requested size and missingness, coherent outcomes, and a real spread between sites.
Every expectation is computed here from the files, not copied from a run."""

from __future__ import annotations

import filecmp
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
from scipy import stats

from analytics.store import Store
from data import generate_registry
from data.registry_patients import Settings

N, K, STUDIES = 3000, 12, 3
# shares asked of the registry the tests read, away from the defaults so that an
# argument that is not passed on would show
ASKED = {
    "missing_bmi": 0.15,
    "missing_smoking": 0.1,
    "missing_race": 0.06,
    "lost": 0.1,
    "missing_visits": 0.12,
}


def make(
    out: Path, *extra: str, patients: int = N, sites: int = K, studies: int = STUDIES, seed: int = 7
) -> Path:
    args = [
        "--out",
        str(out),
        "--patients",
        str(patients),
        "--sites",
        str(sites),
        "--studies",
        str(studies),
        "--years",
        "2016-2024",
        "--seed",
        str(seed),
        *extra,
    ]
    assert generate_registry.main(args) == 0
    return out


def asked_args() -> list[str]:
    return [a for k, v in ASKED.items() for a in (f"--{k.replace('_', '-')}", str(v))]


def read(root: Path, table: str) -> pd.DataFrame:
    """One table of every study folder, dictionary columns as plain values."""
    paths = sorted(root.glob(f"*/{table}.parquet"))
    parts = [pq.read_table(p).to_pandas(date_as_object=False) for p in paths]
    frame = pd.concat(parts, ignore_index=True)
    for col in frame.columns:
        if isinstance(frame[col].dtype, pd.CategoricalDtype):
            frame[col] = frame[col].astype(object)
    return frame


def files(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


@pytest.fixture(scope="module")
def registry(tmp_path_factory) -> Path:
    return make(tmp_path_factory.mktemp("registry") / "reg", *asked_args(), "--chunk", "700")


@pytest.fixture
def own_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("DVA_CACHE_DIR", str(tmp_path / "cache"))


def test_same_arguments_and_seed_give_the_same_bytes(tmp_path, registry):
    again = make(tmp_path / "again", *asked_args(), "--chunk", "700")
    names = files(registry)
    assert len(names) == 1 + 4 * STUDIES  # the manifest and four tables per study
    _match, mismatch, errors = filecmp.cmpfiles(registry, again, names, shallow=False)
    assert (mismatch, errors) == ([], [])
    other = make(tmp_path / "other", *asked_args(), "--chunk", "700", seed=8)
    assert files(other) == names
    tables = [n for n in names if n.endswith(".parquet")]
    _, differ, _ = filecmp.cmpfiles(registry, other, tables, shallow=False)
    assert differ == tables


def loaded(folder: Path) -> tuple[Store, list]:
    store = Store.open(folder)
    quality = store.quality()
    assert all(f.rows_read == f.rows_used and f.rows_rejected == 0 for f in quality.files)
    assert [i for i in quality.issues if i.severity == "error"] == []
    return store, [i for i in quality.issues if i.severity == "warning"]


def check_counts(store: Store) -> None:
    assert store.registry
    assert store.count() == N
    assert len(store.group_sizes(None, "SITEID")) == K
    assert len(store.group_sizes(None, "STUDYID")) == STUDIES
    assert set(store.endpoints()) == {"AFS", "LS", "OS", "PP", "PAP", "SP", "REINT"}


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_the_data_model_loads_without_a_problem(fmt, tmp_path, registry, own_cache):
    folder = registry if fmt == "parquet" else make(tmp_path / "csv", "--format", "csv")
    assert {p.suffix for p in folder.glob("*/*")} == {f".{fmt}"}
    store, warnings = loaded(folder)
    try:
        check_counts(store)
        # not even a warning: every column of the data model, every code known, coherent
        assert warnings == []
        assert store.synthetic
        assert store.has_rows("visits")
        assert store.has_rows("adae")
    finally:
        store.close()


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_the_adam_flavour_loads_as_it_is(fmt, tmp_path, own_cache):
    folder = make(tmp_path / "adam", "--model", "adam", "--format", fmt)
    assert sorted(p.name for p in (folder / "SYNTH-REG-01").iterdir()) == [
        f"ADAE.{fmt}",
        f"ADSL.{fmt}",
        f"ADTTE.{fmt}",
    ]
    store, warnings = loaded(folder)
    try:
        check_counts(store)
        columns = store.subject_columns()
        assert {"TRT01A", "SAFFL", "ITTFL", "TRTSDT", "LSTALVDT", "DCSREAS"} <= set(columns)
        # the one documented warning: ADaM's own codes of EOSSTT and AEOUT are not the
        # data model's ("a code the data model does not know"), named once per value
        found = {(i.file.split("/")[1], i.column, i.value) for i in warnings}
        assert found == {
            (f"ADSL.{fmt}", "EOSSTT", "DISCONTINUED"),
            (f"ADAE.{fmt}", "AEOUT", "RECOVERED/RESOLVED"),
            (f"ADAE.{fmt}", "AEOUT", "RECOVERED/RESOLVED WITH SEQUELAE"),
        }
        assert len(warnings) == 3 * STUDIES
        assert all(i.message.startswith("not one of") for i in warnings)
    finally:
        store.close()
    if fmt == "parquet":
        tte = read(folder, "ADTTE")
        assert {"PARAMN", "STARTDT", "ADT", "CNSR", "EVNTDESC", "TRTA", "CNSDTDSC"} <= set(tte)
        assert tte.groupby("PARAMCD")["PARAMN"].nunique().eq(1).all()
        assert tte["CNSDTDSC"].isna().eq(tte["CNSR"] == 0).all()


def share_ok(observed: pd.Series, asked: float) -> None:
    """The share of True in `observed` is within four binomial standard errors."""
    se = np.sqrt(asked * (1 - asked) / len(observed))
    assert abs(observed.mean() - asked) < 4 * se, (observed.mean(), asked)


def test_missing_values_are_as_asked(registry):
    adsl = read(registry, "adsl")
    assert len(adsl) == N
    assert adsl["USUBJID"].is_unique
    share_ok(adsl["BMI"].isna(), ASKED["missing_bmi"])
    share_ok(adsl["SMOKSTAT"].isna(), ASKED["missing_smoking"])
    share_ok(adsl["RACE"].isna(), ASKED["missing_race"])
    lost = adsl["EOSSTT"] == "LOST TO FOLLOW-UP"
    share_ok(lost, ASKED["lost"])
    follow = (adsl["LSTCNTDT"] - adsl["PROCDT"]).dt.days
    # lost early: well before the planned three years, and never dead
    assert follow[lost].median() < 365
    assert follow[lost].max() < 1096
    assert adsl.loc[lost, "DTHDT"].isna().all()
    # the 6-month visit (day 169 to 197) is missed at the asked rate among patients
    # followed alive beyond its window
    visits = read(registry, "visits")
    m6 = set(visits.loc[visits["AVISIT"] == "MONTH 6", "USUBJID"])
    due = adsl[(follow > 197) & (adsl["DTHDT"].isna() | (follow > 198))]
    share_ok(~due["USUBJID"].isin(m6), ASKED["missing_visits"])


def test_outcomes_are_coherent(registry):
    adsl = read(registry, "adsl").set_index("USUBJID")
    tte = read(registry, "adtte")
    ae = read(registry, "adae")
    last = (adsl["LSTCNTDT"] - adsl["PROCDT"]).dt.days
    death = (adsl["DTHDT"] - adsl["PROCDT"]).dt.days
    amp = ae[ae["AETERM"] == "MAJOR AMPUTATION"].set_index("USUBJID")["ASTDY"]
    assert amp.index.is_unique
    assert 0 < len(amp) < N
    amp = amp.reindex(adsl.index).astype(float)
    ep = {
        code: rows.set_index("USUBJID").reindex(adsl.index) for code, rows in tte.groupby("PARAMCD")
    }
    # limb salvage: amputation recorded in adae; overall survival: death recorded in adsl
    assert ep["LS"]["CNSR"].eq(0).eq(amp.notna()).all()
    assert ep["LS"].loc[amp.notna(), "AVAL"].eq(amp[amp.notna()]).all()
    assert ep["OS"]["CNSR"].eq(0).eq(death.notna()).all()
    assert ep["OS"].loc[death.notna(), "AVAL"].eq(death[death.notna()]).all()
    # amputation-free survival: the earlier of the two, amputation winning a tie
    first = np.fmin(amp, death)
    afs = ep["AFS"]
    assert afs["CNSR"].eq(0).eq(first.notna()).all()
    assert afs.loc[first.notna(), "AVAL"].eq(first[first.notna()]).all()
    by_amp = amp.notna() & ~(death < amp)
    assert (afs.loc[by_amp, "EVNTDESC"] == "MAJOR AMPUTATION").all()
    assert (afs.loc[first.notna() & ~by_amp, "EVNTDESC"] == "DEATH").all()
    assert afs.loc[first.isna(), "AVAL"].eq(last[first.isna()]).all()
    assert (afs["CNSR"] > 0).sum() > 0
    assert (afs["CNSR"] == 0).sum() > 0
    # nothing after the last contact or after death; dates agree with day numbers
    assert (tte["ADT"] == tte["STARTDT"] + pd.to_timedelta(tte["AVAL"], unit="D")).all()
    assert (tte["AVAL"].to_numpy() <= last.loc[tte["USUBJID"]].to_numpy()).all()
    assert adsl.loc[death.notna(), "LSTCNTDT"].eq(adsl.loc[death.notna(), "DTHDT"]).all()
    assert (amp[amp.notna()] <= np.fmin(last, death.fillna(np.inf))[amp.notna()]).all()
    assert (ae["ASTDY"].to_numpy() <= last.loc[ae["USUBJID"]].to_numpy()).all()
    visits = read(registry, "visits")
    assert (visits["ADT"].to_numpy() <= adsl.loc[visits["USUBJID"], "LSTCNTDT"].to_numpy()).all()
    # the patency tiers are nested, and only technical successes have them
    pp, pap, sp = (ep[c].dropna(subset=["AVAL"]) for c in ("PP", "PAP", "SP"))
    assert (pp["AVAL"] <= pap["AVAL"]).all()
    assert (pap["AVAL"] <= sp["AVAL"]).all()
    assert set(pp.index) == set(adsl.index[adsl["TECHSFL"] == "Y"])


def afs_at_year(times: np.ndarray, events: np.ndarray) -> tuple[float, float]:
    """Kaplan-Meier at day 365 and its Greenwood variance, computed here by hand."""
    s, acc = 1.0, 0.0
    for t in np.unique(times[(events == 1) & (times <= 365)]):
        n = (times >= t).sum()
        d = ((times == t) & (events == 1)).sum()
        s *= 1 - d / n
        acc += d / (n * (n - d)) if n > d else 0.0
    return s, s * s * acc


def site_heterogeneity(root: Path) -> tuple[float, float]:
    """p of Cochran's Q over the sites' 1-year AFS, and the between-site sd."""
    adsl = read(root, "adsl")[["USUBJID", "SITEID"]]
    afs = read(root, "adtte").query("PARAMCD == 'AFS'").merge(adsl, on="USUBJID")
    est = np.array(
        [
            afs_at_year(g["AVAL"].to_numpy(), (g["CNSR"] == 0).to_numpy().astype(int))
            for _, g in afs.groupby("SITEID")
        ]
    )
    s, var = est[:, 0], est[:, 1]
    w = 1 / var
    q = float((w * (s - (w * s).sum() / w.sum()) ** 2).sum())
    # DerSimonian-Laird between-site variance
    tau2 = max(0.0, (q - (len(s) - 1)) / (w.sum() - (w * w).sum() / w.sum()))
    return float(stats.chi2.sf(q, len(s) - 1)), float(np.sqrt(tau2))


def test_sites_differ_more_than_chance_but_moderately(tmp_path):
    p, sd = site_heterogeneity(make(tmp_path / "sites", patients=12_000, sites=10, studies=1))
    assert p < 1e-6
    assert 0.02 < sd < 0.15  # a spread a funnel plot shows, not a registry of outliers
    # the same registry without site frailty and case mix: what is left is chance
    p0, _ = site_heterogeneity(
        make(
            tmp_path / "flat",
            "--site-sd",
            "0",
            "--case-mix-sd",
            "0",
            patients=12_000,
            sites=10,
            studies=1,
        )
    )
    assert p0 > 0.001


def test_risk_factors_act_in_the_demo_direction(registry):
    adsl = read(registry, "adsl").set_index("USUBJID")
    tte = read(registry, "adtte")
    afs = tte[tte["PARAMCD"] == "AFS"].set_index("USUBJID").reindex(adsl.index)
    event_by_year = (afs["CNSR"] == 0) & (afs["AVAL"] <= 365)
    for col in ("DIALFL", "DIABFL"):
        rates = event_by_year.groupby(adsl[col]).mean()
        assert rates["Y"] > rates["N"], col
    old = adsl["AGE"] > 75
    died = tte[(tte["PARAMCD"] == "OS")].set_index("USUBJID").reindex(adsl.index)["CNSR"] == 0
    assert died[old].mean() > died[~old].mean()


def test_help_says_every_patient_is_invented(capsys):
    with pytest.raises(SystemExit) as done:
        generate_registry.main(["--help"])
    assert done.value.code == 0
    text = capsys.readouterr().out
    assert "invented" in text
    assert "--patients" in text
    assert "--model" in text


def test_refuses_what_it_cannot_make(tmp_path, capsys):
    assert (
        generate_registry.main(["--out", str(tmp_path / "a"), "--patients", "5", "--sites", "10"])
        == 2
    )
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "keep.txt").write_text("x", encoding="utf-8")
    assert (
        generate_registry.main(["--out", str(tmp_path / "b"), "--patients", "50", "--sites", "5"])
        == 2
    )
    assert "not empty" in capsys.readouterr().err
    with pytest.raises(ValueError, match="share"):
        Settings(patients=10, sites=2, studies=1, first_year=2020, last_year=2021, seed=1, lost=1.5)
