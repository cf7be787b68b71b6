"""Building a mapping interactively: `suggest_mapping` proposes renames from the
schema's names and labels, `suggest_values` proposes recodes, and `apply_mapping`
applies a mapping to a pandas frame exactly as the loader does.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable

import pandas as pd

from analytics.extract.issues import DataError
from analytics.extract.mapping import ALL_TABLES, ExtractMapping, columns_named
from analytics.model.schema import Column

# Names registries use that neither the schema names nor labels would find.
SYNONYMS: dict[str, str] = {
    "PATIENTID": "USUBJID", "PATID": "USUBJID", "SUBJECTID": "USUBJID", "SUBJID": "USUBJID",
    "SUBJECT": "USUBJID", "PATIENT": "USUBJID", "ID": "USUBJID", "STUDY": "STUDYID",
    "SITE": "SITEID", "CENTRE": "SITEID", "CENTER": "SITEID", "GENDER": "SEX",
    "AGEYEARS": "AGE", "DIALYSIS": "DIALFL", "DIABETES": "DIABFL", "HYPERTENSION": "HTNFL",
    "SMOKING": "SMOKSTAT", "RUTHERFORD": "RUTHCAT", "PROCEDUREDATE": "PROCDT",
    "ENROLMENTDATE": "ENRLDT", "ENROLLMENTDATE": "ENRLDT", "DEATHDATE": "DTHDT",
    "DATEOFDEATH": "DTHDT", "LASTCONTACT": "LSTCNTDT", "LASTCONTACTDATE": "LSTCNTDT",
    "AMPUTATIONDATE": "AMPDT", "MAJORAMPUTATIONDATE": "AMPDT", "ENDPOINT": "PARAMCD",
    "TIME": "AVAL", "DAYS": "AVAL", "CENSOR": "CNSR", "CENSORED": "CNSR",
}


def _norm(text: str) -> str:
    return re.sub(r"[^A-Z0-9]", "", text.upper())


def suggest_mapping(columns: Iterable[str], table: str | None = None) -> dict[str, str]:
    """Propose a data-model column for each source column that resembles one.

    Exact names (any case) come first, then known synonyms, then the closest name
    or label by fuzzy matching (difflib ratio >= 0.8); each target is used once.
    Returns {source column: data-model column}, including exact matches, so the
    app can show every decision; unmatched columns are absent.
    """
    tables = [ALL_TABLES[table]] if table else list(ALL_TABLES.values())
    targets: dict[str, Column] = {}
    for t in tables:
        for c in t.columns:
            targets.setdefault(c.name, c)
    sources = list(dict.fromkeys(columns))
    scored: list[tuple[float, int, str, str]] = []
    for order, src in enumerate(sources):
        key = _norm(src)
        for name, col in targets.items():
            if key == _norm(name):
                score = 3.0
            elif SYNONYMS.get(key) == name:
                score = 2.0
            else:
                best = max(
                    difflib.SequenceMatcher(None, key, _norm(name)).ratio(),
                    difflib.SequenceMatcher(None, key, _norm(col.label)).ratio(),
                )
                if best < 0.8:
                    continue
                score = best
            scored.append((score, -order, src, name))
    chosen: dict[str, str] = {}
    used: set[str] = set()
    for _score, _order, src, name in sorted(scored, reverse=True):
        if src in chosen or name in used:
            continue
        chosen[src] = name
        used.add(name)
    return {s: chosen[s] for s in sources if s in chosen}


_FLAG_WORDS = {"Y": ("Y", "YES", "TRUE", "1", "JA", "OUI", "SI"),
               "N": ("N", "NO", "FALSE", "0", "NEIN", "NON")}


def suggest_values(column: str, values: Iterable[object]) -> dict[str, str]:
    """Propose codes for the distinct source values of one data-model column
    (e.g. Male -> M, Yes -> Y); values already valid or without a match are absent."""
    cols = columns_named(column.upper())
    if not cols:
        raise KeyError(f"unknown column {column!r}")
    allowed = cols[0].allowed
    out: dict[str, str] = {}
    for value in values:
        if value is None or (isinstance(value, float) and value != value):
            continue
        text = str(value)
        if not allowed or text in allowed:
            continue
        up = text.strip().upper()
        match: str | None = None
        if cols[0].type == "flag":
            match = next((code for code, words in _FLAG_WORDS.items() if up in words), None)
        if match is None:
            exact = [c for c in allowed if c.upper() == up]
            starts = [c for c in allowed if up and (up.startswith(c.upper()) or
                                                   c.upper().startswith(up))]
            if exact:
                match = exact[0]
            elif len(starts) == 1:
                match = starts[0]
            else:
                close = difflib.get_close_matches(up, [c.upper() for c in allowed], n=1,
                                                  cutoff=0.8)
                match = next((c for c in allowed if close and c.upper() == close[0]), None)
        if match is not None:
            out[text] = match
    return out


def apply_mapping(frame: pd.DataFrame, mapping: ExtractMapping, table: str) -> pd.DataFrame:
    """The frame as the loader would see it after the mapping: columns renamed
    (case-insensitively) and values recoded as text ("" becomes missing).

    Raises DataError when two columns end up with the same name.
    """
    if table not in ALL_TABLES:
        raise KeyError(f"unknown table {table!r}")
    renames = mapping.renames(table)
    names = [renames.get(str(c).strip().upper(), str(c).strip().upper()) for c in frame.columns]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise DataError.of(table, f"two columns would both be called {dupes[0]}", dupes[0])
    out = frame.copy()
    out.columns = pd.Index(names)
    known = {c.name: c for c in ALL_TABLES[table].columns}
    for name in names:
        col = known.get(name)
        recode = mapping.recodes(col) if col is not None else {}
        if not recode:
            continue
        series = out[name]
        text = series.map(lambda v: v if v is None or isinstance(v, str) else _as_text(v))
        mapped = text.map(lambda v, r=recode: r.get(v, v) if isinstance(v, str) else v)
        out[name] = mapped.map(lambda v: None if v == "" else v)
    return out


def _as_text(value: object) -> object:
    if isinstance(value, float):
        if value != value:
            return None
        return str(int(value)) if value.is_integer() else repr(value)
    return str(value)
