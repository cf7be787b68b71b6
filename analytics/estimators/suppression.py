"""Small-cell protection for published count tables: primary and complementary suppression.

Why. A count from 1 to ``threshold - 1`` (1 to 10 by default) can point at a handful of
identifiable patients, so it is not published: that is *primary* suppression. Withholding
those cells alone is not enough when the table also publishes totals. A row
``3 | 20 | total 23`` with only the 3 withheld gives it back as 23 - 20; a cell withheld in
its row can still come back through its column. Other cells must therefore be withheld
with it, *complementary* suppression, until no withheld cell can be worked out.

The reader. What a reader can work out is judged against what they know: every published
cell, every published relation (a ``Line``: these parts add up to that total), that counts
are non-negative, and that a cell marked as small lies in ``1..threshold-1``. `recoverable`
plays that reader: for each withheld cell it finds, by linear programming, the least and the
greatest value consistent with all of it; a cell whose range is narrower than one half is
pinned to a single integer, i.e. disclosed. `suppress` adds complements, greedily and
deterministically, until no withheld cell is pinned.

Limits, stated so that they are not mistaken for guarantees:

* Exact disclosure only. A withheld cell may still be narrowed to a short range (say 1..2);
  no minimum width of that range is enforced.
* The reader knows which withheld cells are complements, since a small cell reads "<11"
  and a complement "*": a complement of ``threshold`` or more is taken to be at least
  ``threshold`` (withholding only ``1 | 11`` of a row totalling 12 would give both away,
  so a third cell goes too). A zero complement is taken as merely non-negative, a
  slightly weaker reader, which is why a zero is a complement only as a last resort.
* The integer constraint is relaxed to a continuous one. For two-way tables with margins
  (`grid_lines`) the relations are totally unimodular and the relaxation loses nothing;
  for other systems of lines a reader solving the integer problem may do better.
* The complements are a greedy choice (smallest cell of the offending line), not the
  least information loss that an optimising tool (tau-Argus, sdcTable) would find.

Cells are a flat, 0-based sequence; a table is laid out row-major (see `grid_lines`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import linprog
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

SMALL_CELL_THRESHOLD = 11
PINNED_BELOW = 0.5  # a withheld cell whose feasible range is narrower than this is disclosed

BoolArray = NDArray[np.bool_]
IntArray = NDArray[np.int64]


@dataclass(frozen=True)
class Line:
    """cells[parts] sum to cells[total]: one published linear relation (a row or column
    of a table with its margin, or categories with their denominator)."""

    parts: tuple[int, ...]
    total: int


# --- checks ---------------------------------------------------------------------------------


def _counts(values: Sequence[int]) -> IntArray:
    """`values` as a 1-D array of non-negative integers, or ValueError."""
    arr = np.asarray(values)
    if arr.ndim != 1:
        raise ValueError(f"counts must be a flat sequence, got {arr.ndim} dimensions")
    if arr.size == 0:
        return np.zeros(0, dtype=np.int64)
    if arr.dtype == np.bool_ or not np.issubdtype(arr.dtype, np.integer):
        raise ValueError(f"counts must be integers, got {arr.dtype}")
    if (arr < 0).any():
        raise ValueError(f"counts must be non-negative; cell {int(np.argmax(arr < 0))} is not")
    return arr.astype(np.int64)


def _check_threshold(threshold: int) -> None:
    # With threshold 2 a cell marked "<2" is known to be 1: nothing is left to protect.
    if int(threshold) != threshold or threshold < 3:
        raise ValueError(f"threshold must be an integer of at least 3, got {threshold!r}")


def _check_lines(lines: Sequence[Line], counts: IntArray) -> None:
    """Every line names distinct cells that exist, and holds on the counts."""
    n = counts.size
    for k, line in enumerate(lines):
        cells = (*line.parts, line.total)
        if not line.parts:
            raise ValueError(f"line {k} has no parts")
        if any(not 0 <= c < n for c in cells):
            raise ValueError(f"line {k} names a cell outside 0..{n - 1}: {line}")
        if len(set(cells)) != len(cells):
            raise ValueError(f"line {k} names a cell twice: {line}")
        parts_sum = int(counts[list(line.parts)].sum())
        if parts_sum != counts[line.total]:
            raise ValueError(
                f"line {k} does not hold: its parts add up to {parts_sum}, "
                f"its total (cell {line.total}) is {int(counts[line.total])}"
            )


# --- the API --------------------------------------------------------------------------------


def primary(values: Sequence[int], threshold: int = SMALL_CELL_THRESHOLD) -> BoolArray:
    """The cells that may not be published: counts from 1 to ``threshold - 1``. Zero is
    not a small cell (it identifies nobody) and is published."""
    _check_threshold(threshold)
    return _small(_counts(values), threshold)


def suppress(
    values: Sequence[int],
    lines: Sequence[Line] = (),
    threshold: int = SMALL_CELL_THRESHOLD,
    fixed: Sequence[bool] | None = None,
) -> BoolArray:
    """The cells to withhold: the primary cells plus complements chosen so that no withheld
    cell is pinned down by the published cells and the lines (see `recoverable`).

    Steps: (1) while some line has exactly one withheld cell, withhold a complement in that
    line (no linear programming needed: the line would give that cell back). (2) Find the
    pinned cells by linear programming; for each, in index order, that is still pinned
    after the complements already added in this pass, withhold a complement in one line
    containing it, then redo (1). The line is the first (in order) whose complement, with
    the step (1) complements that follow from it, frees the cell; failing that, the first
    with a cell left to withhold; failing that, the nearest line with one reached through
    withheld cells. (Taking the first line blindly can loop for long: two withheld 1s of a
    column whose withheld cells add up to 2 are pinned by that column, and complements
    added to their rows never free them.) Repeat (2) until nothing is pinned: each pass
    withholds at least one more cell, so it ends.

    The complement of a line is its smallest published part (ties: the lowest index),
    else its total; a zero is taken only when the line has no non-zero cell left (a zero
    is often structural, an impossible combination that readers know to be empty, and
    withholding it then hides nothing).
    `fixed` marks cells the reader knows whatever this table withholds (a total printed
    elsewhere): they are never chosen as complements.
    Deterministic: the same input always gives the same mask. Raises ValueError when a
    cell would stay pinned even with every cell withheld: e.g. with threshold 3, a row
    ``1 | 1 | total 2`` is all small, and parts of at least 1 adding up to at most 2 can only
    be 1 and 1.
    """
    _check_threshold(threshold)
    counts = _counts(values)
    _check_lines(lines, counts)
    withheld = _small(counts, threshold)
    known = np.zeros(counts.size, np.bool_) if fixed is None else np.asarray(fixed, np.bool_)
    if known.shape != counts.shape:
        raise ValueError(f"fixed has shape {known.shape}, counts have {counts.shape}")
    if (known & withheld).any():
        raise ValueError(f"small cells {np.flatnonzero(known & withheld).tolist()} are fixed")
    if not lines or not withheld.any():
        return withheld
    cells_of = [np.array((*line.parts, line.total), dtype=np.int64) for line in lines]
    lines_of: list[list[int]] = [[] for _ in range(counts.size)]
    for k, cells in enumerate(cells_of):
        for c in cells:
            lines_of[int(c)].append(k)

    _close_lone_cells(counts, lines, cells_of, withheld, known)
    while pinned := _pinned(counts, withheld, lines, threshold):
        for i, cell in enumerate(pinned):  # the first is still pinned: each pass adds a cell
            if i and not _pinned(counts, withheld, lines, threshold, only=cell):
                continue  # freed by a complement added earlier in this pass
            complement = _choose_complement(
                cell, counts, lines, cells_of, lines_of, withheld, threshold, known
            )
            withheld[complement] = True
            _close_lone_cells(counts, lines, cells_of, withheld, known)
    return withheld


def recoverable(
    values: Sequence[int],
    withheld: Sequence[bool],
    lines: Sequence[Line],
    threshold: int = SMALL_CELL_THRESHOLD,
) -> list[int]:
    """Indices (ascending) of the withheld cells whose value a reader can pin down.

    The reader knows the published cells, the lines, that every cell is non-negative and
    that a withheld primary cell lies in ``1..threshold-1`` and a withheld complement of
    ``threshold`` or more is at least ``threshold``. For each withheld cell the
    least and greatest value under those constraints come from `scipy.optimize.linprog`
    (continuous relaxation); the cell is recoverable when they differ by less than 0.5.
    """
    _check_threshold(threshold)
    counts = _counts(values)
    mask = np.asarray(withheld, dtype=np.bool_)
    if mask.shape != counts.shape:
        raise ValueError(f"withheld has shape {mask.shape}, counts have {counts.shape}")
    _check_lines(lines, counts)
    return _pinned(counts, mask, lines, threshold)


def grid_lines(n_rows: int, n_cols: int, *, row_totals: bool, col_totals: bool) -> list[Line]:
    """The lines of an ``n_rows x n_cols`` table laid out row-major (cell ``i * n_cols + j``).

    With `row_totals` the last column holds each row's total; with `col_totals` the last
    row holds each column's total; with both the corner is the grand total, and the margin
    row and column are lines too (the column totals add up to the grand total, and so do
    the row totals). Row lines come first, top to bottom, then column lines, left to right.
    """
    if n_rows < 1 or n_cols < 1:
        raise ValueError(f"a table needs at least one row and one column, got {n_rows}x{n_cols}")
    if row_totals and n_cols < 2:
        raise ValueError("row totals need at least two columns: a part and the total")
    if col_totals and n_rows < 2:
        raise ValueError("column totals need at least two rows: a part and the total")
    out: list[Line] = []
    if row_totals:
        for i in range(n_rows):
            start = i * n_cols
            out.append(Line(tuple(range(start, start + n_cols - 1)), start + n_cols - 1))
    if col_totals:
        last = (n_rows - 1) * n_cols
        for j in range(n_cols):
            out.append(Line(tuple(range(j, last, n_cols)), last + j))
    return out


def _small(counts: IntArray, threshold: int) -> BoolArray:
    return np.asarray((counts >= 1) & (counts < threshold), dtype=np.bool_)


# --- complements ----------------------------------------------------------------------------


def _complement(line: Line, counts: IntArray, withheld: BoolArray, fixed: BoolArray) -> int | None:
    """The cell of `line` to withhold next, or None when every cell that may be withheld
    already is."""
    free = [p for p in line.parts if not withheld[p] and not fixed[p]]
    nonzero = [p for p in free if counts[p] > 0]
    if nonzero:
        return min(nonzero, key=lambda p: (int(counts[p]), p))
    open_total = not withheld[line.total] and not fixed[line.total]
    if open_total and counts[line.total] > 0:
        return line.total
    if free:
        return min(free)
    return line.total if open_total else None


def _close_lone_cells(
    counts: IntArray,
    lines: Sequence[Line],
    cells_of: list[IntArray],
    withheld: BoolArray,
    fixed: BoolArray,
) -> None:
    """Step (1): until no line has exactly one withheld cell, give each such line a
    complement. A line has at least two cells, so a lone withheld cell always has one."""
    changed = True
    while changed:
        changed = False
        for line, cells in zip(lines, cells_of, strict=True):
            if int(withheld[cells].sum()) == 1:
                complement = _complement(line, counts, withheld, fixed)
                if complement is not None:
                    withheld[complement] = True
                    changed = True


def _choose_complement(
    cell: int,
    counts: IntArray,
    lines: Sequence[Line],
    cells_of: list[IntArray],
    lines_of: list[list[int]],
    withheld: BoolArray,
    threshold: int,
    fixed: BoolArray,
) -> int:
    """The complement for a pinned `cell`: that of the first line containing it which,
    closed by step (1), frees it; else `_complement_near`'s. ValueError when withholding
    every cell would not free it either (withholding more can only widen ranges); else
    some line has a cell left, or the cell would be free already."""
    for k in lines_of[cell]:
        complement = _complement(lines[k], counts, withheld, fixed)
        if complement is None:
            continue
        trial = withheld.copy()
        trial[complement] = True
        _close_lone_cells(counts, lines, cells_of, trial, fixed)
        if not _pinned(counts, trial, lines, threshold, only=cell):
            return complement
    if _pinned(counts, ~fixed, lines, threshold, only=cell):
        raise ValueError(
            f"cell {cell} is pinned even with every cell withheld: the lines and the bounds "
            f"1..{threshold - 1} of the small cells disclose it whatever is published"
        )
    complement = _complement_near(cell, counts, lines, cells_of, lines_of, withheld, fixed)
    if complement is None:  # unreachable, see above; kept so that the loop cannot spin
        raise RuntimeError(f"no cell left to withhold around pinned cell {cell}")
    return complement


def _complement_near(
    cell: int,
    counts: IntArray,
    lines: Sequence[Line],
    cells_of: list[IntArray],
    lines_of: list[list[int]],
    withheld: BoolArray,
    fixed: BoolArray,
) -> int | None:
    """The complement for a pinned `cell` from the first line containing it with a cell
    left to withhold; failing that, from the nearest such line reached through withheld
    cells (breadth first, lines in order at each step). None when there is none."""
    seen_lines: set[int] = set()
    seen_cells = {cell}
    frontier = [cell]
    while frontier:
        ring = sorted({k for c in frontier for k in lines_of[c]} - seen_lines)
        for k in ring:
            complement = _complement(lines[k], counts, withheld, fixed)
            if complement is not None:
                return complement
        seen_lines.update(ring)
        reached = {int(c) for k in ring for c in cells_of[k]} - seen_cells
        seen_cells.update(reached)
        frontier = sorted(reached)
    return None


# --- the reader -----------------------------------------------------------------------------


def _pinned(
    counts: IntArray,
    withheld: BoolArray,
    lines: Sequence[Line],
    threshold: int,
    only: int | None = None,
) -> list[int]:
    """`recoverable` on checked inputs, or whether the withheld cell `only` is pinned
    ([only] or []). The withheld cells are split into groups linked by lines; each group is
    an independent problem whose published cells are constants."""
    hidden = np.flatnonzero(withheld)
    if hidden.size == 0:
        return []
    position = np.full(counts.size, -1, dtype=np.int64)
    position[hidden] = np.arange(hidden.size)
    rows: list[tuple[IntArray, NDArray[np.float64]]] = []  # (variables, coefficients)
    for line in lines:
        cells = np.array((*line.parts, line.total), dtype=np.int64)
        signs = np.ones(cells.size)
        signs[-1] = -1.0
        keep = withheld[cells]
        if keep.any():
            rows.append((position[cells[keep]], signs[keep]))

    # groups: variables joined when they share a line
    heads = np.concatenate([v[:-1] for v, _ in rows]) if rows else np.zeros(0, np.int64)
    tails = np.concatenate([v[1:] for v, _ in rows]) if rows else np.zeros(0, np.int64)
    graph = coo_matrix((np.ones(heads.size), (heads, tails)), shape=(hidden.size,) * 2)
    n_groups, group = connected_components(graph, directed=False)
    group_rows: list[list[int]] = [[] for _ in range(int(n_groups))]
    for r, (variables, _) in enumerate(rows):
        group_rows[int(group[variables[0]])].append(r)

    small = _small(counts, threshold)
    out: list[int] = []
    groups = range(int(n_groups)) if only is None else [int(group[position[only]])]
    for g in groups:
        if not group_rows[g]:
            continue  # in no line: 1..threshold-1 or 0..inf, never a single value
        members = np.flatnonzero(group == g)
        local = np.full(hidden.size, -1, dtype=np.int64)
        local[members] = np.arange(members.size)
        a = np.zeros((len(group_rows[g]), members.size))
        for i, r in enumerate(group_rows[g]):
            variables, signs = rows[r]
            a[i, local[variables]] = signs
        cells = hidden[members]
        targets = np.ones(cells.size, dtype=np.bool_) if only is None else cells == only
        pinned = _pinned_in_group(a, counts[cells], small[cells], threshold, targets)
        out.extend(int(c) for c in cells[pinned])
    return sorted(out)


def _pinned_in_group(
    a: NDArray[np.float64],
    truth: IntArray,
    small: BoolArray,
    threshold: int,
    targets: BoolArray,
) -> BoolArray:
    """Which of the `targets` variables of ``a @ x = a @ truth`` (x >= 0, small ones in
    1..threshold-1) take a single value. Every feasible point found widens the observed
    range of every variable, so solves that push all the undecided targets up, then down,
    together clear most of them; only the rest get their own maximum and minimum."""
    b = a @ truth
    # the marks tell a small cell ("<11") from a complement ("*"): a withheld cell that is
    # not small is known to be at least the threshold (a zero complement: only >= 0)
    lower = np.where(small, 1.0, np.where(truth >= threshold, float(threshold), 0.0))
    upper: list[float | None] = [float(threshold - 1) if s else None for s in small]
    low = truth.astype(np.float64)
    high = low.copy()

    def solve(cost: NDArray[np.float64], bounds: Sequence[tuple[float, float | None]]) -> Any:
        res = linprog(cost, A_eq=a, b_eq=b, bounds=bounds, method="highs")
        if res.status == 0:
            np.minimum(low, res.x, out=low)
            np.maximum(high, res.x, out=high)
        elif res.status != 3:  # 3: unbounded
            raise RuntimeError(f"linprog failed on a feasible problem: {res.message}")
        return res

    def undecided() -> BoolArray:
        return np.asarray(targets & (high - low < PINNED_BELOW), dtype=np.bool_)

    # Probes over a capped box: its points are feasible for the reader's problem too, and
    # the cap keeps the sums bounded. Repeated while they decide at least one more target.
    cap = np.where(small, threshold - 1.0, truth + np.maximum(truth, threshold))
    capped = [(float(lo), float(hi)) for lo, hi in zip(lower, cap, strict=True)]
    # Unequal weights (fixed, so the answer is reproducible) keep the objective from being
    # flat along the cycles of a table, where equal weights would cancel out.
    weights = np.random.default_rng(0).uniform(1.0, 2.0, truth.size)
    left = undecided()
    while left.sum() > 1:  # one target is as quick to settle on its own
        solve(-weights * left, capped)
        solve(weights * left, capped)
        now = undecided()
        if now.sum() == left.sum():
            break
        left = now

    exact = [(float(lo), hi) for lo, hi in zip(lower, upper, strict=True)]
    for k in np.flatnonzero(targets):
        if high[k] - low[k] >= PINNED_BELOW:
            continue
        cost = np.zeros(truth.size)
        cost[k] = -1.0
        if solve(cost, exact).status == 3:
            high[k] = np.inf
            continue
        if high[k] - low[k] < PINNED_BELOW:
            cost[k] = 1.0
            solve(cost, exact)
    return np.asarray(targets & (high - low < PINNED_BELOW), dtype=np.bool_)
