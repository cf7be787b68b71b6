"""Small-cell protection of what is published: tables of counts, the number at risk,
curves of small groups, Table 1 and 2, the audit.

A count from 1 to 10 reads "<11" (`Disclosure.marker`). Any other cell that would let a
reader work one out (through a column's total published elsewhere, the parts of a row
and their total, or a category's complement within its denominator) is withheld as
well and reads "*" (complementary suppression, `analytics.estimators.suppression`); so
is every share or estimate computed from a withheld count. With protection off every
function returns its input unchanged.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from analytics.analyses.audit_items import NOT_IN_EXTRACT, Estimate, Item, KindCount
from analytics.analyses.tables import row_text
from analytics.estimators.describe import Row
from analytics.estimators.km import KMResult
from analytics.estimators.suppression import Line, primary, suppress
from analytics.model.disclosure import Disclosure

COMPLEMENT = "*"
# Counts whose denominator is the row's patients: the rest may not be worked out.
PARTS_OF_PATIENTS = ("Any", "Serious", "Device-related")
# Count columns of the tables the pages and downloads show, by their names.
COUNT_COLUMNS = frozenset(
    {
        "n",
        "Patients",
        "Events",
        "Known",
        "Unknown",
        "Numerator",
        "Known status",
        "Followed",
        "Wound assessed",
        "Healed",
        "Healing",
        "Not healing",
        "Area measured",
        "Assessed",
        "Missing",
        "Denominator",
        "At risk",
        "Deaths",
        "Amputations",
        "Increased",
        "Decreased",
        "Unchanged",
        "Paired",
        "Patients with an event",
        # adverse events: patients with any, serious, device-related; events by kind
        *PARTS_OF_PATIENTS,
        "Serious: patients",
        "Serious: events",
        "Device-related: patients",
        "Device-related: events",
        "Fatal events",
    }
)
# Cells of the suppression problem that a table does not print: a column's total (known
# from elsewhere), and the rest of a count within its row's denominator.
TOTAL, REST = -1, -2
# A column holding the group a row belongs to: its rows' counts add up within it.
GROUP_COLUMNS = ("Variable", "Group", "Section")
NOTE = (
    '"<{t}": a count from 1 to {m}; "*": withheld so that such a count cannot be worked '
    "out from the others (small-cell protection)."
)


def _number(text: object) -> float | None:
    """A published count cell's value (text "1,234" or a number); None when it is not a
    count (a dash, "not recorded")."""
    if isinstance(text, (int, float, np.integer, np.floating)) and not pd.isna(text):
        return float(text)
    if isinstance(text, str):
        plain = text.replace(",", "").strip()
        if plain.isdigit():
            return float(plain)
    return None


def _put(frame: pd.DataFrame, row: int, column: str, text: str) -> None:
    """Write a mark into a cell, its column made text first (a count column holds
    numbers until something in it is withheld)."""
    if frame[column].dtype != object:
        frame[column] = frame[column].astype(object)
    frame.iloc[row, frame.columns.get_loc(column)] = text


@dataclass(frozen=True)
class Protection:
    disclosure: Disclosure = field(default_factory=Disclosure)

    @property
    def on(self) -> bool:
        return self.disclosure.on

    @property
    def reason(self) -> str:
        return self.disclosure.reason

    @property
    def note(self) -> str:
        t = self.disclosure.threshold
        return NOTE.format(t=t, m=t - 1)

    def too_few(self, n: float | None) -> bool:
        return self.disclosure.too_few(n)

    def count_text(self, x: float) -> str:
        """A count as figures print it ("1,234"), or the marker."""
        return self.disclosure.marker if self.disclosure.hides(x) else f"{x:,.0f}"

    def view_count_text(self, n: int, total: int) -> str:
        """A view's number of patients beside the whole's: the marker when it is small,
        "*" when the patients it leaves out are (`Disclosure.view_reason`)."""
        if self.disclosure.hides(total - n) and not self.disclosure.hides(n):
            return COMPLEMENT
        return self.count_text(n)

    def frame(
        self,
        frame: pd.DataFrame,
        counts: Sequence[str],
        *,
        column_totals: bool = True,
        groups: str | None = None,
        row_parts: Sequence[str] = (),
        row_total: str | None = None,
        derived: Mapping[str, Sequence[str]] | None = None,
        gate: str | None = None,
        denominators: Mapping[str, str] | None = None,
    ) -> pd.DataFrame:
        """`frame` (text cells) with its small counts withheld.

        counts: the count columns. column_totals: each count column adds up to a total
        a reader knows from elsewhere (the patients in view), within each run of rows
        sharing the `groups` column's value when given (a subgroup variable's levels
        add up to the patients with a value). row_parts / row_total:
        in each row the parts add up to the total column (healed + healing + not
        healing = assessed). derived: count column -> columns computed from it (its
        share), withheld with it. gate: a row whose `gate` count is withheld has every
        column other than its first withheld (the estimate of a group too small).
        denominators: count column -> the count column it is a part of in the same row
        (patients with an adverse event of the group's patients): the rest, never
        printed, may not be worked out either.
        """
        if not self.on or frame.empty:
            return frame
        cols = [c for c in counts if c in frame.columns]
        if row_total is not None and row_total in frame.columns and row_total not in cols:
            cols.append(row_total)  # the total is a cell of the row's line
        values: list[float] = []
        where: list[tuple[int, str]] = []
        cell: dict[tuple[int, str], int] = {}
        for i in range(len(frame)):
            for c in cols:
                v = _number(frame[c].iloc[i])
                if v is not None:
                    cell[(i, c)] = len(values)
                    values.append(v)
                    where.append((i, c))
        lines: list[Line] = []
        if column_totals:
            keys = frame[groups].tolist() if groups else [None] * len(frame)
            for c in cols:
                for key in dict.fromkeys(keys):
                    rows = [i for i in range(len(frame)) if keys[i] == key]
                    parts = tuple(cell[(i, c)] for i in rows if (i, c) in cell)
                    if len(parts) > 1:
                        lines.append(Line(parts, len(values)))
                        values.append(sum(values[p] for p in parts))
                        where.append((TOTAL, c))
        if row_total is not None:
            for i in range(len(frame)):
                parts = tuple(cell[(i, c)] for c in row_parts if (i, c) in cell)
                if (i, row_total) in cell and parts:
                    lines.append(Line(parts, cell[(i, row_total)]))
        for c, total in (denominators or {}).items():
            for i in range(len(frame)):
                if (i, c) in cell and (i, total) in cell:
                    rest = values[cell[(i, total)]] - values[cell[(i, c)]]
                    lines.append(Line((cell[(i, c)], len(values)), cell[(i, total)]))
                    values.append(rest)
                    where.append((REST, c))
        ints = [int(v) for v in values]
        small = primary(ints, self.disclosure.threshold)
        withheld = self._suppress(ints, lines, [i == TOTAL for i, _ in where])
        out = frame.copy()
        derived = derived or {}
        for k, (i, c) in enumerate(where):
            if i < 0 or not withheld[k]:
                continue
            _put(out, i, c, self.disclosure.marker if small[k] else COMPLEMENT)
            for d in derived.get(c, ()):
                if d in out.columns:
                    _put(out, i, d, COMPLEMENT)
            if gate == c:
                for d in out.columns[1:]:
                    if d not in cols:
                        _put(out, i, d, COMPLEMENT)
        return out

    def _suppress(self, values: list[int], lines: list[Line], fixed: list[bool]) -> np.ndarray:
        """The cells to withhold; every cell not fixed when no choice protects them all
        (the lines themselves would give a small count away)."""
        try:
            return suppress(values, lines, self.disclosure.threshold, fixed=fixed)
        except ValueError:
            return ~np.asarray(fixed, dtype=bool)

    def table(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Any table the pages show or download: its count columns found by name
        (`COUNT_COLUMNS`), adding up within the rows of one group (`GROUP_COLUMNS`), and
        every other number of a row with a withheld count withheld too (its share, its
        estimate, its interval)."""
        if not self.on or frame.empty:
            return frame
        counts = [c for c in frame.columns if c in COUNT_COLUMNS or str(c).startswith("At risk")]
        if not counts:
            return frame
        groups = next((c for c in GROUP_COLUMNS if c in frame.columns), None)
        parts = {c: "Patients" for c in PARTS_OF_PATIENTS if c in counts and "Patients" in counts}
        out = self.frame(frame, counts, groups=groups, denominators=parts)
        hit = np.zeros(len(out), dtype=bool)
        for c in counts:
            hit |= out[c].isin([self.disclosure.marker, COMPLEMENT]).to_numpy()
        # the columns before the first count name the row (site, group, visit); every
        # column after it is a number of that row, or computed from its counts
        first = min(list(out.columns).index(c) for c in counts)
        for c in out.columns[first:]:
            if c not in counts:
                out[c] = out[c].astype(object)
                out.loc[hit, c] = COMPLEMENT
        return out

    def withheld_groups(self, sizes: Mapping[str, int]) -> set[str]:
        """The groups of a comparison whose size may not be shown (under the threshold,
        or the complement that would give one away from the total): their columns and
        curves are withheld."""
        if not self.on or not sizes:
            return set()
        names = list(sizes)
        values = [int(sizes[k]) for k in names] + [sum(int(v) for v in sizes.values())]
        lines = [Line(tuple(range(len(names))), len(names))] if len(names) > 1 else []
        mask = self._suppress(values, lines, [False] * len(names) + [True])
        return {k for k, m in zip(names, mask[:-1], strict=True) if m}

    def estimates(self, frame: pd.DataFrame, groups: bool = False) -> pd.DataFrame:
        """One row per curve or endpoint (Patients, Events, estimate, CI, At risk): the
        estimate of a curve under the threshold is withheld with its patients. `groups`:
        the rows are the groups of a comparison, whose patients add up to those in view."""
        if not self.on:
            return frame
        protected = self.frame(frame, ["Patients"], column_totals=groups, gate="Patients")
        for col in protected.columns:
            if col == "Events" or str(col).startswith("At risk"):
                protected[col] = [self._primary_text(v) for v in protected[col]]
        return protected

    def risk(self, frame: pd.DataFrame | None) -> pd.DataFrame | None:
        """The number at risk: each count from 1 to 10 reads "<11"."""
        if frame is None or not self.on:
            return frame
        return frame.map(self._primary_text)

    def _primary_text(self, value: object) -> object:
        v = _number(value)
        return self.disclosure.marker if v is not None and self.disclosure.hides(v) else value

    def curves(self, results: Mapping[str, KMResult]) -> tuple[dict[str, KMResult], list[str]]:
        """The curves that may be drawn, and the names of those withheld (a group under
        the threshold)."""
        drawn = {k: r for k, r in results.items() if not self.too_few(r.n)}
        return drawn, [k for k in results if k not in drawn]

    def hidden_note(self, hidden: Sequence[str]) -> str:
        return (
            f"Withheld under small-cell protection (fewer than {self.disclosure.threshold} "
            f"patients, or a group that would reveal one): {', '.join(hidden)}."
        )

    def rows(self, items: Sequence[Item], total: int) -> list[str]:
        """The text of each row of a Table 1-like list (`Row`: "n/N (x%); missing m";
        the audit's `KindCount` and `Estimate` too) with its small counts withheld.

        The cells a reader sees or derives: per count row its n, its complement within
        the denominator (never printed, known when n and N are), the denominator and the
        missing; the patients of the table. Lines: n + complement = N, N + missing =
        the patients, and the categories of one variable (rows of a section sharing a
        denominator that add up to it)."""
        texts = [_item_text(it) for it in items]
        if not self.on:
            return texts
        values: list[int] = [int(total)]
        lines: list[Line] = []
        cell: dict[tuple[int, str], int] = {}

        def add(key: tuple[int, str], value: int) -> int:
            cell[key] = len(values)
            values.append(int(value))
            return cell[key]

        for i, it in enumerate(items):
            n = getattr(it, "n", None)
            if _kind(it) != "count" or n is None:
                continue
            denominator = int(getattr(it, "denominator", 0))
            missing = int(getattr(it, "missing", 0))
            lines.append(
                Line((add((i, "n"), n), add((i, "c"), denominator - n)), add((i, "d"), denominator))
            )
            if denominator + missing == total:
                lines.append(Line((cell[(i, "d")], add((i, "m"), missing)), 0))
        categories: dict[tuple[str, int], list[int]] = {}
        for i, _ in enumerate(items):
            if (i, "n") in cell:
                key = (getattr(items[i], "section", ""), values[cell[(i, "d")]])
                categories.setdefault(key, []).append(i)
        for (_, denominator), members in categories.items():
            parts = tuple(cell[(i, "n")] for i in members)
            if len(parts) > 1 and sum(values[p] for p in parts) == denominator:
                lines.append(Line(parts, cell[(members[0], "d")]))
        small = primary(values, self.disclosure.threshold)
        withheld = self._suppress(values, lines, [k == 0 for k in range(len(values))])

        def shown(key: tuple[int, str]) -> str | None:
            k = cell.get(key)
            if k is None or not withheld[k]:
                return None
            return self.disclosure.marker if small[k] else COMPLEMENT

        out = []
        for i, it in enumerate(items):
            if (i, "n") in cell:
                out.append(self._count_text(it, shown((i, "n")), shown((i, "d")), shown((i, "m"))))
            else:
                out.append(self._other_text(it, texts[i]))
        return out

    def _count_text(self, it: Item, n: str | None, d: str | None, m: str | None) -> str:
        assert not isinstance(it, Estimate)
        assert it.n is not None
        value, denominator = it.n, it.denominator
        missing = it.missing if isinstance(it, Row) else it.not_recorded
        if n is None and d is None and not denominator:
            return _item_text(it)
        share = "" if n or d or not denominator else f" ({100 * value / denominator:.1f}%)"
        text = f"{n or value}/{d or denominator}{share}"
        if missing:
            what = "kind not recorded" if isinstance(it, KindCount) else "missing"
            text += f"; {what} {m or self._primary_text(missing)}"
        return text

    def _other_text(self, it: Item, text: str) -> str:
        """A median row of a handful of patients, or an estimate with few at risk."""
        numeric = _kind(it) in ("median_iqr", "median_range")
        if numeric and self.disclosure.hides(getattr(it, "denominator", 0)):
            return f"withheld: {self.disclosure.marker} patients with a value"
        missing = getattr(it, "missing", 0)
        if numeric and self.disclosure.hides(missing):
            text = text.replace(f"; missing {missing}", f"; missing {self.disclosure.marker}")
        at_risk = getattr(it, "at_risk", None)
        if at_risk is not None and self.disclosure.hides(at_risk):
            return text.replace(f"; {at_risk:g} at risk", f"; {self.disclosure.marker} at risk")
        return text


def _kind(it: Item) -> str:
    if isinstance(it, Row):
        return it.kind
    return "count" if isinstance(it, KindCount) else "estimate"


def _item_text(it: Item) -> str:
    if isinstance(it, Row):
        return NOT_IN_EXTRACT if it.kind == "absent" else row_text(it)
    return it.text()
