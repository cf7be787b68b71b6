"""Small-cell suppression: primary cells, complements worked out by hand, the reader's
linear programme, and a seeded property check over random tables with margins."""

from __future__ import annotations

import numpy as np
import pytest

from analytics.estimators.suppression import (
    SMALL_CELL_THRESHOLD,
    Line,
    grid_lines,
    primary,
    recoverable,
    suppress,
)


def _cells(mask: np.ndarray) -> list[int]:
    return np.flatnonzero(mask).tolist()


def _mask(n: int, cells: list[int]) -> np.ndarray:
    out = np.zeros(n, dtype=bool)
    out[cells] = True
    return out


# --- primary -------------------------------------------------------------------------------


def test_primary_is_one_to_threshold_minus_one_and_zero_is_not_small():
    assert SMALL_CELL_THRESHOLD == 11
    # 0 identifies nobody; 1 and 10 are small; 11 is the first publishable count
    assert primary([0, 1, 10, 11, 5, 0]).tolist() == [False, True, True, False, True, False]
    assert primary([0, 4, 5], threshold=5).tolist() == [False, True, False]


def test_zeros_are_never_withheld_when_a_non_zero_complement_exists():
    # 0 | 4 | 30 | total 34: 4 is small; the smallest published part is the 0, but a zero
    # is taken only when nothing non-zero is left, so the complement is 30.
    assert _cells(suppress([0, 4, 30, 34], [Line((0, 1, 2), 3)])) == [1, 2]


# --- one line --------------------------------------------------------------------------------


def test_single_row_withholds_the_small_part_and_the_smallest_other():
    # 3 | 25 | 14 | 40 | total 82: 3 = 82 - 25 - 14 - 40 if alone; the smallest other
    # part is 14 (cell 2). Then 3 + 14 = 17 with 3 in 1..10 leaves 7..16 for the 14.
    values = [3, 25, 14, 40, 82]
    lines = [Line((0, 1, 2, 3), 4)]
    withheld = suppress(values, lines)
    assert _cells(withheld) == [0, 2]
    assert recoverable(values, withheld, lines) == []


def test_ties_go_to_the_lowest_index():
    # 5 | 20 | 20 | total 45: both 20s are candidates; cell 1 is taken
    assert _cells(suppress([5, 20, 20, 45], [Line((0, 1, 2), 3)])) == [0, 1]


def test_a_line_whose_only_other_cell_is_its_total_withholds_the_total():
    # a category with its denominator: 4 of 4. Publishing 4 as the total gives the part.
    assert _cells(suppress([4, 4], [Line((0,), 1)])) == [0, 1]
    # 4 | 0 | total 4: the only other part is a zero; the total (non-zero) goes first
    assert _cells(suppress([4, 0, 4], [Line((0, 1), 2)])) == [0, 2]


# --- two-way tables ------------------------------------------------------------------------


def test_grid_lines_rows_then_columns_with_the_margins_as_lines():
    # 3 x 3 cells, row-major: the last column and the last row are the totals
    assert grid_lines(3, 3, row_totals=True, col_totals=True) == [
        Line((0, 1), 2),
        Line((3, 4), 5),
        Line((6, 7), 8),
        Line((0, 3), 6),
        Line((1, 4), 7),
        Line((2, 5), 8),
    ]
    assert grid_lines(2, 3, row_totals=True, col_totals=False) == [
        Line((0, 1), 2),
        Line((3, 4), 5),
    ]
    assert grid_lines(3, 2, row_totals=False, col_totals=True) == [
        Line((0, 2), 4),
        Line((1, 3), 5),
    ]


CLASSIC = [3, 20, 23, 15, 30, 45, 18, 50, 68]  # [[3, 20, 23], [15, 30, 45], [18, 50, 68]]


def test_classic_two_by_two_needs_a_row_and_a_column_complement():
    # Row 0 (3 alone) -> its smallest other part, 20 (cell 1). Column 0 (3 alone) -> 15
    # (cell 3). Column 1 (20 alone) -> 30 (cell 4). Row 1 now has 15 and 30: done. The
    # four withheld cells form a rectangle: 3+d, 20-d, 15-d, 30+d fit every margin.
    lines = grid_lines(3, 3, row_totals=True, col_totals=True)
    withheld = suppress(CLASSIC, lines)
    assert _cells(withheld) == [0, 1, 3, 4]
    assert recoverable(CLASSIC, withheld, lines) == []


def test_withholding_only_the_row_pair_leaves_both_cells_recoverable():
    # 3 and 20 withheld: column 0 gives 18 - 15 = 3, then row 0 gives 23 - 3 = 20
    lines = grid_lines(3, 3, row_totals=True, col_totals=True)
    assert recoverable(CLASSIC, _mask(9, [0, 1]), lines) == [0, 1]


def test_a_row_only_rule_is_undone_through_the_columns_and_suppress_fixes_it():
    # [[ 4, 25, 60 |  89],
    #  [12, 40,  8 |  60],
    #  [16, 65, 68 | 149]]
    # Row by row, 4 takes 25 and 8 takes 12 (cells 0, 1, 6, 4). But column 1 gives
    # 25 = 65 - 40, so 4 = 89 - 25 - 60; column 2 gives 8 = 68 - 60, so 12 = 60 - 40 - 8.
    values = [4, 25, 60, 89, 12, 40, 8, 60, 16, 65, 68, 149]
    lines = grid_lines(3, 4, row_totals=True, col_totals=True)
    assert recoverable(values, _mask(12, [0, 1, 4, 6]), lines) == [0, 1, 4, 6]
    # suppress also gives column 1 (25 alone) its 40 and column 2 (8 alone) its 60: the
    # whole 2 x 3 body, which has two free directions (rectangles), is withheld.
    withheld = suppress(values, lines)
    assert _cells(withheld) == [0, 1, 2, 4, 5, 6]
    assert recoverable(values, withheld, lines) == []


def test_two_ones_in_a_column_are_pinned_by_the_bounds_and_need_the_linear_programme():
    # [[ 1, 30 |  31],
    #  [ 1, 40 |  41],
    #  [25, 12 |  37],
    #  [27, 82 | 109]]
    # Line by line every line ends with 0 or 2 withheld cells (1, 30, 1, 40), yet column 0
    # says the two withheld cells add up to 27 - 25 = 2, and each is at least 1: both are
    # 1, and then 30 and 40 follow from their rows.
    values = [1, 30, 31, 1, 40, 41, 25, 12, 37, 27, 82, 109]
    lines = grid_lines(4, 3, row_totals=True, col_totals=True)
    assert recoverable(values, _mask(12, [0, 1, 3, 4]), lines) == [0, 1, 3, 4]
    # Row 0's complement (its total, 31) does not free cell 0: column 0 still pins it.
    # Column 0's (25, cell 6), with 12 (cell 7) for row 2, does: 2, 29, 1, 40, 24, 13 fits.
    withheld = suppress(values, lines)
    assert _cells(withheld) == [0, 1, 3, 4, 6, 7]
    assert recoverable(values, withheld, lines) == []


# --- the reader ----------------------------------------------------------------------------


def test_nothing_withheld_or_nothing_linked_is_nothing_recoverable():
    lines = [Line((0, 1), 2)]
    assert recoverable([3, 20, 23], [False, False, False], lines) == []
    assert _cells(suppress([3, 20, 23, 7])) == [0, 3]  # no lines: primary cells only
    # a small cell in no line is only known to be 1..10
    assert recoverable([3, 20, 23, 7], [True, True, True, True], lines) == []


def test_a_small_total_with_published_parts_is_recoverable():
    assert recoverable([2, 3, 5], [False, False, True], [Line((0, 1), 2)]) == [2]


def test_a_cell_disclosed_by_the_bounds_alone_raises():
    # threshold 3: 1 | 1 | total 2 are all small; parts of at least 1 adding up to at most
    # 2 can only be 1 and 1, whatever is published
    with pytest.raises(ValueError, match="pinned even with every cell withheld"):
        suppress([1, 1, 2], [Line((0, 1), 2)], threshold=3)


@pytest.mark.parametrize(
    ("values", "lines", "threshold", "message"),
    [
        ([3, 20, 24], [Line((0, 1), 2)], 11, "does not hold"),
        ([3, 20, 23], [Line((0, 1), 3)], 11, "outside"),
        ([3, 20, 23], [Line((0, 0), 2)], 11, "twice"),
        ([3, 20, 23], [Line((), 2)], 11, "no parts"),
        ([-1, 20, 19], [Line((0, 1), 2)], 11, "non-negative"),
        ([1.5, 2, 3.5], [Line((0, 1), 2)], 11, "integers"),
        ([3, 20, 23], [Line((0, 1), 2)], 2, "at least 3"),
    ],
)
def test_bad_input_is_refused(values, lines, threshold, message):
    with pytest.raises(ValueError, match=message):
        suppress(values, lines, threshold)


# --- property --------------------------------------------------------------------------------


def _random_table(rng: np.random.Generator) -> tuple[list[int], list[Line]]:
    """A 2..6 x 2..6 body, half of it 0..10, with row, column and grand totals."""
    r, c = (int(x) for x in rng.integers(2, 7, size=2))
    small = rng.integers(0, 11, size=(r, c))
    large = rng.integers(0, 60, size=(r, c))
    body = np.where(rng.random((r, c)) < 0.5, small, large)
    full = np.zeros((r + 1, c + 1), dtype=np.int64)
    full[:r, :c] = body
    full[:r, c] = body.sum(axis=1)
    full[r, :c] = body.sum(axis=0)
    full[r, c] = body.sum()
    return full.ravel().tolist(), grid_lines(r + 1, c + 1, row_totals=True, col_totals=True)


def test_random_tables_are_protected_and_deterministic():
    rng = np.random.default_rng(20240611)
    complements = 0
    for _ in range(200):
        values, lines = _random_table(rng)
        withheld = suppress(values, lines)
        small = primary(values)
        assert not (small & ~withheld).any()  # every primary cell is withheld
        assert recoverable(values, withheld, lines) == []  # and none can be worked out
        assert np.array_equal(withheld, suppress(values, tuple(lines)))  # same answer again
        complements += int(withheld.sum() - small.sum())
    assert complements > 0  # the check had complements to look at


def test_a_reader_who_tells_complements_from_small_cells_is_answered():
    """Row 1 | 11 | total 12. Withholding the 1 and the 11 is not enough when the 11 reads
    "*" (a complement, so at least 11): 1 + 11 = 12 pins both. The total goes too."""
    values = [1, 11, 12]
    lines = [Line((0, 1), 2)]
    assert recoverable(values, [True, True, False], lines) == [0, 1]
    mask = suppress(values, lines)
    assert mask.tolist() == [True, True, True]


def test_a_total_printed_elsewhere_is_never_the_complement():
    """Sites 3 | 40 | 57 with the patients in view (100) printed on another slide: the
    total may not be withheld, so the 3's complement is the smallest other site, 40."""
    values = [3, 40, 57, 100]
    lines = [Line((0, 1, 2), 3)]
    mask = suppress(values, lines, fixed=[False, False, False, True])
    assert mask.tolist() == [True, True, False, False]
    assert recoverable(values, mask, lines) == []


def test_a_fixed_total_with_one_other_part_cannot_protect_and_says_so():
    """3 | 40 with their total 43 known: both parts withheld add up to 43 with the 3 in
    1..10 and the 40 at least 11, so 3 is somewhere in 1..10: protected. But 1 | 11 of
    12: a part in 1..10 and one of at least 11 adding up to 12 can only be 1 and 11."""
    ok = suppress([3, 40, 43], [Line((0, 1), 2)], fixed=[False, False, True])
    assert ok.tolist() == [True, True, False]
    with pytest.raises(ValueError, match="pinned"):
        suppress([1, 11, 12], [Line((0, 1), 2)], fixed=[False, False, True])
