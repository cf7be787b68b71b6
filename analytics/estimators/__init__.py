"""The estimators: Kaplan-Meier, competing risks (Aalen-Johansen), log-rank and Cox
comparisons, the Bayesian binary endpoint and its imputation, descriptive statistics.

Enters: time, event and weight arrays (a patient row is weight 1, an aggregated count
is its number of patients), optionally a group. Leaves: frozen result objects whose
fitted values end in an underscore and which carry their method and provenance.
Estimators know nothing of the store, the extract or the view.

Modules: ``counting`` (checked inputs, counts by distinct time), ``km`` (Kaplan-Meier)
with ``curve_summaries`` (R's quantile and restricted-mean rules), ``competing``
(cumulative incidence), ``grouping`` (rows grouped by level and stratum) for
``logrank`` (survdiff) and ``cox`` (coxph) with ``cox_likelihood`` and
``cox_estimability``, ``bayes`` (the Bayesian endpoint) with ``posterior`` (Beta
mixtures) and ``imputation`` (models of the missing outcomes), ``beta_binomial`` (the
design's exact Beta-binomial tables), ``describe`` (quartiles and table rows). The names
below are the public API; each is also importable from its module.
"""

from analytics.estimators.bayes import (
    DEFAULT_IMPUTATIONS,
    DEFAULT_SEED,
    IMPUTATION_LABELS,
    BayesianEndpoint,
    BayesResult,
    Imputation,
    classify,
)
from analytics.estimators.beta_binomial import critical_count, posterior_above, predictive_table
from analytics.estimators.competing import (
    COMPETING_CENSOR_CODES,
    AalenJohansen,
    CompetingRisksResult,
    IncidenceCurve,
    IncidenceLandmark,
    cumulative_incidence,
    one_minus_km,
)
from analytics.estimators.counting import check_weights, count_by_time
from analytics.estimators.cox import CoxPH, CoxResult, HazardRatio, TestStatistic
from analytics.estimators.cox_likelihood import TIES, Ties
from analytics.estimators.describe import QUANTILE_NOTE, Row, numeric_row, quartiles
from analytics.estimators.grouping import level_label
from analytics.estimators.imputation import (
    KDistribution,
    PiecewiseExponential,
    averaged_over_draws,
    poisson_binomial,
)
from analytics.estimators.km import (
    CI_LABELS,
    CI_TYPES,
    CIType,
    KaplanMeier,
    KMResult,
    Landmark,
    Median,
    RiskTable,
    confidence_band,
)
from analytics.estimators.logrank import LogRankGroup, LogRankResult, LogRankTest
from analytics.estimators.posterior import Posterior

__all__ = [
    "CI_LABELS",
    "CI_TYPES",
    "COMPETING_CENSOR_CODES",
    "DEFAULT_IMPUTATIONS",
    "DEFAULT_SEED",
    "IMPUTATION_LABELS",
    "QUANTILE_NOTE",
    "TIES",
    "AalenJohansen",
    "BayesResult",
    "BayesianEndpoint",
    "CIType",
    "CompetingRisksResult",
    "CoxPH",
    "CoxResult",
    "HazardRatio",
    "Imputation",
    "IncidenceCurve",
    "IncidenceLandmark",
    "KDistribution",
    "KMResult",
    "KaplanMeier",
    "Landmark",
    "LogRankGroup",
    "LogRankResult",
    "LogRankTest",
    "Median",
    "PiecewiseExponential",
    "Posterior",
    "RiskTable",
    "Row",
    "TestStatistic",
    "Ties",
    "averaged_over_draws",
    "check_weights",
    "classify",
    "confidence_band",
    "count_by_time",
    "critical_count",
    "cumulative_incidence",
    "level_label",
    "numeric_row",
    "one_minus_km",
    "poisson_binomial",
    "posterior_above",
    "predictive_table",
    "quartiles",
]
