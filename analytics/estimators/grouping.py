"""Rows grouped for the two-group (or k-group) comparisons: log-rank and Cox.

Durations, 0/1 events, a group and an optional stratum per row, with whole-number
frequency weights (a patient row is weight 1, an aggregated row its count), are checked,
rows with a missing group or stratum left out and counted (R's ``na.action = na.omit``),
and each stratum collapsed to its distinct times x group levels: events and number at
risk per cell. Levels are ordered as R's ``factor()`` orders them and named as R prints
them (:func:`level_label`). Both :class:`~analytics.estimators.logrank.LogRankTest` and
:class:`~analytics.estimators.cox.CoxPH` start from :func:`group_rows`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from analytics.estimators.counting import check_weights

FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class Block:
    """One stratum, collapsed to distinct times x group levels."""

    stratum: str
    times: FloatArray
    deaths: FloatArray  # (times, levels): weight of events
    at_risk: FloatArray  # (times, levels): weight with time >= t


@dataclass(frozen=True)
class Grouped:
    levels: tuple[str, ...]
    n_by_level: FloatArray
    blocks: tuple[Block, ...]
    n_used: float
    n_removed: float


def level_label(value: object) -> str:
    """A level's name in results; 1.0 (an integer column read with missing values)
    is "1", as R prints it."""
    if isinstance(value, float | np.floating) and float(value).is_integer():
        return str(int(value))
    return str(value)


def _factor(
    values: NDArray[Any], levels: Sequence[object] | None
) -> tuple[NDArray[np.intp], list[object]]:
    """Integer codes into the level list (sorted when not given, as R's factor())."""
    codes, uniques = pd.factorize(values)
    present = list(uniques)
    if levels is None:
        try:
            ordered: list[object] = sorted(present)
        except TypeError:
            ordered = present
    else:
        given = {level_label(v) for v in levels}
        unknown = [v for v in present if level_label(v) not in given]
        if unknown:
            raise ValueError(f"values {unknown[:5]} are not among the given levels")
        # Levels nobody has are dropped: they carry no information (R would give NA).
        have = {level_label(v) for v in present}
        ordered = [v for v in levels if level_label(v) in have]
    position = {level_label(v): i for i, v in enumerate(ordered)}
    lookup = np.array([position[level_label(v)] for v in present], dtype=np.intp)
    return lookup[codes], ordered


def group_rows(
    durations: ArrayLike,
    events: ArrayLike,
    groups: ArrayLike,
    strata: ArrayLike | None,
    weights: ArrayLike | None,
    levels: Sequence[object] | None,
) -> Grouped:
    t = np.asarray(durations, dtype=np.float64).ravel()
    e_raw = np.asarray(events).ravel().astype(np.float64)
    g = np.asarray(groups).ravel()
    s = np.zeros(t.size, dtype=np.intp) if strata is None else np.asarray(strata).ravel()
    if not (t.size == e_raw.size == g.size == s.size):
        raise ValueError("durations, events, groups and strata differ in length")
    if not np.all(np.isfinite(t)) or np.any(t < 0):
        raise ValueError("durations must be finite and non-negative")
    if not np.all(np.isin(e_raw, (0.0, 1.0))):
        raise ValueError("events must be 0/1 (or boolean)")
    w = check_weights(weights, t.size)
    missing = np.asarray(pd.isna(g) | pd.isna(s), dtype=bool)
    n_removed = float(w[missing].sum())
    keep = ~missing & (w > 0)
    t, e, g, s, w = t[keep], e_raw[keep], g[keep], s[keep], w[keep]
    codes, lv = _factor(g, levels)
    n_levels = len(lv)
    s_codes, strata_levels = _factor(s, None)
    blocks = []
    for k, stratum in enumerate(strata_levels):
        sel = s_codes == k
        times, inv = np.unique(t[sel], return_inverse=True)
        cell = inv * n_levels + codes[sel]
        size = times.size * n_levels
        deaths = np.asarray(
            np.bincount(cell, weights=(w * e)[sel], minlength=size), dtype=np.float64
        ).reshape(-1, n_levels)
        total = np.bincount(cell, weights=w[sel], minlength=size).reshape(-1, n_levels)
        at_risk = np.cumsum(total[::-1], axis=0, dtype=np.float64)[::-1]
        blocks.append(Block(level_label(stratum), times, deaths, at_risk))
    n_by_level = np.bincount(codes, weights=w, minlength=n_levels).astype(np.float64)
    return Grouped(
        levels=tuple(level_label(v) for v in lv),
        n_by_level=n_by_level,
        blocks=tuple(blocks),
        n_used=float(w.sum()),
        n_removed=n_removed,
    )


# --- log-rank ------------------------------------------------------------------------
