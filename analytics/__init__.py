"""The analytics engine of the DVA outcomes dashboard; no user interface.

Data flows through the sub-packages in this order (each imports only those before it):
``model`` (data model, filter state, provenance) -> ``extract`` (reading and checking an
extract) -> ``store`` (the DuckDB store and every query of it) and ``estimators``
(Kaplan-Meier, competing risks, log-rank, Cox, Bayesian endpoint) -> ``analyses`` (the
analyses of this field, each once) -> ``report`` (JSON report, tables, command line).
The names below are the public API; each is also importable from its module.
"""

from analytics.analyses.views import (
    SurvivalView,
    bayes_view,
    competing_view,
    headline_view,
    survival_view,
)
from analytics.estimators import (
    AalenJohansen,
    BayesianEndpoint,
    CoxPH,
    KaplanMeier,
    LogRankTest,
)
from analytics.extract import DataError, QualityReport, load_extract
from analytics.model.filters import Clause, FilterError, FilterState
from analytics.model.provenance import Provenance
from analytics.report.summary import summarize, summary_json
from analytics.store import DEMO_DIR, Cohort, Store, database_for, validate_extract

__all__ = [
    "DEMO_DIR",
    "AalenJohansen",
    "BayesianEndpoint",
    "Clause",
    "Cohort",
    "CoxPH",
    "DataError",
    "FilterError",
    "FilterState",
    "KaplanMeier",
    "LogRankTest",
    "Provenance",
    "QualityReport",
    "Store",
    "SurvivalView",
    "bayes_view",
    "competing_view",
    "database_for",
    "headline_view",
    "load_extract",
    "summarize",
    "summary_json",
    "survival_view",
    "validate_extract",
]
