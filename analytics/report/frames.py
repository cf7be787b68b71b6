"""Result objects as plain tables, for display and for CSV download.

Nothing is estimated here: the functions lay out numbers that result objects already
hold (subgroup rows, summary tables of several groups side by side), and write a table
as CSV preceded by ``#`` comment lines naming the table, the active filters and the
provenance, so that a downloaded file says what it is. Read it back with
``pandas.read_csv(f, comment="#")``.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Mapping

import pandas as pd

from analytics.analyses.subgroups import SubgroupResult
from analytics.analyses.tables import SummaryTable
from analytics.model.provenance import Provenance

__all__ = [
    "ABSENT",
    "SUBGROUP_COLUMNS",
    "neutralise_formulas",
    "side_by_side",
    "stack",
    "subgroup_frame",
    "table_csv",
    "write_csv",
]

# A spreadsheet runs a cell that starts with one of these as a formula (OWASP's CSV
# injection list); a leading single quote makes it plain text.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

ABSENT = "–"  # in side_by_side: no patient of the group has this level
SUBGROUP_COLUMNS = (
    "Variable",
    "Level",
    "n",
    "Events",
    "Estimate",
    "Estimate lower",
    "Estimate upper",
    "At risk",
    "Hazard ratio",
    "HR lower",
    "HR upper",
    "HR p",
    "Reference",
    "Heterogeneity p",
    "Missing",
    "Note",
)


def subgroup_frame(result: SubgroupResult) -> pd.DataFrame:
    """One row per level of every variable (a variable without levels gets one row with
    its note). The estimate is the Kaplan-Meier proportion at the landmark; numbers a
    level is too small for are empty and ``Note`` says why."""
    rows: list[dict[str, object]] = []
    for var in result.variables:
        common = {
            "Variable": var.label,
            "Heterogeneity p": var.p_interaction,
            "Missing": var.n_missing,
        }
        if not var.levels:
            rows.append({**common, "Note": var.note})
            continue
        for lv in var.levels:
            notes = [x for x in (lv.reason, var.note if lv.is_reference else None) if x]
            rows.append(
                {
                    **common,
                    "Level": lv.level,
                    "n": lv.n,
                    "Events": lv.events,
                    "Estimate": lv.estimate,
                    "Estimate lower": lv.lower,
                    "Estimate upper": lv.upper,
                    "At risk": lv.at_risk,
                    "Hazard ratio": lv.hazard_ratio,
                    "HR lower": lv.hr_lower,
                    "HR upper": lv.hr_upper,
                    "HR p": lv.p_value,
                    "Reference": lv.is_reference,
                    "Note": "; ".join(notes) or None,
                }
            )
    return pd.DataFrame(rows, columns=list(SUBGROUP_COLUMNS))


def side_by_side(
    tables: Mapping[str, SummaryTable],
    texts: Callable[[SummaryTable], list[str]] | None = None,
    sizes: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """Several summary tables of the same rows (one per group), as Section,
    Characteristic, then one ``Value`` column per group headed "<group> (n = N)".

    A row one group lacks (a level none of its patients has) reads `ABSENT` there.
    `texts` writes a table's values (default: each row's text), `sizes` a group's N
    (default: the number), as small-cell protection needs."""
    out: pd.DataFrame | None = None
    for name, table in tables.items():
        frame = table.to_frame()[["Section", "Characteristic", "Value"]]
        if texts is not None:
            frame["Value"] = texts(table)
        size = (sizes or {}).get(name, f"{table.n:,}")
        frame = frame.rename(columns={"Value": f"{name} (n = {size})"})
        frame["_order"] = range(len(frame))
        if out is None:
            out = frame
        else:
            # a level seen in one group only still gets its row, in first-seen order
            out = out.merge(
                frame, on=["Section", "Characteristic"], how="outer", suffixes=("", "_r")
            )
            out["_order"] = out["_order"].fillna(out["_order_r"] + 0.5)
            out = out.drop(columns="_order_r")
    if out is None:
        return pd.DataFrame(columns=["Section", "Characteristic"])
    out = out.sort_values("_order", kind="stable").drop(columns="_order")
    values = [c for c in out.columns if c not in ("Section", "Characteristic")]
    out[values] = out[values].fillna(ABSENT)
    return out.reset_index(drop=True)


def stack(frames: Mapping[str, pd.DataFrame], column: str) -> pd.DataFrame:
    """Per-group tables of the same columns as one, with the group in `column` first."""
    parts = [f.assign(**{column: name}) for name, f in frames.items()]
    if not parts:
        return pd.DataFrame(columns=[column])
    out = pd.concat(parts, ignore_index=True)
    return out[[column, *[c for c in out.columns if c != column]]]


def _comment(text: str) -> str:
    return "# " + " ".join(str(text).split())


def _neutral(value: object) -> object:
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def neutralise_formulas(frame: pd.DataFrame) -> pd.DataFrame:
    """`frame` with every text cell and column name that a spreadsheet would run as a
    formula made plain text; numbers (a negative one included) are left as they are."""
    out = frame.rename(columns=lambda c: _neutral(c) if isinstance(c, str) else c)
    for col in out.columns[out.dtypes.eq(object).to_numpy()]:
        out[col] = out[col].map(_neutral)
    return out


def write_csv(frame: pd.DataFrame, buf: io.StringIO, **options: object) -> None:
    """`frame` as CSV into `buf`, formulas neutralised. A carriage return inside a cell is
    not quoted under pandas' minimal quoting with "\\n" line ends, so a reader would
    start a new row there (and a formula could hide behind it): such a table quotes
    every text cell."""
    safe = neutralise_formulas(frame)
    text = safe.columns[safe.dtypes.eq(object).to_numpy()]
    has_cr = any(safe[c].map(lambda v: isinstance(v, str) and "\r" in v).any() for c in text)
    quoting = csv.QUOTE_NONNUMERIC if has_cr else csv.QUOTE_MINIMAL
    safe.to_csv(buf, index=False, lineterminator="\n", quoting=quoting, **options)


def table_csv(
    frame: pd.DataFrame, title: str, view: str, provenance: Provenance | None = None
) -> bytes:
    """UTF-8 CSV of `frame` after comment lines: the title, the view in words as the
    page prints it (``Filters: ...; compared by ...``, `View.describe`) and the
    provenance footnote."""
    lines = [_comment(title), _comment(view)]
    if provenance is not None:
        lines.append(_comment(provenance.footnote()))
    buf = io.StringIO()
    buf.write("\n".join(lines) + "\n")
    write_csv(frame, buf, float_format="%.10g")
    return buf.getvalue().encode("utf-8")
