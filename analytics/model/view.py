"""The view: filters, compare-by and the options that change what is computed, as one
frozen value with a URL form, a printable form and a cache key.

The URL form is the dashboard's: a column name holds an equality filter
(``?DIALFL=N``, values repeated or comma-separated), ``AGE`` two bounds, ``ENRL`` two
enrolment quarters (``2020-Q1``), ``where`` any other clauses (``BMI>=30; SEX=F``),
``compare`` a column, and ``landmark`` (days), ``goal`` (percent), ``ci``, ``ticks``
(months), ``band``, ``riskrows``, ``minrisk`` and ``present`` the view options. The
command line takes the same text (``--view "DIALFL=N&compare=SEX"``), so a saved link
and a command give the same numbers. Parsing is bounded and never raises on user text:
what cannot be used is listed in `problems`, clause by clause, with the reason.
"""

from __future__ import annotations

import calendar
import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal
from urllib.parse import parse_qsl, urlencode

from analytics.model.filters import (
    MAX_CLAUSES,
    MAX_FILTER_TEXT,
    MAX_VALUES,
    Clause,
    FilterError,
    FilterState,
    split_clauses,
)
from analytics.model.labels import DEFAULT as DEFAULT_LABELS
from analytics.model.labels import Labels
from analytics.model.schema import is_baseline

CIType = Literal["log-log", "log", "plain"]
CI_TYPES: tuple[CIType, ...] = ("log-log", "log", "plain")
AGE, ENROL, TEXT, COMPARE = "AGE", "ENRL", "where", "compare"
POST_BASELINE = "postbaseline"
_OPTION_KEYS = (
    "landmark",
    "goal",
    "ci",
    "ticks",
    "band",
    "riskrows",
    "minrisk",
    "present",
    POST_BASELINE,
)
IMMORTAL_TIME = (
    "known only after the procedure: descriptive only, since a group defined by what "
    "happened after day 0 holds only patients who lived long enough to show it "
    "(immortal-time bias)"
)
_COLUMN = re.compile(r"[A-Z][A-Z0-9_]{0,31}")
_QUARTER = re.compile(r"(\d{4})-Q([1-4])")
_TRUE, _FALSE = ("true", "1", "yes", "on"), ("false", "0", "no", "off")


@dataclass(frozen=True)
class View:
    """Everything a page's numbers depend on besides the data."""

    filters: FilterState = field(default_factory=FilterState)
    compare: str | None = None
    landmark: float = 183.0  # days
    ci_type: CIType = "log-log"
    goal: float = 0.54  # performance goal of amputation-free survival, a proportion
    tick_months: float = 3.0
    show_ci: bool = True
    risk_rows: bool = False
    min_at_risk: int = 10
    presentation: bool = False
    # comparing by a column known only after the procedure, explicitly asked for
    post_baseline: bool = False
    # what the URL asked for and could not be used; not part of the key
    problems: tuple[str, ...] = field(default=(), compare=False)
    # parameters of one page's own widgets (not part of the view), left to that page
    ignored: tuple[str, ...] = field(default=(), compare=False)

    @property
    def _clauses(self) -> tuple[tuple[str, str, tuple[str, ...]], ...]:
        # exact, unlike the clause text, where a value holds a comma
        return tuple((c.column, c.op, c.values) for c in self.filters.clauses)

    @property
    def key(self) -> tuple[Any, ...]:
        """A plain, stable tuple for cache keys (equal views, equal keys)."""
        return (
            self._clauses,
            self.compare,
            float(self.landmark),
            self.ci_type,
            float(self.goal),
            float(self.tick_months),
            self.show_ci,
            self.risk_rows,
            int(self.min_at_risk),
            self.presentation,
            self.post_baseline,
        )

    def describe(self, labels: Labels = DEFAULT_LABELS) -> str:
        """One printable line in clinical words: the filters, the comparison and the
        options that differ from the defaults."""
        parts = [f"Filters: {labels.filters(self.filters)}"]
        if self.compare:
            caveat = "" if is_baseline(self.compare) else f" ({IMMORTAL_TIME})"
            parts.append(f"compared by {labels.column(self.compare)}{caveat}")
        default = View()
        if self.landmark != default.landmark:
            parts.append(f"landmark day {self.landmark:g}")
        if self.ci_type != default.ci_type:
            parts.append(f"{self.ci_type} confidence intervals")
        if self.goal != default.goal:
            parts.append(f"performance goal {100 * self.goal:g}%")
        return "; ".join(parts)

    @property
    def results_key(self) -> tuple[Any, ...]:
        """The part of `key` that changes a result whatever the page: the filters and the
        landmark, CI type and goal. Comparison, ticks and display settings are left out,
        so a page passes the ones its result depends on beside it."""
        return (
            self._clauses,
            float(self.landmark),
            self.ci_type,
            float(self.goal),
        )

    def with_filters(self, filters: FilterState) -> View:
        """This view restricted to other filters (one group of a comparison)."""
        return replace(self, filters=filters, problems=(), ignored=())

    def to_query(self) -> dict[str, str]:
        """URL parameters (codes, never labels); defaults are left out.

        A one-of clause on a column reads ``COL=V1,V2`` as the sidebar's lists write it;
        every other clause, and a value holding a comma, goes in ``where``."""
        query: dict[str, str] = {}
        where: list[str] = []
        for clause in self.filters.clauses:
            listed = (
                clause.op == "in"
                and _COLUMN.fullmatch(clause.column)
                and clause.column not in query
                and clause.column not in (AGE, ENROL)
                and not any("," in v or not v for v in clause.values)
            )
            if listed:
                query[clause.column] = ",".join(clause.values)
            else:
                where.append(str(clause))
        if where:
            query[TEXT] = "; ".join(where)
        if self.compare:
            query[COMPARE] = self.compare
        default = View()
        if self.landmark != default.landmark:
            query["landmark"] = f"{self.landmark:g}"
        if self.goal != default.goal:
            query["goal"] = f"{100 * self.goal:g}"
        if self.ci_type != default.ci_type:
            query["ci"] = self.ci_type
        if self.tick_months != default.tick_months:
            query["ticks"] = f"{self.tick_months:g}"
        for name, value, base in (
            ("band", self.show_ci, default.show_ci),
            ("riskrows", self.risk_rows, default.risk_rows),
            ("present", self.presentation, default.presentation),
            (POST_BASELINE, self.post_baseline, default.post_baseline),
        ):
            if value != base:
                query[name] = "true" if value else "false"
        if self.min_at_risk != default.min_at_risk:
            query["minrisk"] = str(self.min_at_risk)
        return query

    def url_query(self) -> str:
        return urlencode(self.to_query())

    @classmethod
    def from_text(cls, text: str) -> View:
        """The view of a URL's query text (``a=1&b=2``, with or without the ``?``)."""
        if len(text) > MAX_FILTER_TEXT:
            return cls(
                problems=(
                    f"the view text is {len(text):,} characters; at most "
                    f"{MAX_FILTER_TEXT:,} are read",
                )
            )
        pairs = parse_qsl(
            text.lstrip("?"),
            keep_blank_values=True,
            max_num_fields=MAX_CLAUSES + len(_OPTION_KEYS) + MAX_VALUES,
        )
        query: dict[str, list[str]] = {}
        for name, value in pairs:
            query.setdefault(name, []).append(value)
        return cls.from_query(query)

    @classmethod
    def from_query(cls, query: Mapping[str, str | Sequence[str]]) -> View:
        """The view of URL parameters; anything unusable is named in `problems`. A query
        longer than `MAX_FILTER_TEXT` in all, or of more parameters than a view can have,
        is measured before anything is parsed and refused whole."""
        values = {k: [v] if isinstance(v, str) else list(v) for k, v in query.items()}
        size = sum(len(k) + sum(len(v) for v in vs) for k, vs in values.items())
        fields = sum(len(vs) for vs in values.values())
        most = MAX_CLAUSES + len(_OPTION_KEYS) + MAX_VALUES
        if size > MAX_FILTER_TEXT or fields > most:
            longest = max(values, key=lambda k: len(k) + sum(len(v) for v in values[k]))
            return cls(
                problems=(
                    f"{longest[:40]}: the link's view is {size:,} characters long in "
                    f"{fields:,} parameters; at most {MAX_FILTER_TEXT:,} characters in "
                    f"{most:,} parameters are read, so none of it is",
                )
            )
        reader = _Reader()
        clauses: list[Clause] = []
        options: dict[str, Any] = {}
        compare: str | None = None
        ignored: list[str] = []
        for name, items in values.items():
            if name == TEXT:
                clauses += reader.where(" ; ".join(items))
            elif name == COMPARE:
                compare = reader.column(name, items[-1])
            elif name == AGE:
                clauses += reader.bounds(AGE, items, _number)
            elif name == ENROL:
                clauses += reader.bounds("ENRLDT", items, _quarter_day)
            elif name in _OPTION_KEYS:
                options.update(reader.option(name, items[-1]))
            elif _COLUMN.fullmatch(name):
                codes = [v for item in items for v in item.split(",") if v]
                if codes:
                    clauses.append(Clause(name, "in", tuple(codes[:MAX_VALUES])))
            else:
                ignored.append(name[:40])
        if len(clauses) > MAX_CLAUSES:
            reader.problems.append(f"more than {MAX_CLAUSES} filter clauses; the rest unread")
        if compare and not is_baseline(compare) and not options.get("post_baseline"):
            reader.problems.append(
                f"compare={compare}: {IMMORTAL_TIME}; add {POST_BASELINE}=true to compare "
                "by it anyway"
            )
            compare = None
        return cls(
            filters=FilterState(tuple(clauses[:MAX_CLAUSES])),
            compare=compare,
            problems=tuple(reader.problems),
            ignored=tuple(ignored),
            **options,
        )


def _number(text: str, high: bool = False) -> str:
    if not math.isfinite(float(text)):
        raise ValueError(f"{text!r} is not a number")
    return text


def _quarter_day(text: str, high: bool = False) -> str:
    found = _QUARTER.fullmatch(text)
    if not found:
        raise ValueError(f"{text!r} is not a quarter such as 2020-Q1")
    year, quarter = int(found.group(1)), int(found.group(2))
    month = 3 * quarter if high else 3 * quarter - 2
    day = calendar.monthrange(year, month)[1] if high else 1
    return f"{year:04d}-{month:02d}-{day:02d}"


class _Reader:
    """Reads parameter values, collecting what cannot be used instead of raising."""

    def __init__(self) -> None:
        self.problems: list[str] = []

    def where(self, text: str) -> list[Clause]:
        try:
            return list(FilterState.parse(split_clauses(text)).clauses)
        except FilterError as exc:
            self.problems.append(f"{TEXT}: {exc}")
            return []

    def column(self, name: str, value: str) -> str | None:
        if not value or value.lower() in ("none", "null"):
            return None
        if _COLUMN.fullmatch(value.upper()):
            return value.upper()
        self.problems.append(f"{name}={value[:40]!r}: not a column name")
        return None

    def bounds(
        self, column: str, items: list[str], convert: Callable[[str, bool], str]
    ) -> list[Clause]:
        if len(items) != 2:
            self.problems.append(f"{column}: two bounds expected (low and high)")
            return []
        try:
            low, high = convert(items[0], False), convert(items[1], True)
        except ValueError as exc:
            self.problems.append(f"{column}: {exc}")
            return []
        return [Clause(column, ">=", (low,)), Clause(column, "<=", (high,))]

    def option(self, name: str, value: str) -> dict[str, Any]:
        try:
            return _option(name, value)
        except ValueError:
            self.problems.append(f"{name}={value[:40]!r}: not a valid value")
            return {}


def _option(name: str, value: str) -> dict[str, Any]:
    if name == "ci":
        if value not in CI_TYPES:
            raise ValueError(value)
        return {"ci_type": value}
    if name in ("band", "riskrows", "present", POST_BASELINE):
        flag = value.lower()
        if flag not in _TRUE + _FALSE:
            raise ValueError(value)
        field_name = {
            "band": "show_ci",
            "riskrows": "risk_rows",
            "present": "presentation",
            POST_BASELINE: "post_baseline",
        }
        return {field_name[name]: flag in _TRUE}
    number = float(value)
    if name == "landmark" and 1 <= number <= 3650:
        return {"landmark": number}
    if name == "goal" and 1 <= number <= 99:
        return {"goal": number / 100}
    if name == "ticks" and number in (3, 6):
        return {"tick_months": number}
    if name == "minrisk" and 0 <= number <= 1000 and number.is_integer():
        return {"min_at_risk": int(number)}
    raise ValueError(value)
