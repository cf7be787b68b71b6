"""The DuckDB store.

Enters: a checked extract (from `analytics.extract`). Leaves: a cached, read-only
DuckDB database holding the analysis tables and the quality report, opened once per
process, and the counts that analyses need (time, event, weight and group per endpoint,
value counts per column) for a filter state. Every SQL statement that reads the
store is in its query module; those statements run on DuckDB or, transpiled, on Apache
Spark (`analytics.store.spark`).
"""

from analytics.store.build import DEMO_DIR, PROJECT_ROOT, cache_dir, database_for
from analytics.store.spark import ENGINES, EngineError, spark_available
from analytics.store.store import Cohort, Store
from analytics.store.validation import validate_extract, validate_into

__all__ = [
    "DEMO_DIR",
    "ENGINES",
    "PROJECT_ROOT",
    "Cohort",
    "EngineError",
    "Store",
    "cache_dir",
    "database_for",
    "spark_available",
    "validate_extract",
    "validate_into",
]
