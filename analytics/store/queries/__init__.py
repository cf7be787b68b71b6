"""Every SQL statement that reads the built store, in one place.

Each function takes an open DuckDB cursor (or connection) and plain values, binds every
value as a parameter and names columns only after checking them against the schema or
the table's own columns (`quote_ident`): no text a user typed ever becomes SQL. The
store (`analytics.store.store`) and the analyses call these; nothing outside
`analytics.store` and `analytics.extract` writes SQL.

A package only so that no file grows past a readable length: `where` (the filter state
as a WHERE clause and the column check), `cohort` (the store's own reads), `counts`
(survival-shaped counts) and `tables` (tables, outcomes, safety, visits, audit). Callers
use `analytics.store.queries.<name>`, whichever file holds it.
"""

from analytics.store.queries.cohort import (
    cohort_tables,
    count_subjects,
    distinct_counts,
    endpoint_names,
    endpoint_slots,
    group_sizes,
    levels,
    quality_rows,
    rejected_rows_of,
    rejected_sources,
    rejected_tables,
    store_meta,
    table_columns,
    tte_counts,
    value_range,
)
from analytics.store.queries.counts import (
    censoring_counts,
    endpoint_name,
    endpoint_rows,
    populated_subject_columns,
    site_sizes,
    site_times,
    subject_rows,
    value_event_counts,
)
from analytics.store.queries.tables import (
    VALUE_COUNT,
    column_recorded,
    event_rows,
    has_rows,
    technical_success_events,
    value_counts,
)
from analytics.store.queries.where import (
    Subject,
    checked,
    where_clause,
)

__all__ = [
    "VALUE_COUNT",
    "Subject",
    "censoring_counts",
    "checked",
    "cohort_tables",
    "column_recorded",
    "count_subjects",
    "distinct_counts",
    "endpoint_name",
    "endpoint_names",
    "endpoint_rows",
    "endpoint_slots",
    "event_rows",
    "group_sizes",
    "has_rows",
    "levels",
    "populated_subject_columns",
    "quality_rows",
    "rejected_rows_of",
    "rejected_sources",
    "rejected_tables",
    "site_sizes",
    "site_times",
    "store_meta",
    "subject_rows",
    "table_columns",
    "technical_success_events",
    "tte_counts",
    "value_counts",
    "value_event_counts",
    "value_range",
    "where_clause",
]
