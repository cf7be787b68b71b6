"""Staging a Parquet file: a view over the file (a million rows are never copied). A
time zone-aware timestamp is read as the wall time of its zone, so a date stored as
local midnight keeps its calendar day.
"""

from __future__ import annotations

import re

import duckdb

from analytics.extract.discovery import Source
from analytics.extract.issues import DataError, DataIssue, short_message
from analytics.extract.staged import Staged, finish, sql_path


def stage_parquet(con: duckdb.DuckDBPyConnection, source: Source, rel: str) -> Staged:
    try:
        described = con.execute("DESCRIBE SELECT * FROM read_parquet(?)",
                                [str(source.path)]).fetchall()
        names = [str(r[0]) for r in described]
        zones, notes = _time_zones(con, source, names, [str(r[1]) for r in described])
        # an instant (a time zone-aware timestamp) is read as the wall time of the zone
        # it was written in: a date stored as local midnight keeps its calendar day
        cols = ", ".join(
            f"{zones[i]} AS c{i}" if i in zones
            else f"#{i} AS c{i}" for i in range(1, len(names) + 1))
        # a view, not a copy: the database keeps pointing at the file
        con.execute(
            f'CREATE VIEW "{rel}" AS SELECT file_row_number + 1 AS __row, '
            f"CAST(NULL AS VARCHAR) AS __err, CAST(NULL AS VARCHAR) AS __extra"
            f"{', ' if cols else ''}{cols} "
            f"FROM read_parquet('{sql_path(source.path)}', file_row_number = true)"
        )
        return finish(con, source, rel, names, notes)
    except duckdb.Error as exc:
        raise DataError.of(source.label, "cannot be read as Parquet "
                           f"({short_message(exc, source.path, source.label)})") from None


_OFFSET = re.compile(r"([+-])(\d{2}):?(\d{2})?")


def _time_zones(con: duckdb.DuckDBPyConnection, source: Source, names: list[str],
                types: list[str]) -> tuple[dict[int, str], list[DataIssue]]:
    """Columns (1-based) holding instants -> SQL reading them as the wall time of the
    time zone the writer stored (pandas and pyarrow keep it in the file's Arrow schema:
    a name such as Europe/Berlin, or an offset such as +01:00), else of UTC."""
    positions = [i for i, t in enumerate(types, start=1) if "WITH TIME ZONE" in t.upper()]
    if not positions:
        return {}, []
    stored: dict[int, str] = {}
    try:
        import pyarrow.parquet as pq

        schema = pq.read_schema(source.path)
        for i in positions:
            if len(schema.names) == len(names) and schema.names[i - 1] == names[i - 1]:
                tz = getattr(schema.field(i - 1).type, "tz", None)
                if isinstance(tz, str) and tz:
                    stored[i] = tz
    except Exception:  # no Arrow schema, or one pyarrow cannot read: UTC, as DuckDB has it
        stored = {}
    zones: dict[int, str] = {}
    notes: list[DataIssue] = []
    for i in positions:
        zone = stored.get(i, "UTC")
        offset = _OFFSET.fullmatch(zone)
        if offset:
            sign, hours, minutes = offset.groups()
            shift = (int(hours) * 60 + int(minutes or 0)) * (-1 if sign == "-" else 1)
            zones[i] = f"(timezone('UTC', #{i}) + INTERVAL ({shift}) MINUTE)"
            continue
        try:
            con.execute("SELECT timezone(?, TIMESTAMPTZ '2000-01-01 00:00:00+00')", [zone])
        except duckdb.Error:
            notes.append(DataIssue(source.label, None, names[i - 1], zone, "warning",
                                   f"the time zone {zone} stored with the column is not "
                                   "known: its times are read in UTC"))
            zone = "UTC"
        zones[i] = f"timezone('{zone.replace(chr(39), chr(39) * 2)}', #{i})"
    return zones, notes
