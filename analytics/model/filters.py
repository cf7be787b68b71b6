"""The filter state: one plain, hashable value that can be saved, put in a URL
and printed on every export.

Text form (used by the command line and the URL), one clause per item:
``COL=V1,V2`` (in), ``COL!=V`` (not in), ``COL>=X``, ``COL<=X``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

Op = Literal["in", "not_in", ">=", "<="]

# Limits checked before any parsing, so a URL cannot make the server parse without end;
# the parser itself reads each character once (no backtracking over user text).
MAX_CLAUSE_CHARS = 2_000
MAX_CLAUSES = 50
MAX_FILTER_TEXT = 20_000
MAX_VALUES = 500
_IDENT_START = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
_IDENT = _IDENT_START | frozenset("0123456789_")
_OP_TEXT: dict[Op, str] = {"in": "=", "not_in": "!=", ">=": ">=", "<=": "<="}
_TEXT_OP: dict[str, Op] = {v: k for k, v in _OP_TEXT.items()}


class FilterError(ValueError):
    """A filter that cannot be understood or names an unknown column."""


@dataclass(frozen=True, order=True)
class Clause:
    column: str
    op: Op
    values: tuple[str, ...]

    def __str__(self) -> str:
        return f"{self.column}{_OP_TEXT[self.op]}{','.join(self.values)}"


@dataclass(frozen=True)
class FilterState:
    """An immutable, order-independent set of clauses on subject-level columns."""

    clauses: tuple[Clause, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "clauses", tuple(sorted(set(self.clauses))))

    @classmethod
    def parse(cls, items: Iterable[str]) -> FilterState:
        clauses: list[Clause] = []
        for item in items:
            if not item or not item.strip():
                continue
            if len(clauses) >= MAX_CLAUSES:
                raise FilterError(f"more than {MAX_CLAUSES} filter clauses")
            clauses.append(_parse_clause(item))
        return cls(tuple(clauses))

    @classmethod
    def from_mapping(cls, mapping: Mapping[str, Sequence[str]]) -> FilterState:
        """Equality filters from {column: [values]}; empty lists mean 'no filter'."""
        return cls(
            tuple(
                Clause(col, "in", tuple(str(v) for v in vals))
                for col, vals in mapping.items()
                if vals
            )
        )

    def to_strings(self) -> list[str]:
        return [str(c) for c in self.clauses]

    def describe(self) -> str:
        return "; ".join(self.to_strings()) if self.clauses else "no filters (all patients)"

    def columns(self) -> set[str]:
        return {c.column for c in self.clauses}

    def without(self, clause: Clause) -> FilterState:
        return FilterState(tuple(c for c in self.clauses if c != clause))

    def merged(self, other: FilterState) -> FilterState:
        return FilterState(self.clauses + other.clauses)

    def __bool__(self) -> bool:
        return bool(self.clauses)


def split_clauses(text: str) -> list[str]:
    """The clauses of a filter text (one per ';' or line), its length checked first."""
    if len(text) > MAX_FILTER_TEXT:
        raise FilterError(
            f"the filter text is {len(text):,} characters long; at most "
            f"{MAX_FILTER_TEXT:,} are read"
        )
    return [p for p in text.replace("\n", ";").split(";") if p.strip()]


def _shown(item: str) -> str:
    return repr(item if len(item) <= 80 else item[:77] + "...")


def _parse_clause(item: str) -> Clause:
    """One clause `COL op V1,V2`, read left to right in one pass."""
    if len(item) > MAX_CLAUSE_CHARS:
        raise FilterError(
            f"filter {_shown(item)} is {len(item):,} characters long; at most "
            f"{MAX_CLAUSE_CHARS:,} are read"
        )
    text = item.strip()
    end = 0
    if text and text[0] in _IDENT_START:
        end = 1
        while end < len(text) and text[end] in _IDENT:
            end += 1
    col, rest = text[:end], text[end:].lstrip()
    op_text = next((o for o in ("!=", ">=", "<=", "=") if rest.startswith(o)), None)
    if not col or op_text is None:
        raise FilterError(
            f"filter {_shown(item)} is not of the form COL=V1,V2, COL!=V, COL>=X or COL<=X"
        )
    rhs = rest[len(op_text) :].strip()
    if rhs.count(",") >= MAX_VALUES:
        raise FilterError(f"filter {_shown(item)} lists more than {MAX_VALUES} values")
    values = tuple(v.strip() for v in rhs.split(",")) if rhs else ()
    if not values or any(v == "" for v in values):
        raise FilterError(f"filter {_shown(item)} has an empty value")
    op = _TEXT_OP[op_text]
    if op in (">=", "<=") and len(values) != 1:
        raise FilterError(f"filter {_shown(item)}: {op_text} takes exactly one value")
    return Clause(col.upper(), op, values)


def quote_ident(name: str) -> str:
    """Quote an identifier that has already been checked against the schema."""
    if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*", name):
        raise FilterError(f"{name!r} is not a valid column name")
    return '"' + name + '"'
