"""`python -m analytics summary`: the JSON it prints, and how it fails."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from analytics.analyses.survival import kaplan_meier
from analytics.model.filters import FilterState
from analytics.report.cli import main
from analytics.store import DEMO_DIR
from tests.helpers import ROOT, SHARED


def run(capsys, *args: str) -> tuple[int, dict | None, str]:
    code = main(["summary", *args])
    out, err = capsys.readouterr()
    return code, (json.loads(out) if code == 0 else None), err


def test_default_run_matches_the_row_level_engine(capsys, demo_store):
    code, doc, _ = run(capsys, "--filter", "DIALFL=N", "--landmark", "183", "--landmark", "365")
    assert code == 0
    cohort = demo_store.cohort(FilterState.parse(["DIALFL=N"]))
    assert doc["cohort"]["n"] == cohort.n
    assert doc["cohort"]["n_total"] == cohort.n_total
    assert set(doc["endpoints"]) == set(cohort.adtte["PARAMCD"])
    for code_, ep in doc["endpoints"].items():
        km = kaplan_meier(cohort, code_, landmarks=(183, 365))
        assert ep["n"] == km.n
        assert ep["events"] == km.events
        for got, want in zip(ep["landmarks"], km.landmarks, strict=True):
            assert got["day"] == want.day
            assert got["estimate"] == pytest.approx(want.estimate, abs=1e-12)
            assert got["lower"] == pytest.approx(want.lower, abs=1e-12)
            assert got["upper"] == pytest.approx(want.upper, abs=1e-12)
            assert got["at_risk"] == want.at_risk


def test_bayes_and_quality_sections(capsys):
    code, doc, _ = run(capsys, "--endpoint", "AFS", "--goal", "0.5", "--threshold", "0.9")
    assert code == 0
    b = doc["bayes"]
    assert (b["endpoint"], b["goal"], b["threshold"], b["day"]) == ("AFS", 0.5, 0.9, 183)
    lo, hi = b["credible_interval"]
    assert lo < b["posterior_mean"] < hi
    assert b["imputations"] > 0
    assert b["success"] == (b["probability_above_goal"] > 0.9)
    q = doc["data_quality"]
    assert q["rows_read"] == q["rows_used"] + q["rows_rejected"]
    assert q["rows_rejected"] == 0
    assert q["issues"] == []


def test_no_imputation_gives_the_complete_case_result(capsys):
    _, with_mi, _ = run(capsys)
    _, cc, _ = run(capsys, "--no-imputation")
    assert cc["bayes"]["imputations"] == 0
    assert cc["bayes"]["posterior_mean"] == pytest.approx(
        with_mi["bayes"]["complete_case"]["posterior_mean"]
    )


def test_ci_type_is_named_and_changes_the_interval(capsys):
    _, loglog, _ = run(capsys, "--endpoints", "AFS")
    _, plain, _ = run(capsys, "--endpoints", "AFS", "--ci", "plain")
    assert loglog["endpoints"]["AFS"]["ci_type"] == "log-log"
    assert plain["endpoints"]["AFS"]["ci_type"] == "plain"
    a, b = loglog["endpoints"]["AFS"]["landmarks"][0], plain["endpoints"]["AFS"]["landmarks"][0]
    assert a["estimate"] == b["estimate"]
    assert a["lower"] != b["lower"]


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--filter", "NOSUCH=1"], "unknown column 'NOSUCH'"),
        (["--filter", "AGE>=old"], "not a number"),
        (["--filter", "AGE"], "is not of the form"),
        (["--endpoint", "XYZ"], "XYZ not in the data"),
        (["--by", "NOSUCH"], "NOSUCH"),
        (["--by", "BMI"], "--by BMI: BMI is a continuous column"),
        (["--by", "USUBJID"], "105 distinct values among the patients selected"),
        (["--data", "/no/such/folder"], "no such file or folder"),
    ],
)
def test_unusable_requests_exit_2_with_one_paragraph(capsys, args, needle):
    code, _, err = run(capsys, *args)
    assert code == 2
    assert needle in err
    assert "Traceback" not in err
    assert err.count("\n") == 1


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--goal", "1.5"], "strictly between 0 and 1"),
        (["--landmark", "-3"], "positive number of days"),
        (["--ci", "logit"], "invalid choice"),
        (["--prior", "1"], "not of the form A,B"),
        (["--imputations", "0"], "must be at least 1"),
        (["--seed", "x"], "invalid int value"),
    ],
)
def test_bad_arguments_exit_2(capsys, args, needle):
    with pytest.raises(SystemExit) as info:
        main(["summary", *args])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert needle in err
    assert "Traceback" not in err


def _write_extract(folder: Path, adsl: pd.DataFrame, adtte: pd.DataFrame) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    adsl.to_csv(folder / "adsl.csv", index=False)
    adtte.to_csv(folder / "adtte.csv", index=False)
    return folder


def test_unusable_rows_are_counted_and_named(capsys, tmp_path):
    adsl = pd.DataFrame({"USUBJID": ["A", "B", "C", "C"], "SEX": ["M", "F", "M", "M"]})
    adtte = pd.DataFrame(
        {
            "USUBJID": ["A", "B", "C", "Z", "A"],
            "PARAMCD": ["OS", "OS", "OS", "OS", "AFS"],
            "AVAL": ["10", "-4", "30", "5", "ten"],
            "CNSR": ["0", "1", "1.5", "0", "0"],
        }
    )
    folder = _write_extract(tmp_path / "x", adsl, adtte)
    code, doc, _ = run(capsys, "--data", str(folder), "--endpoint", "OS")
    assert code == 0
    q = doc["data_quality"]
    assert q["rows_read"] == 9
    assert q["rows_rejected"] == 5
    assert q["rows_used"] == 4
    found = {(i["file"], i["row"], i["column"]) for i in q["issues"]}
    assert ("adsl.csv", 4, "USUBJID") in found  # duplicate subject
    assert ("adtte.csv", 2, "AVAL") in found  # negative time
    assert ("adtte.csv", 3, "CNSR") in found  # 1.5 is not a censoring code
    assert ("adtte.csv", 4, "USUBJID") in found  # unknown subject
    assert ("adtte.csv", 5, "AVAL") in found  # "ten"
    by_row = {(i["file"], i["row"]): i for i in q["issues"]}
    assert by_row[("adtte.csv", 5)]["value"] == "ten"
    assert doc["endpoints"]["OS"]["n"] == 1


def test_missing_required_table_names_the_folder(capsys, tmp_path):
    folder = tmp_path / "only_adsl"
    folder.mkdir()
    pd.DataFrame({"USUBJID": ["A"]}).to_csv(folder / "adsl.csv", index=False)
    code, _, err = run(capsys, "--data", str(folder))
    assert code == 2
    assert "only_adsl" in err
    assert "adtte" in err


def test_reads_parquet_and_sas_transport(capsys, tmp_path):
    demo = {n: pd.read_csv(DEMO_DIR / f"{n}.csv") for n in ("adsl", "adtte")}
    folder = tmp_path / "pq"
    folder.mkdir()
    for name, frame in demo.items():
        frame.to_parquet(folder / f"{name}.parquet")
    code, doc, _ = run(capsys, "--data", str(folder), "--endpoints", "AFS")
    assert code == 0
    _, ref, _ = run(capsys, "--endpoints", "AFS")
    assert doc["endpoints"]["AFS"] == ref["endpoints"]["AFS"]

    pilot = SHARED / "data" / "cdiscpilot01"
    code, doc, _ = run(
        capsys,
        "--data",
        str(pilot),
        "--endpoint",
        "TTDE",
        "--by",
        "TRT01A",
        "--reference",
        "Placebo",
    )
    assert code == 0
    assert doc["cohort"]["n"] == 254
    assert doc["endpoints"]["TTDE"]["n"] == 254
    assert set(doc["groups"]) == {"Placebo", "Xanomeline High Dose", "Xanomeline Low Dose"}
    assert doc["hazard_ratio"]["reference"] == "Placebo"
    assert 0 <= doc["logrank_p"] <= 1


def test_without_afs_and_no_endpoint_the_bayesian_part_is_null(capsys):
    # the pilot study has only TTDE: the default AFS analysis cannot exist, and that is
    # not the user's error when they did not ask for it
    code, doc, err = run(capsys, "--data", str(SHARED / "data" / "cdiscpilot01"))
    assert code == 0, err
    assert doc["bayes"] is None
    assert doc["endpoints"]["TTDE"]["n"] == 254
    # asked for by name, a missing endpoint is an error
    code, _, err = run(capsys, "--data", str(SHARED / "data" / "cdiscpilot01"),
                       "--endpoint", "AFS")
    assert code == 2
    assert "AFS not in the data" in err


def test_every_documented_key_is_present_null_when_it_does_not_exist(capsys):
    # one group left after the filter: nothing to compare, and the keys say so
    code, doc, _ = run(capsys, "--filter", "SEX=F", "--by", "SEX")
    assert code == 0
    assert set(doc["groups"]) == {"F"}
    assert doc["logrank_p"] is None
    assert doc["hazard_ratio"] is None
    assert doc["comparison"] == {}
    assert doc["bayes"] is not None
    method = doc["provenance"]["method"]
    for part in ("Kaplan-Meier", "log-log", "groups of SEX"):
        assert part in method
    assert doc["provenance"]["versions"]["numba"]
    # no patient at all: every endpoint is absent, the cohort says why
    code, doc, _ = run(capsys, "--filter", "AGE>=200")
    assert code == 0
    assert doc["cohort"]["n"] == 0
    assert doc["cohort"]["notes"] == ["no patient matches the filters"]
    assert doc["endpoints"] == {}
    assert doc["bayes"] is None
    assert "groups" not in doc  # no --by: no group sections at all


def test_imputations_and_seed_are_options_and_reproducible(capsys):
    def bayes(*args):
        code, doc, _ = run(capsys, "--endpoints", "AFS", *args)
        assert code == 0
        return doc["bayes"]

    a = bayes("--imputations", "50", "--seed", "3")
    assert (a["imputations"], a["seed"]) == (50, 3)
    assert "50 posterior draws of the hazards (seed 3)" in a["method"]
    assert a["imputation"] == "pwe"
    assert a["monte_carlo_error"] > 0
    assert bayes("--imputations", "50", "--seed", "3") == a
    if a["missing"]:
        assert bayes("--imputations", "50", "--seed", "4")["posterior_mean"] != a["posterior_mean"]
    assert a["complete_case"] == bayes("--imputations", "7")["complete_case"]


@pytest.mark.slow
def test_runs_as_a_module_and_help_documents_the_options():
    out = subprocess.run(
        [sys.executable, "-m", "analytics", "summary", "--help"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout
    for opt in (
        "--data",
        "--filter",
        "--by",
        "--landmark",
        "--ci",
        "--endpoint",
        "--goal",
        "--threshold",
        "COL=V1,V2",
        "COL!=V",
        "COL>=X",
        "COL<=X",
    ):
        assert opt in out
    bad = subprocess.run(
        [sys.executable, "-m", "analytics", "summary", "--filter", "X"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert bad.returncode == 2
    assert "Traceback" not in bad.stderr


def test_kaplan_meier_imputation_is_exact_and_needs_no_seed(capsys):
    def bayes(*args):
        code, doc, _ = run(capsys, "--endpoints", "AFS", "--imputation", "km", *args)
        assert code == 0
        return doc["bayes"]

    a = bayes("--seed", "1")
    assert a["imputation"] == "km"
    assert (a["seed"], a["imputations"], a["monte_carlo_error"]) == (None, 0, None)
    assert "exactly (no simulation)" in a["method"]
    assert bayes("--seed", "2") == a


def test_no_verdict_without_follow_up_to_the_landmark(capsys):
    code, doc, _ = run(capsys, "--endpoints", "AFS", "--landmark", "5000")
    assert code == 0
    b = doc["bayes"]
    assert b["success"] is None
    assert "no patient was followed to day 5000" in b["verdict_note"]
    assert b["complete_case"]["success"] is None


def test_complete_case_is_always_an_object(capsys):
    code, doc, _ = run(capsys, "--endpoints", "AFS", "--no-imputation")
    assert code == 0
    b = doc["bayes"]
    assert b["imputation"] == "none"
    cc = b["complete_case"]
    assert set(cc) == {
        "posterior_mean",
        "credible_interval",
        "probability_above_goal",
        "success",
        "verdict_note",
    }
    assert cc["posterior_mean"] == b["posterior_mean"]
    assert cc["success"] == b["success"]


def test_design_is_a_subcommand_of_the_command_line(capsys):
    code = main(["design", "--true-rate", "0.7", "--simulations", "2000", "--seed", "5"])
    out, _ = capsys.readouterr()
    assert code == 0
    doc = json.loads(out)
    for key in ("probability_of_success", "expected_sample_size", "stopping", "type_one_error"):
        assert key in doc
    assert 0 < doc["type_one_error"] < doc["probability_of_success"] < 1
    with pytest.raises(SystemExit) as info:
        main(["design", "--true-rate", "1.5"])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert "must lie between 0 and 1" in err
    assert "Traceback" not in err
