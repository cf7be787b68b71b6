"""Survival endpoints, each analysis once: Kaplan-Meier per endpoint, the comparison of
groups (log-rank test and Cox hazard ratios) and the cumulative incidence of an
endpoint's event with competing events.

Every analysis takes counts: distinct (AVAL, EVENT[, GRP]) rows with their patient
counts N, or (AVAL, CNSR, N) for competing risks. The store aggregates them in DuckDB
(``Store.tte_counts_many``); a cohort's own rows are the same frame with N = 1 per row
(`patient_counts`), as lifelines' ``weights``: frequency weights give exactly the
numbers of the rows they stand for (``analytics.estimators.km``), so the functions on a
`Cohort` below are conversions, not second copies.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from analytics.estimators.competing import (
    COMPETING_CENSOR_CODES,
    AalenJohansen,
    CompetingRisksResult,
    cumulative_incidence,
)
from analytics.estimators.cox import CoxPH
from analytics.estimators.km import CIType, KaplanMeier, KMResult
from analytics.estimators.logrank import LogRankTest
from analytics.model.provenance import Provenance
from analytics.model.schema import ENDPOINTS
from analytics.store import Cohort

DEFAULT_LANDMARKS: tuple[float, ...] = (30, 183, 365)


# --- a cohort's rows as counts ----------------------------------------------------------


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


def patient_counts(cohort: Cohort, paramcd: str) -> pd.DataFrame:
    """The cohort's `paramcd` rows as counts: AVAL, EVENT (CNSR 0), CNSR and N = 1."""
    rows = cohort.endpoint(paramcd)
    t, e = times_events(cohort, paramcd)
    cnsr = rows["CNSR"].to_numpy() if "CNSR" in rows else np.zeros(t.size)
    return pd.DataFrame({"AVAL": t, "EVENT": e, "CNSR": cnsr, "N": np.ones(t.size, dtype=int)})


# --- Kaplan-Meier -------------------------------------------------------------------------


def fit_km(
    counts: pd.DataFrame,
    code: str,
    label: str,
    ci_type: CIType,
    landmarks: Sequence[float],
    risk_days: ArrayLike | None,
    provenance: Provenance,
) -> KMResult:
    """Kaplan-Meier of one endpoint from its (AVAL, EVENT, N) counts."""
    return (
        KaplanMeier(ci_type=ci_type)
        .fit(
            counts["AVAL"].to_numpy(float),
            counts["EVENT"].to_numpy(int),
            counts["N"].to_numpy(float),
        )
        .result(
            endpoint=code,
            label=label,
            landmarks=landmarks,
            risk_days=risk_days,
            provenance=provenance,
        )
    )


def kaplan_meier(
    cohort: Cohort,
    paramcd: str,
    ci_type: CIType = "log-log",
    landmarks: Sequence[float] = DEFAULT_LANDMARKS,
    risk_days: Sequence[float] | None = None,
) -> KMResult:
    counts = patient_counts(cohort, paramcd)
    if counts.empty:
        raise ValueError(f"no {paramcd} records for the {cohort.n} patients selected")
    label = endpoint_label(paramcd, cohort)
    return fit_km(counts, paramcd, label, ci_type, landmarks, risk_days, cohort.provenance)


def estimate_at(
    counts: pd.DataFrame, day: float, incidence: bool, ci_type: CIType = "log-log"
) -> tuple[float | None, float | None, float | None]:
    """From (AVAL, CODE, N) counts (CODE 1 the event, 2 a competing event, 0 censored):
    Kaplan-Meier survival free of the event at `day`, or with `incidence` the
    Aalen-Johansen incidence of the event (competing events competing), with its CI;
    None where nobody was followed to the day (and the curve had not reached its end)."""
    if counts.empty:
        return None, None, None
    t = counts["AVAL"].to_numpy(dtype=np.float64)
    code = counts["CODE"].to_numpy(dtype=np.intp)
    w = counts["N"].to_numpy(dtype=np.float64)
    if incidence:
        aj = AalenJohansen().fit(t, code, w, causes=(1, 2))
        value = float(aj.cuminc_at([day], 1)[0])
        reached = float(aj.survival_at([day])[0]) == 0.0
        if aj.at_risk_at([day])[0] == 0 and not reached:
            return None, None, None
        lo, hi = aj.band_at([day], 1)
    else:
        km = KaplanMeier(ci_type=ci_type).fit(t, code == 1, w)
        value = float(km.survival_at([day])[0])
        if km.at_risk_at([day])[0] == 0 and value > 0:
            return None, None, None
        lo, hi = km.band_at([day])
    return value, _finite(lo[0]), _finite(hi[0])


def _finite(x: float) -> float | None:
    return float(x) if np.isfinite(x) else None


# --- comparison of groups -----------------------------------------------------------------


@dataclass(frozen=True)
class GroupComparison:
    by: str
    reference: str
    logrank_chisq: float
    logrank_df: int
    logrank_p: float
    hazard_ratios: dict[str, tuple[float, float, float, float]]  # level: (hr, lower, upper, p)
    method: str
    # level: why its hazard ratio is not estimable (no events, monotone likelihood, ...);
    # such a level is in `not_estimable`, never in `hazard_ratios`
    not_estimable: dict[str, str] = field(default_factory=dict)

    def levels(self) -> list[str]:
        """Every compared level but the reference, in level order."""
        return sorted({*self.hazard_ratios, *self.not_estimable})


def compare_groups(counts: pd.DataFrame, by: str, reference: str | None) -> GroupComparison:
    """Log-rank test and Cox hazard ratios (Efron ties) of the groups GRP in `counts`."""
    levels = sorted(str(v) for v in counts["GRP"].unique())
    ref = reference if reference is not None else levels[0]
    if ref not in levels:
        raise ValueError(
            f"reference level {ref!r} not among the levels of {by}: {', '.join(levels)}"
        )
    t = counts["AVAL"].to_numpy(float)
    e = counts["EVENT"].to_numpy(int)
    g = counts["GRP"].astype(str).to_numpy()
    w = counts["N"].to_numpy(float)
    lr = LogRankTest().fit(t, e, g, weights=w).result()
    hrs: dict[str, tuple[float, float, float, float]] = {}
    missing: dict[str, str] = {}
    method = f"log-rank test; Cox proportional hazards, Efron ties, reference {by}={ref}"
    cox = CoxPH(ties="efron", reference=ref).fit(t, e, g, weights=w).result()
    for hr in cox.hazard_ratios:
        if (
            hr.note is None
            and hr.hazard_ratio is not None
            and hr.lower is not None
            and hr.upper is not None
            and hr.p_value is not None
        ):
            hrs[hr.level] = (hr.hazard_ratio, hr.lower, hr.upper, hr.p_value)
        else:
            missing[hr.level] = hr.note or "hazard ratio not estimable"
    if missing:
        method += f"; {len(missing)} level(s) not estimable (each with its reason)"
        if hrs:
            method += (
                ", the other hazard ratios from the fit without their patients "
                "(the limit of the partial likelihood)"
            )
    return GroupComparison(by, ref, lr.chisq, lr.df, lr.p_value, hrs, method, missing)


FEWER_THAN_TWO_GROUPS = "fewer than two groups have patients, so there is nothing to compare"


def compare_or_note(
    counts: pd.DataFrame, by: str, reference: str | None
) -> tuple[GroupComparison | None, str | None]:
    """`compare_groups` of the groups in `counts` (missing GRP left out), the reference
    falling back to the first level when this endpoint has no patient in it; or, when
    there is nothing to compare or the fit fails (an ill-conditioned Cox information
    matrix), no comparison and a note saying why."""
    counts = counts.dropna(subset=["GRP"])
    levels = {str(v) for v in counts["GRP"].unique()}
    if len(levels) < 2:
        return None, FEWER_THAN_TWO_GROUPS
    ref = reference if reference in levels else None
    try:
        return compare_groups(counts, by, ref), None
    except (ValueError, np.linalg.LinAlgError, FloatingPointError) as exc:
        return None, f"the groups could not be compared ({exc})"


# --- competing risks ----------------------------------------------------------------------


def cause_codes(
    cnsr: ArrayLike, competing: Sequence[int] = COMPETING_CENSOR_CODES
) -> NDArray[np.intp]:
    """ADTTE censoring codes as causes: 1 = the endpoint's event (CNSR 0), 2 = a
    competing event (CNSR in `competing`: death, major amputation), 0 = censored."""
    c = np.asarray(cnsr)
    return np.where(c == 0, 1, np.where(np.isin(c, list(competing)), 2, 0)).astype(np.intp)


def competing_incidence(
    counts: pd.DataFrame,
    paramcd: str,
    *,
    landmarks: ArrayLike = (30, 183, 365),
    competing: Sequence[int] = COMPETING_CENSOR_CODES,
    alpha: float = 0.05,
    provenance: Provenance | None = None,
    ci_type: CIType = "log",
) -> CompetingRisksResult | None:
    """Cumulative incidence of the endpoint's event (CNSR 0) from (AVAL, CNSR, N)
    counts, the censoring reasons in `competing` competing, beside 1 - KM (its
    interval of type `ci_type`); None when the counts hold no such event."""
    code = cause_codes(counts["CNSR"].to_numpy(), competing)
    if not np.any(code == 1):
        return None
    return cumulative_incidence(
        counts["AVAL"].to_numpy(float),
        code,
        cause=1,
        weights=counts["N"].to_numpy(float),
        alpha=alpha,
        landmarks=landmarks,
        endpoint=paramcd,
        provenance=provenance,
        ci_type=ci_type,
    )


def endpoint_events(
    cohort: Cohort, paramcd: str, competing: Sequence[int] = COMPETING_CENSOR_CODES
) -> tuple[NDArray[np.float64], NDArray[np.intp]]:
    """A cohort's ADTTE rows of `paramcd` as (time, cause code), as `cause_codes`."""
    rows = cohort.endpoint(paramcd)
    return rows["AVAL"].to_numpy(dtype=np.float64), cause_codes(rows["CNSR"], competing)


def endpoint_cumulative_incidence(
    cohort: Cohort,
    paramcd: str,
    competing_codes: Sequence[int] = COMPETING_CENSOR_CODES,
    landmarks: ArrayLike = (30, 183, 365),
    alpha: float = 0.05,
    ci_type: CIType = "log",
) -> CompetingRisksResult:
    """`competing_incidence` of a cohort's rows; ValueError when it has no record or
    no event of `paramcd`."""
    counts = patient_counts(cohort, paramcd)
    if counts.empty:
        raise ValueError(f"no {paramcd} records for the {cohort.n} patients selected")
    result = competing_incidence(
        counts,
        paramcd,
        landmarks=landmarks,
        competing=competing_codes,
        alpha=alpha,
        provenance=cohort.provenance,
        ci_type=ci_type,
    )
    if result is None:
        raise ValueError(f"no {paramcd} events among the {cohort.n} patients selected")
    return result
