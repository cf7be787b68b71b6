"""Efron's tie correction in closed form (used for heavily tied, aggregated data)
equals the direct sum over tied deaths."""

from __future__ import annotations

import numpy as np
import pytest

import analytics.estimators.cox_likelihood as cox_likelihood
from analytics.estimators import CoxPH


@pytest.mark.parametrize("levels", [2, 3])
def test_closed_form_equals_direct_sum(monkeypatch, levels):
    rng = np.random.default_rng(levels)
    n = 6000
    t = rng.integers(1, 40, n).astype(float)  # about 150 deaths per day: heavy ties
    e = (rng.random(n) < 0.6).astype(int)
    g = rng.choice(np.array(list("ABC"))[:levels], n)
    monkeypatch.setattr(cox_likelihood, "_EFRON_DIRECT", 10**9)
    direct = CoxPH(ties="efron", reference="A").fit(t, e, g).result()
    monkeypatch.setattr(cox_likelihood, "_EFRON_DIRECT", 0)
    closed = CoxPH(ties="efron", reference="A").fit(t, e, g).result()
    assert closed.loglik == pytest.approx(direct.loglik, rel=1e-12)
    assert closed.score.statistic == pytest.approx(direct.score.statistic, rel=1e-9)
    for a, b in zip(direct.hazard_ratios, closed.hazard_ratios, strict=True):
        assert b.coef == pytest.approx(a.coef, abs=1e-10)
        assert b.se == pytest.approx(a.se, rel=1e-9)


def test_aggregated_rows_match_patient_rows():
    rng = np.random.default_rng(5)
    n = 3000
    t = rng.integers(1, 30, n).astype(float)
    e = (rng.random(n) < 0.5).astype(int)
    g = rng.choice(np.array(["N", "Y"]), n)
    rows = CoxPH(reference="N").fit(t, e, g).result()
    keys, counts = np.unique(np.c_[t, e, g == "Y"], axis=0, return_counts=True)
    agg = (
        CoxPH(reference="N")
        .fit(
            keys[:, 0], keys[:, 1].astype(int), np.where(keys[:, 2] == 1, "Y", "N"), weights=counts
        )
        .result()
    )
    assert agg.hazard_ratios[0].coef == pytest.approx(rows.hazard_ratios[0].coef, abs=1e-12)
    assert agg.loglik == pytest.approx(rows.loglik, rel=1e-13)
