"""Survival endpoints of a cohort: Kaplan-Meier per PARAMCD, optionally by group."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from analytics.estimators.km import CIType, KaplanMeier, KMResult
from analytics.model.schema import ENDPOINTS
from analytics.store import Cohort

DEFAULT_LANDMARKS: tuple[float, ...] = (30, 183, 365)


def endpoint_label(paramcd: str, cohort: Cohort | None = None) -> str:
    if cohort is not None:
        rows = cohort.endpoint(paramcd)
        # an extract may leave PARAM empty: the code's own label then serves
        params = rows["PARAM"].dropna() if "PARAM" in rows else rows.iloc[:0, 0]
        if len(params):
            return str(params.iloc[0])
    return ENDPOINTS.get(paramcd, paramcd)


def times_events(cohort: Cohort, paramcd: str) -> tuple[np.ndarray, np.ndarray]:
    rows = cohort.endpoint(paramcd)
    return rows["AVAL"].to_numpy(dtype=float), (rows["CNSR"].to_numpy() == 0).astype(int)


def kaplan_meier(
    cohort: Cohort,
    paramcd: str,
    ci_type: CIType = "log-log",
    landmarks: Sequence[float] = DEFAULT_LANDMARKS,
    risk_days: Sequence[float] | None = None,
) -> KMResult:
    t, e = times_events(cohort, paramcd)
    if t.size == 0:
        raise ValueError(f"no {paramcd} records for the {cohort.n} patients selected")
    return (
        KaplanMeier(ci_type=ci_type)
        .fit(t, e)
        .result(
            endpoint=paramcd,
            label=endpoint_label(paramcd, cohort),
            landmarks=landmarks,
            risk_days=risk_days,
            provenance=cohort.provenance,
        )
    )
