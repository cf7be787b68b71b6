"""Colour-blind-safe colours, stable for a group level on every page.

The palette is Okabe & Ito's (2008), ordered for lines on a white background: the
yellow (#F0E442) is left out because it disappears on a projector. A level's colour
depends only on its position in the *full ordered list of levels* of its variable
(for example the schema's category order), never on which levels the current filter
happens to show, so "Female" is the same colour on every page and every subset.
Levels meaning "missing" are always grey and take no slot from the real levels.
"""

from __future__ import annotations

from collections.abc import Sequence

# Okabe-Ito, in the order lines are coloured.
OKABE_ITO: tuple[str, ...] = (
    "#0072B2",  # blue
    "#D55E00",  # vermillion
    "#009E73",  # bluish green
    "#CC79A7",  # reddish purple
    "#E69F00",  # orange
    "#56B4E9",  # sky blue
    "#000000",  # black
)
MISSING_COLOUR = "#8C8C8C"
MISSING_LEVELS = frozenset({"missing", "unknown", "not recorded", "not known", "na", "n/a"})

# Roles used by the single-curve and annotation elements of the figures.
INK = "#1A1A1A"  # text, axes, a single curve's density line
GOAL_COLOUR = "#D55E00"  # performance-goal lines: vermillion, as in the paper's figure
MUTED = "#5A5A5A"  # secondary text; still 7:1 contrast on white


def is_missing(level: str) -> bool:
    return level.strip().lower() in MISSING_LEVELS


def colour_for(level: str, levels: Sequence[str]) -> str:
    """Colour of `level` given the full ordered list `levels` of its variable.

    Deterministic: the k-th non-missing level gets ``OKABE_ITO[k % 7]``. A variable
    with more than seven levels repeats colours, so such charts must not rely on
    colour alone (the at-risk table and legend also name each level).
    """
    if is_missing(level):
        return MISSING_COLOUR
    real = [lv for lv in dict.fromkeys(levels) if not is_missing(lv)]
    try:
        k = real.index(level)
    except ValueError:
        raise KeyError(f"level {level!r} is not among the levels {list(levels)!r}") from None
    return OKABE_ITO[k % len(OKABE_ITO)]


def colour_map(levels: Sequence[str]) -> dict[str, str]:
    """Every level of an ordered list mapped to its colour (see :func:`colour_for`)."""
    return {lv: colour_for(lv, levels) for lv in dict.fromkeys(levels)}


def with_alpha(hex_colour: str, alpha: float) -> str:
    """``#RRGGBB`` as an ``rgba()`` string with the given opacity."""
    h = hex_colour.lstrip("#")
    if len(h) != 6:
        raise ValueError(f"expected #RRGGBB, got {hex_colour!r}")
    r, g, b = (int(h[i : i + 2], 16) for i in (0, 2, 4))
    return f"rgba({r},{g},{b},{alpha:g})"
