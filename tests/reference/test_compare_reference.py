"""Log-rank (survdiff) and Cox (coxph) against R survival 3.5-3, to 1e-6.

Every ``logrank`` and every Efron/Breslow ``cox`` entry of the ``*_tests.json``
reference files: aml, lung (incl. the stratified fits that drop the NA row),
veteran (incl. celltype with reference ``squamous`` and ``large``) and edge.
"""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from analytics.estimators import TIES, CoxPH, LogRankTest, Ties

REF = Path(__file__).resolve().parents[1] / "reference" / "r_survival"
DATASETS = ("aml", "lung", "veteran", "edge")
# R's factor level order where it is not the sorted order.
LEVELS = {"celltype": ["squamous", "smallcell", "adeno", "large"]}
TOL = 1e-6


@cache
def data(name: str) -> pd.DataFrame:
    return pd.read_csv(REF / f"{name}_data.csv")


@cache
def reference_json(name: str) -> dict[str, Any]:
    out: dict[str, Any] = json.loads((REF / f"{name}_tests.json").read_text(encoding="utf-8"))
    return out


def close(actual: Any, expected: Any, what: str) -> None:
    a = np.asarray(actual, dtype=float)
    e = np.asarray(expected, dtype=float)
    assert a.shape == e.shape, f"{what}: shape {a.shape} != {e.shape}"
    err = np.abs(a - e) / np.maximum(1.0, np.abs(e))
    assert np.all(np.isfinite(a)), f"{what}: {a}"
    assert err.max() <= TOL, f"{what}: {a} vs R {e} (scaled error {err.max():.3g})"


def parse_call(call: str) -> tuple[str, str | None]:
    """'Surv(time, event) ~ trt + strata(celltype)' -> ('trt', 'celltype')."""
    rhs = [t.strip() for t in call.split("~")[1].split("+")]
    strata = [m.group(1) for t in rhs if (m := re.fullmatch(r"strata\((.+)\)", t))]
    groups = [t for t in rhs if not t.startswith("strata(")]
    assert len(groups) == 1
    return groups[0], strata[0] if strata else None


def entries(kind: str, ties: tuple[str, ...] = ("efron", "breslow")) -> list[Any]:
    out = []
    for name in DATASETS:
        for entry in reference_json(name)[kind]:
            if kind == "cox" and entry["ties"] not in ties:
                continue
            out.append(pytest.param(name, entry, id=f"{name}-{entry['label']}"))
    return out


def stratum_label(r_label: str) -> str:
    return r_label.split("=", 1)[-1]


@pytest.mark.parametrize(("name", "ref"), entries("logrank"))
def test_survdiff(name: str, ref: dict[str, Any]) -> None:
    df = data(name)
    group, strata = parse_call(ref["call"])
    fit = LogRankTest(rho=ref["rho"]).fit(
        df["time"],
        df["event"],
        df[group],
        strata=None if strata is None else df[strata],
        levels=LEVELS.get(group),
    )
    res = fit.result()
    assert res.df == ref["df"]
    close(res.chisq, ref["chisq"], "chisq")
    close(res.p_value, ref["p"], "p")
    close(res.p_value, ref["p_survdiff_object"], "p (survdiff object)")
    assert [g.group for g in res.groups] == ref["groups"]["group"]
    close([g.n for g in res.groups], ref["groups"]["n"], "n")
    close([g.observed for g in res.groups], ref["groups"]["observed"], "observed")
    close([g.expected for g in res.groups], ref["groups"]["expected"], "expected")
    close([g.o_minus_e for g in res.groups], ref["groups"]["o_minus_e"], "O - E")
    close(res.variance, ref["var"], "var")
    assert res.n_used == ref["n_used"]
    assert res.n_removed == ref["n_removed_na"]
    if strata is not None:
        rs = ref["strata"]
        order = [res.strata.index(stratum_label(s)) for s in rs["stratum"]]
        close(res.observed_by_stratum[order], rs["observed"], "observed by stratum")
        close(res.expected_by_stratum[order], rs["expected"], "expected by stratum")
        n_by_stratum = df.dropna(subset=[strata]).groupby(strata).size()
        n_by_stratum.index = [str(s).removesuffix(".0") for s in n_by_stratum.index]
        wanted = [stratum_label(s) for s in rs["stratum"]]
        close(n_by_stratum[wanted].to_numpy(), rs["n"], "n by stratum")


def level_of(term: str, group: str) -> str:
    """R's term name -> level: 'celltypesmallcell' -> 'smallcell'; a numeric 1/2
    covariate ('sex', 'trt') is the one-unit step, i.e. level '2' against '1'."""
    return term[len(group) :] if term != group else "2"


@pytest.mark.parametrize(("name", "ref"), entries("cox"))
def test_coxph(name: str, ref: dict[str, Any]) -> None:
    df = data(name)
    group, strata = parse_call(ref["call"])
    reference = m.group(1) if (m := re.search(r"_ref_([^_]+)_", ref["label"])) else None
    fit = CoxPH(ties=ref["ties"], reference=reference).fit(
        df["time"],
        df["event"],
        df[group],
        strata=None if strata is None else df[strata],
        levels=LEVELS.get(group),
    )
    res = fit.result()
    assert fit.converged_
    c = ref["coefficients"]
    assert [hr.level for hr in res.hazard_ratios] == [level_of(t, group) for t in c["term"]]
    hrs = res.hazard_ratios
    close([h.coef for h in hrs], c["coef"], "coef")
    close([h.hazard_ratio for h in hrs], c["exp_coef"], "exp(coef)")
    close([1 / h.hazard_ratio for h in hrs], c["exp_neg_coef"], "exp(-coef)")
    close([h.se for h in hrs], c["se_coef"], "se(coef)")
    close([h.z for h in hrs], c["z"], "z")
    close([h.p_value for h in hrs], c["p"], "Wald p")
    close([h.lower for h in hrs], c["lower_95"], "lower .95")
    close([h.upper for h in hrs], c["upper_95"], "upper .95")
    close(res.covariance, ref["var"], "var")
    close(res.loglik_null, ref["loglik_null"], "loglik null")
    close(res.loglik, ref["loglik"], "loglik")
    for mine, theirs in (
        (res.likelihood_ratio, ref["likelihood_ratio"]),
        (res.wald, ref["wald"]),
        (res.score, ref["score"]),
    ):
        close(mine.statistic, theirs["stat"], f"{mine.name} statistic")
        assert mine.df == theirs["df"]
        close(mine.p_value, theirs["p"], f"{mine.name} p")
    close(res.concordance, ref["concordance"]["C"], "concordance")
    assert res.n == ref["n"]
    assert res.events == ref["nevent"]
    assert res.n_removed == ref["n_removed_na"]
    assert ref["ties"].capitalize() in res.provenance.method


def test_two_references_give_reciprocal_hazard_ratios() -> None:
    vet = data("veteran")
    args = (vet["time"], vet["event"], vet["celltype"])
    by_squamous = CoxPH(reference="squamous").fit(*args).result()
    by_large = CoxPH(reference="large").fit(*args).result()
    close(
        by_large.hazard_ratio("squamous").hazard_ratio,
        1 / by_squamous.hazard_ratio("large").hazard_ratio,
        "HR squamous vs large",
    )
    close(by_large.loglik, by_squamous.loglik, "same model, same loglik")


def test_exact_ties_not_offered() -> None:
    with pytest.raises(ValueError, match="ties"):
        CoxPH(ties="exact")  # type: ignore[arg-type]


def _aggregate(df: pd.DataFrame, cols: list[str]) -> pd.DataFrame:
    return df.groupby(["time", "event", *cols], as_index=False).size()


@pytest.mark.parametrize("ties", TIES)
def test_aggregated_input_matches_rows(ties: Ties) -> None:
    """Frequency-weighted (time, event, group, stratum) rows = one row per patient."""
    lung = data("lung")
    agg = _aggregate(lung, ["sex", "ph.ecog"])
    assert len(agg) < len(lung)
    rows = CoxPH(ties=ties).fit(lung["time"], lung["event"], lung["sex"], lung["ph.ecog"])
    grouped = CoxPH(ties=ties).fit(
        agg["time"], agg["event"], agg["sex"], agg["ph.ecog"], weights=agg["size"]
    )
    np.testing.assert_allclose(grouped.coef_, rows.coef_, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(grouped.var_, rows.var_, rtol=1e-10)
    assert grouped.loglik_ == pytest.approx(rows.loglik_, rel=1e-12)
    assert grouped.score_.statistic == pytest.approx(rows.score_.statistic, rel=1e-12)
    assert grouped.concordance_ == pytest.approx(rows.concordance_, rel=1e-12)
    vet = data("veteran")
    agg = _aggregate(vet, ["celltype"])
    lr_rows = LogRankTest().fit(vet["time"], vet["event"], vet["celltype"])
    lr_agg = LogRankTest().fit(agg["time"], agg["event"], agg["celltype"], weights=agg["size"])
    assert lr_agg.chisq_ == pytest.approx(lr_rows.chisq_, rel=1e-12)
    np.testing.assert_allclose(lr_agg.expected_, lr_rows.expected_, rtol=1e-12)


def test_zero_event_level_is_flagged_not_hidden() -> None:
    t = np.array([1, 2, 3, 4, 5, 6, 7, 8], dtype=float)
    e = np.array([1, 1, 0, 1, 0, 0, 0, 0])
    g = np.array(["a", "a", "a", "a", "b", "b", "b", "b"])
    fit = CoxPH(max_iter=30).fit(t, e, g)
    assert not fit.converged_
    assert "DID NOT CONVERGE" in fit.result().provenance.method


def test_missing_groups_are_removed_and_counted() -> None:
    lung = data("lung")
    fit = LogRankTest().fit(lung["time"], lung["event"], lung["ph.ecog"])
    assert fit.n_removed_ == 1
    assert fit.levels_ == ("0", "1", "2", "3")
