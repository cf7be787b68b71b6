"""The published evidence file: what it holds, and reading and checking it.

``data/reference/dva_literature.json`` is a copy of the shared reference file (a test
keeps them equal), so the app never reads outside the project at run time. It holds
``studies`` (trials, real-world series, pooled and meta-analyses) and
``reference_rates`` (no-option CLTI without DVA, and the sources of performance goals),
each with its outcomes: endpoint code, month, proportion, 95% interval where published.

Everything about a study is read from the file: adding one needs no code change. The
file is checked whole when loaded (:func:`load_evidence`); a mistake is a ValueError
naming the file, the entry (position and id), the outcome and the field, so whoever
edits it can find it.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from analytics.model.schema import DAYS_PER_MONTH, ENDPOINTS

EVIDENCE_FILE = Path(__file__).resolve().parents[2] / "data" / "reference" / "dva_literature.json"
REFERENCE_KIND = "reference rate"

_STUDY_FIELDS = frozenset({"id", "kind", "design", "year", "n", "source", "outcomes"})
_REFERENCE_FIELDS = frozenset({"id", "what", "source", "outcomes"})
_OUTCOME_FIELDS = frozenset({"endpoint", "months", "value", "ci", "method", "subset"})


def month_day(months: float) -> float:
    """The day a month count stands for: 6 months is day 183 and 12 months day 365,
    the landmarks the rest of the dashboard uses."""
    return float(round(months * DAYS_PER_MONTH))


@dataclass(frozen=True)
class Outcome:
    """One published figure: a proportion free of the event (0-1)."""

    endpoint: str  # a code of analytics.model.schema.ENDPOINTS
    months: float | None  # None: the source gives no time point (a pooled estimate)
    value: float
    ci: tuple[float, float] | None = None  # 95% interval, where published
    method: str | None = None
    subset: str | None = None

    @property
    def day(self) -> float | None:
        return None if self.months is None else month_day(self.months)


@dataclass(frozen=True)
class Study:
    """A study or a reference rate (`reference` True: the file's ``reference_rates``,
    whose `design` is the entry's ``what`` and `kind` is REFERENCE_KIND)."""

    id: str
    kind: str
    design: str
    year: int | None
    n: int | None
    source: str
    outcomes: tuple[Outcome, ...]
    reference: bool = False
    position: str = ""  # where it sits in the file, "studies[2]"


@dataclass(frozen=True)
class Evidence:
    path: Path
    about: str
    studies: tuple[Study, ...]
    reference_rates: tuple[Study, ...]
    fingerprint: str  # SHA-256 of the file: a cache key that changes with its content

    @property
    def entries(self) -> tuple[Study, ...]:
        """Studies, then reference rates, in file order."""
        return self.studies + self.reference_rates

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(s.id for s in self.entries)


# --- reading and checking the file ----------------------------------------------------


class _Where:
    """Names a place in the file for error messages."""

    def __init__(self, path: Path, parts: tuple[str, ...] = ()) -> None:
        self.path = path
        self.parts = parts

    def at(self, part: str) -> _Where:
        return _Where(self.path, (*self.parts, part))

    def fail(self, problem: str) -> ValueError:
        place = ", ".join(self.parts)
        return ValueError(f"{self.path}: {place + ': ' if place else ''}{problem}")


def _text(entry: Mapping[str, Any], key: str, where: _Where, required: bool = True) -> str | None:
    value = entry.get(key)
    if value is None:
        if required:
            raise where.fail(f"field '{key}' is missing")
        return None
    if not isinstance(value, str) or not value.strip():
        raise where.at(f"field '{key}'").fail(f"{value!r} is not a non-empty text")
    return value.strip()


def _integer(entry: Mapping[str, Any], key: str, where: _Where, low: int) -> int | None:
    value = entry.get(key)
    if value is None:
        return None
    # JSON true is a bool, which Python counts as an int
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise where.at(f"field '{key}'").fail(f"{value!r} is not a whole number >= {low}")
    return value


def _proportion(value: Any, where: _Where) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise where.fail(f"{value!r} is not a number")
    x = float(value)
    if not (math.isfinite(x) and 0.0 <= x <= 1.0):
        raise where.fail(f"{value!r} is not a proportion between 0 and 1")
    return x


def _unknown(entry: Mapping[str, Any], allowed: frozenset[str], where: _Where) -> None:
    # a mistyped key ("CI", "month") would otherwise drop a number without a word
    extra = sorted(set(entry) - allowed)
    if extra:
        raise where.fail(
            f"unknown field '{extra[0]}' (the fields are {', '.join(sorted(allowed))})"
        )


def _outcome(raw: Any, where: _Where) -> Outcome:
    if not isinstance(raw, dict):
        raise where.fail("is not an object")
    _unknown(raw, _OUTCOME_FIELDS, where)
    code = _text(raw, "endpoint", where)
    assert code is not None
    if code not in ENDPOINTS:
        raise where.at("field 'endpoint'").fail(
            f"unknown endpoint code {code!r} (known: {', '.join(ENDPOINTS)})"
        )
    months: float | None = None
    if "months" not in raw:
        raise where.fail("field 'months' is missing (null when the source gives no time)")
    if raw["months"] is not None:
        m = raw["months"]
        if isinstance(m, bool) or not isinstance(m, int | float) or not 0 < m < 1200:
            raise where.at("field 'months'").fail(f"{m!r} is not a number of months above 0")
        months = float(m)
    if "value" not in raw:
        raise where.fail("field 'value' is missing")
    value = _proportion(raw["value"], where.at("field 'value'"))
    ci: tuple[float, float] | None = None
    if raw.get("ci") is not None:
        here = where.at("field 'ci'")
        pair = raw["ci"]
        if not isinstance(pair, list) or len(pair) != 2:
            raise here.fail(f"{pair!r} is not a pair [lower, upper]")
        lo, hi = (_proportion(x, here) for x in pair)
        if not lo <= value <= hi:
            raise here.fail(f"{pair!r} does not enclose the value {raw['value']!r}")
        ci = (lo, hi)
    return Outcome(
        endpoint=code,
        months=months,
        value=value,
        ci=ci,
        method=_text(raw, "method", where, required=False),
        subset=_text(raw, "subset", where, required=False),
    )


def _entry(raw: Any, where: _Where, position: str, reference: bool) -> Study:
    if not isinstance(raw, dict):
        raise where.fail("is not an object")
    study_id = _text(raw, "id", where)
    assert study_id is not None
    where = _Where(where.path, (f"{position} (id {study_id!r})",))
    _unknown(raw, _REFERENCE_FIELDS if reference else _STUDY_FIELDS, where)
    source = _text(raw, "source", where)
    assert source is not None
    outcomes = raw.get("outcomes")
    if not isinstance(outcomes, list) or not outcomes:
        raise where.fail("field 'outcomes' is missing or empty (a list of outcomes)")
    parsed = tuple(_outcome(o, where.at(f"outcomes[{i}]")) for i, o in enumerate(outcomes))
    if reference:
        what = _text(raw, "what", where) or ""
        return Study(study_id, REFERENCE_KIND, what, None, None, source, parsed, True, position)
    kind = _text(raw, "kind", where) or ""
    design = _text(raw, "design", where, required=False) or ""
    year, n = _integer(raw, "year", where, 1800), _integer(raw, "n", where, 1)
    return Study(study_id, kind, design, year, n, source, parsed, False, position)


def load_evidence(path: Path | str | None = None) -> Evidence:
    """The evidence file (default: the project's copy, EVIDENCE_FILE), checked whole.

    Raises ValueError naming the file, the entry, the outcome and the field at fault:
    a value outside 0-1, an interval that is not a pair around its value, a missing
    source, an unknown endpoint code, a repeated id, an unknown field.
    """
    file = Path(path) if path is not None else EVIDENCE_FILE
    top = _Where(file)
    try:
        raw_bytes = file.read_bytes()
    except OSError as exc:
        raise top.fail(f"the evidence file cannot be read ({exc.strerror or exc})") from exc
    try:
        doc = json.loads(raw_bytes.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise top.fail(f"not valid JSON ({exc})") from exc
    if not isinstance(doc, dict):
        raise top.fail("the file is not a JSON object with 'studies'")
    found: dict[str, list[Study]] = {}
    for key, reference in (("studies", False), ("reference_rates", True)):
        items = doc.get(key, [] if reference else None)
        if not isinstance(items, list) or (not reference and not items):
            raise top.fail(f"field '{key}' is missing or not a list")
        found[key] = [
            _entry(item, top.at(f"{key}[{i}]"), f"{key}[{i}]", reference)
            for i, item in enumerate(items)
        ]
    seen: dict[str, str] = {}
    for study in found["studies"] + found["reference_rates"]:
        if study.id in seen:
            raise top.at(f"{study.position} (id {study.id!r})").fail(
                f"the id is already used by {seen[study.id]}"
            )
        seen[study.id] = study.position
    about = doc.get("about")
    return Evidence(
        path=file,
        about=about if isinstance(about, str) else "",
        studies=tuple(found["studies"]),
        reference_rates=tuple(found["reference_rates"]),
        fingerprint=hashlib.sha256(raw_bytes).hexdigest(),
    )
