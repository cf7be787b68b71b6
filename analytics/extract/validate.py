"""Running the row rules (rules.py), two ways with the same meaning: one SQL pass over
a typed view (Parquet files, which stay on disk as views so a million rows are never
held in memory), and pandera schemas over pandas batches (CSV, Excel and SAS transport
files, which DuckDB has already read into its own tables). pandera 0.35's other
backends do not fit here: its pyarrow backend reports failures without row positions,
and its ibis (DuckDB) and polars backends need packages this project does not ship. A
test runs every rule through both engines and requires identical results.

`check_frame` runs the rules over a pandas frame (the app's preview of a mapping).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from typing import Any

import pandas as pd

from analytics.extract.issues import DataIssue
from analytics.extract.rules import ID_SPACE, IDENTIFIERS, TABLES_ALL, RowRule, row_rules
from analytics.model.filters import quote_ident
from analytics.model.schema import Column


def internal(prefix: str, column: str) -> str:
    """Identifier of a helper column of the typed view, e.g. "__bad_AGE"."""
    quote_ident(column)  # only data-model names get helper columns
    return f'"{prefix}{column}"'


def _lit(text: str) -> str:
    # data-model constants (codes), never user text
    return "'" + text.replace("'", "''") + "'"


def _num(x: float | None) -> str:
    assert x is not None
    return repr(float(x))


def rule_sql(rule: RowRule, alias: str = "") -> str:
    """The SQL condition true where `rule` fails, over the typed view's columns."""
    p = f"{alias}." if alias else ""

    def q(c: str) -> str:
        return p + quote_ident(c)

    c = q(rule.column)
    o = [q(x) for x in rule.others]
    if rule.kind == "missing":
        return f"{c} IS NULL"
    if rule.kind == "unreadable":
        return p + internal("__bad_", rule.column)
    if rule.kind == "below":
        return f"{c} < {_num(rule.low)}"
    if rule.kind == "outside":
        return f"({c} < {_num(rule.low)} OR {c} > {_num(rule.high)})"
    if rule.kind == "codes":
        return f"CAST({c} AS VARCHAR) NOT IN ({', '.join(_lit(x) for x in rule.codes)})"
    if rule.kind == "before":
        return f"{c} < {o[0]}"
    if rule.kind == "after":
        return f"{c} > {o[0]}"
    if rule.kind == "days_differ":
        return f"({c} - {o[0]}) <> {o[1]}"
    if rule.kind == "date_without_flag":
        return f"({c} IS NOT NULL AND ({o[0]} IS NULL OR {o[0]} <> 'Y'))"
    if rule.kind == "flag_without_date":
        return f"({c} = 'Y' AND {o[0]} IS NULL)"
    if rule.kind == "given_when":
        return f"({c} IS NOT NULL AND {o[0]} = {_lit(rule.codes[0])})"
    if rule.kind == "missing_while":
        return f"({c} IS NULL AND {o[0]} IS NOT NULL)"
    raise ValueError(rule.kind)


def hits_sql(rules: Sequence[RowRule], relation: str, where: str = "TRUE") -> str:
    """One pass over `relation` giving (row, rule id) for every failing rule."""
    cases = ", ".join(f"CASE WHEN {rule_sql(r)} THEN {_lit(r.id)} END" for r in rules)
    any_fails = " OR ".join(f"({rule_sql(r)})" for r in rules)
    return (
        f"SELECT __row AS row, rule FROM (SELECT __row, unnest([{cases}]) AS rule "
        f"FROM {relation} WHERE __err IS NULL AND {where} AND ({any_fails})) "
        "WHERE rule IS NOT NULL"
    )


# --- pandas / pandera engine

Predicate = Callable[[pd.DataFrame], pd.Series]


def fetch_columns(rules: Sequence[RowRule], types: dict[str, str]) -> dict[str, str]:
    """Frame column -> SQL expression over the typed view, for the pandas engine.

    Dates arrive as day numbers (integers), so that pandas compares and subtracts them
    exactly as DuckDB does; codes arrive as text.
    """
    out: dict[str, str] = {}
    for rule in rules:
        if rule.kind == "unreadable":
            out[f"__bad_{rule.column}"] = internal("__bad_", rule.column)
            continue
        if rule.kind == "codes":
            out[f"__code_{rule.column}"] = f"CAST({quote_ident(rule.column)} AS VARCHAR)"
            continue
        for col in rule.columns:
            ident = quote_ident(col)
            out[col] = (f"({ident} - DATE '1970-01-01')" if types.get(col) == "DATE"
                        else ident)
    return out


def rule_predicate(rule: RowRule) -> Predicate:
    """The pandas twin of `rule_sql`: True where the rule fails (missing compares false)."""
    c, o, k = rule.column, rule.others, rule.kind

    if k == "missing":
        return lambda f: f[c].isna()
    if k == "unreadable":
        return lambda f: f[f"__bad_{c}"].fillna(False).astype(bool)
    if k == "below":
        low = rule.low
        return lambda f: f[c].astype("float64") < low
    if k == "outside":
        low, high = rule.low, rule.high
        return lambda f: (f[c].astype("float64") < low) | (f[c].astype("float64") > high)
    if k == "codes":
        codes = list(rule.codes)
        return lambda f: f[f"__code_{c}"].notna() & ~f[f"__code_{c}"].isin(codes)
    if k == "before":
        return lambda f: f[c].astype("float64") < f[o[0]].astype("float64")
    if k == "after":
        return lambda f: f[c].astype("float64") > f[o[0]].astype("float64")
    if k == "days_differ":
        def differ(f: pd.DataFrame) -> pd.Series:
            a, s, v = (f[x].astype("float64") for x in (c, o[0], o[1]))
            return a.notna() & s.notna() & v.notna() & ((a - s) != v)
        return differ
    if k == "date_without_flag":
        return lambda f: f[c].notna() & (f[o[0]].isna() | (f[o[0]] != "Y"))
    if k == "flag_without_date":
        return lambda f: (f[c] == "Y") & f[o[0]].isna()
    if k == "given_when":
        value = rule.codes[0]
        return lambda f: f[c].notna() & (f[o[0]] == value)
    if k == "missing_while":
        return lambda f: f[c].isna() & f[o[0]].notna()
    raise ValueError(k)


def _single(rule: RowRule) -> str | None:
    if rule.kind == "unreadable":
        return f"__bad_{rule.column}"
    if rule.kind == "codes":
        return f"__code_{rule.column}"
    return rule.column if not rule.others else None


def pandera_schemas(rules: Sequence[RowRule]) -> list[tuple[Any, list[str]]]:
    """pandera schemas for `rules`: one with a column check per single-column rule, and
    one per multi-column rule (validated on just its columns). Each check is named by
    its rule id. Returns (schema, frame columns it reads)."""
    import pandera.pandas as pa

    def check(rule: RowRule) -> Any:
        fails = rule_predicate(rule)
        return pa.Check(lambda f, fails=fails: ~fails(f), name=rule.id, ignore_na=False)

    def column_check(rule: RowRule) -> Any:
        col = _single(rule)
        fails = rule_predicate(rule)
        return pa.Check(lambda s, fails=fails, col=col: ~fails(s.to_frame(col)),
                        name=rule.id, ignore_na=False)

    by_column: dict[str, list[Any]] = {}
    out: list[tuple[Any, list[str]]] = []
    for rule in rules:
        col = _single(rule)
        if col is not None:
            by_column.setdefault(col, []).append(column_check(rule))
        else:
            cols = list(dict.fromkeys(rule.columns))
            out.append((pa.DataFrameSchema(checks=[check(rule)]), cols))
    if by_column:
        schema = pa.DataFrameSchema(
            {col: pa.Column(checks=checks, nullable=True, required=True)
             for col, checks in by_column.items()}
        )
        out.insert(0, (schema, list(by_column)))
    return out


def pandera_hits(frame: pd.DataFrame, schemas: list[tuple[Any, list[str]]]) -> pd.DataFrame:
    """(row, rule) of every failure in `frame` (indexed by row number)."""
    import pandera.pandas as pa

    found: list[pd.DataFrame] = []
    for schema, cols in schemas:
        try:
            with warnings.catch_warnings():
                # pandera 0.35 concatenates failure cases that are all missing values
                # (the failures of a "missing" rule), which pandas 2.3 warns about
                warnings.simplefilter("ignore", FutureWarning)
                schema.validate(frame[cols], lazy=True)
        except pa.errors.SchemaErrors as exc:
            fc = exc.failure_cases
            fc = fc[fc["index"].notna()]
            found.append(pd.DataFrame({"row": fc["index"].astype("int64"),
                                       "rule": fc["check"].astype(str)}))
    if not found:
        return pd.DataFrame({"row": pd.Series(dtype="int64"), "rule": pd.Series(dtype=str)})
    return pd.concat(found).drop_duplicates().reset_index(drop=True)


def check_frame(frame: pd.DataFrame, table: str, file: str = "preview") -> list[DataIssue]:
    """Row rules over a pandas frame already mapped to data-model names (e.g. the app's
    preview of an interactive mapping). Values are read the way the loader reads text:
    numbers and ISO dates; issues name `file`, the 1-based row and the column."""
    schema = TABLES_ALL[table]
    present = {str(c) for c in frame.columns}
    typed = pd.DataFrame(index=pd.RangeIndex(1, len(frame) + 1))
    for col in schema.columns:
        if col.name not in present:
            continue
        text = frame[col.name].reset_index(drop=True).set_axis(typed.index)
        text = text.map(lambda v: None if v is None or (isinstance(v, float) and v != v)
                        or str(v).strip() == "" else v)
        value = _pandas_typed(text, col)
        typed[col.name] = value
        typed[f"__bad_{col.name}"] = value.isna() & text.notna()
        typed[f"__code_{col.name}"] = value.map(
            lambda v: None if v is None or (isinstance(v, float) and v != v) else
            str(int(v)) if isinstance(v, float) and v.is_integer() else str(v))
    rules = row_rules(table, present)
    hits = pandera_hits(typed, pandera_schemas(rules))
    by_id = {r.id: r for r in rules}
    issues = []
    for row, rule_id in sorted(zip(hits["row"], hits["rule"], strict=True)):
        rule = by_id[rule_id]
        raw = frame[rule.column].iloc[int(row) - 1]
        issues.append(DataIssue(file, int(row), rule.column,
                                None if raw is None or raw != raw else str(raw),
                                rule.severity, rule.message))
    return issues


def _pandas_typed(text: pd.Series, col: Column) -> pd.Series:
    if col.name in IDENTIFIERS:
        return text.map(lambda v: None if v is None or not str(v).strip(ID_SPACE)
                        else str(v).strip(ID_SPACE))
    if col.type in ("str", "flag"):
        return text.map(lambda v: None if v is None else str(v))
    if col.type == "date":
        parsed = pd.to_datetime(text.map(lambda v: None if v is None else str(v)),
                                format="%Y-%m-%d", errors="coerce")
        return (parsed - pd.Timestamp("1970-01-01")).dt.days
    number = pd.to_numeric(text, errors="coerce").astype("float64")
    number = number.where(number.abs() != float("inf"))
    if col.type == "int":
        number = number.where(number == number.round())
    return number
