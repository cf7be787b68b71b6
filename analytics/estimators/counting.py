"""Checked inputs and counts by distinct time: what every estimator here starts from.

Durations, 0/1 events and optional whole-number frequency weights are checked (finite,
non-negative, same length) and reduced to the distinct times with their weighted events
and totals. Day-resolution times take a counting pass instead of a sort: numpy block by
block (scratch arrays that stay in the CPU cache) and, for large inputs, a compiled
numba loop that checks and counts in one read. A weight-0 row stands for no patient and
adds no time point. :func:`check_weights` is shared with the competing-risks and
comparison estimators.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

FloatArray = NDArray[np.float64]


def check_weights(weights: ArrayLike | None, size: int) -> FloatArray:
    """Frequency weights: finite, non-negative whole numbers (ones when absent)."""
    if weights is None:
        return np.ones(size)
    w = np.asarray(weights, dtype=np.float64).ravel()
    if w.shape != (size,):
        raise ValueError(f"weights ({w.size}) differ in length from durations ({size})")
    if not np.all(np.isfinite(w)) or np.any(w < 0):
        raise ValueError("weights must be finite and non-negative")
    if np.any(w != np.floor(w)):
        # Fractional case weights have no "expanded rows" meaning, and R's survfit
        # switches to a different (robust) variance for them.
        raise ValueError("weights must be whole numbers (frequency weights)")
    return w


def _native(a: ArrayLike) -> NDArray[Any]:
    """`a` as an array in the machine's byte order (the checks below read integers
    through unsigned views, which a big-endian array would garble)."""
    arr = np.asarray(a)
    return arr if arr.dtype.isnative else arr.astype(arr.dtype.newbyteorder("="))


def _unsigned_max(a: NDArray[np.integer]) -> int:
    """Maximum of a signed integer array read as unsigned (negatives wrap to the top)."""
    return int(a.view(np.dtype(f"u{a.dtype.itemsize}")).max())


def _as_inputs(
    durations: ArrayLike, events: ArrayLike, weights: ArrayLike | None
) -> tuple[NDArray[np.float64] | NDArray[np.integer], NDArray[np.bool_], FloatArray | None]:
    """Checked durations (integer arrays stay integer: whole by type, no check or
    conversion needed), events as booleans, weights (None for one row per patient)."""
    t_raw = _native(durations).ravel()
    t: NDArray[np.float64] | NDArray[np.integer] = (
        t_raw if t_raw.dtype.kind in "iu" else np.asarray(t_raw, dtype=np.float64)
    )
    e_raw = _native(events).ravel()
    if t.shape != e_raw.shape:
        raise ValueError(f"durations ({t.size}) and events ({e_raw.size}) differ in length")
    if t.size and t.dtype.kind == "i":
        # one reduction: read as unsigned, a negative value is larger than any valid one
        if _unsigned_max(t) >= 1 << (8 * t.dtype.itemsize - 1):  # type: ignore[arg-type]
            raise ValueError("durations contain negative values")
    elif t.size and t.dtype.kind == "f":
        # two reductions instead of elementwise masks: NaN or inf surface in min or max
        lo, hi = float(t.min()), float(t.max())
        if not (np.isfinite(lo) and np.isfinite(hi)):
            raise ValueError("durations contain missing or infinite values")
        if lo < 0:
            raise ValueError("durations contain negative values")
    e: NDArray[np.bool_]
    if e_raw.dtype == np.bool_:
        e = e_raw
    elif np.issubdtype(e_raw.dtype, np.integer):
        low_high = _unsigned_max(e_raw) if e_raw.dtype.kind == "i" else e_raw.max()
        if e_raw.size and low_high > 1:
            raise ValueError("events must be 0/1 (or boolean)")
        e = e_raw.astype(bool)
    else:
        if not np.all((e_raw == 0) | (e_raw == 1)):
            raise ValueError("events must be 0/1 (or boolean)")
        e = e_raw.astype(bool)
    if weights is None:
        return t, e, None
    w = check_weights(weights, t.size)
    # A weight-0 row stands for no patient: it must not even add a time point.
    used = w > 0
    return t[used], e[used], w[used]


# Whole-number times below this bound are counted with np.bincount (one pass, no sort).
_BINCOUNT_LIMIT = 1 << 22
# Rows per block of the counting pass: its scratch arrays stay in the CPU cache, where
# whole-array temporaries of a million rows would each cost a trip to memory.
_BLOCK = 1 << 15
# Largest slot (2 t + event) the block pass counts: a day-resolution follow-up of up to
# ninety years, while adding up the blocks' counts stays cheap next to counting them.
_SLOT_LIMIT = (1 << 16) - 1


# From this many patients on, the slots are counted by a compiled loop (numba): one
# read of each input with every check made on the way, where numpy needs a slot array
# and bincount's own extra pass, about four times the work. Below it the compile (a
# tenth of a second, once per process and input type) would cost more than it saves.
_COMPILED_MIN = 1 << 16


@cache
def _compiled_counter() -> Callable[..., tuple[NDArray[np.int64], bool]]:
    from numba import njit  # imported on first use: only large inputs need it

    @njit(nogil=True, cache=False)
    def count(t: Any, e: Any, limit: int) -> tuple[NDArray[np.int64], bool]:
        acc = np.zeros(limit + 1, np.int64)
        half = (limit - 1) // 2
        for i in range(t.shape[0]):
            ti = t[i]
            ei = e[i]
            # range first: only a time known to fit is converted (NaN fails every test)
            if 0 <= ti <= half and ti == np.floor(ti) and (ei == 0 or ei == 1):
                acc[2 * np.int64(ti) + np.int64(ei)] += 1
            else:
                return acc[:0], False
        return acc, True

    return count


def _compiled_types(t: NDArray[Any]) -> bool:
    """Time types the compiled loop takes (numba has no half floats)."""
    return t.dtype.kind in "iu" or t.dtype in (np.float32, np.float64)


def _patient_slots(durations: ArrayLike, events: ArrayLike) -> NDArray[np.int64] | None:
    """Patients per slot 2 t + event for one row per patient, checked and counted in
    one read of each input; None when the input is not whole times in range with 0/1
    events (then the general path checks it and says what is wrong).

    Every check of `_as_inputs` is made here, on each value as it is read: whole,
    finite, non-negative times, events 0/1 or boolean."""
    t = _native(durations)
    e = _native(events)
    if t.ndim != 1 or e.shape != t.shape or t.size == 0:
        return None
    if t.dtype.kind not in "iuf" or e.dtype.kind not in "biu":
        return None
    if t.size >= _COMPILED_MIN and _compiled_types(t):
        acc, ok = _compiled_counter()(t, e, _SLOT_LIMIT)
        if not ok:
            return None
        used = np.flatnonzero(acc)
        return acc[: used[-1] + 1]
    return _numpy_slots(t, e)


def _numpy_slots(t: NDArray[Any], e: NDArray[Any]) -> NDArray[np.int64] | None:
    """`_patient_slots` in numpy, block by block (the scratch arrays stay in cache)."""
    time_by_type = t.dtype.kind in "iu"
    signed_events = e.dtype.kind == "i"
    scratch = np.empty(min(_BLOCK, t.size), dtype=np.intp)
    acc = np.zeros(0, dtype=np.int64)
    for lo in range(0, t.size, _BLOCK):
        block = t[lo : lo + _BLOCK]
        ev = e[lo : lo + _BLOCK]
        x = scratch[: block.size]
        with np.errstate(invalid="ignore"):  # NaN and infinity are caught just below
            np.copyto(x, block, casting="unsafe")
        if not time_by_type and not np.array_equal(x, block):
            return None  # a fraction, NaN or infinity
        # before doubling, or a time of 2**63 would wrap to slot 0; read as unsigned,
        # a negative time is above the limit too
        if int(x.view(np.uintp).max()) > _SLOT_LIMIT >> 1:
            return None
        np.left_shift(x, 1, out=x)
        if ev.dtype.kind != "b":
            top = int(
                ev.view(np.dtype(f"u{ev.dtype.itemsize}")).max() if signed_events else ev.max()
            )
            if top > 1:
                return None
        np.bitwise_or(x, ev, out=x, dtype=np.intp, casting="unsafe")
        counts = np.bincount(x)
        if counts.size > acc.size:
            counts[: acc.size] += acc
            acc = counts
        else:
            acc[: counts.size] += counts
    return acc


def _from_slots(pairs: NDArray[np.int64]) -> tuple[FloatArray, FloatArray, FloatArray]:
    if pairs.size % 2:
        pairs = np.append(pairs, 0)
    d_i, total_i = pairs[1::2], pairs[0::2] + pairs[1::2]
    keep = np.flatnonzero(total_i)
    return (
        keep.astype(np.float64),
        d_i[keep].astype(np.float64),
        total_i[keep].astype(np.float64),
    )


def _count_checked(
    t: NDArray[np.float64] | NDArray[np.integer], e: NDArray[np.bool_], w: FloatArray | None
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Distinct times with their (weighted) events and totals.

    Day-resolution times take a counting pass instead of a sort: at a million
    patients that is the difference between milliseconds and tens of them.
    """
    tmax = float(t.max()) if t.size else 0.0
    if t.size and tmax < _BINCOUNT_LIMIT:
        if w is None and 2 * tmax + 1 <= _SLOT_LIMIT:
            pairs = _patient_slots(t, e)
            if pairs is not None:
                return _from_slots(pairs)
        ti = t.astype(np.int64)
        if t.dtype.kind in "iu" or np.array_equal(ti, t):
            if w is None:
                # events and censorings in one counting pass: slot 2 t + event
                slots = ti * 2
                slots += e
                pairs = np.bincount(slots, minlength=2 * (int(tmax) + 1)).reshape(-1, 2)
                d_i, total_i = pairs[:, 1], pairs.sum(axis=1)
            else:
                total_i = np.bincount(ti, weights=w)
                d_i = np.bincount(ti, weights=w * e, minlength=total_i.size)
            keep = np.flatnonzero(total_i)
            return (
                keep.astype(np.float64),
                d_i[keep].astype(np.float64),
                total_i[keep].astype(np.float64),
            )
    tf = np.asarray(t, dtype=np.float64)
    times, inverse = np.unique(tf, return_inverse=True)
    ww = np.ones(tf.size) if w is None else w
    d_u = np.bincount(inverse, weights=ww * e, minlength=times.size).astype(np.float64)
    total_u = np.bincount(inverse, weights=ww, minlength=times.size).astype(np.float64)
    return times, d_u, total_u


def count_by_time(
    durations: ArrayLike, events: ArrayLike, weights: ArrayLike | None = None
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Distinct times with their (weighted) events and totals, the inputs checked.

    One row per patient with day-resolution times is checked and counted in one pass;
    anything else is checked whole first, then counted.
    """
    pairs = _patient_slots(durations, events) if weights is None else None
    if pairs is not None:
        return _from_slots(pairs)
    t, e, w = _as_inputs(durations, events, weights)
    return _count_checked(t, e, w)
