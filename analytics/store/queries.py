"""Every SQL statement that reads the built store, in one place.

Each function takes an open DuckDB cursor (or connection) and plain values, binds every
value as a parameter and names columns only after checking them against the schema or
the table's own columns (`quote_ident`): no text a user typed ever becomes SQL. The
store (`analytics.store.store`) and the analyses call these; nothing outside
`analytics.store` and `analytics.extract` writes SQL.
"""

from __future__ import annotations

# --- store: cohort, counts and levels ------------------------------------------------

# --- survival-shaped analyses: time, event, weight and group counts ------------------

# --- tables, outcomes, safety, visits and the audit -----------------------------------

# --- what the dashboard asks of the store (levels, ranges, populated columns) ---------
