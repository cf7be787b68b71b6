"""Text forms of the numbers, shared by every page so they read the same everywhere."""

from __future__ import annotations

import math

DAYS_PER_MONTH = 365.25 / 12


def pct(x: float) -> str:
    return f"{100 * x:.1f}%"


def share(x: float) -> str:
    """A set proportion such as a performance goal: 0.54 reads 54%."""
    return f"{100 * x:g}%"


def interval(lower: float, upper: float, kind: str = "CI") -> str:
    if not (math.isfinite(lower) and math.isfinite(upper)):
        return f"95% {kind} not estimable"
    return f"95% {kind} {100 * lower:.1f}–{100 * upper:.1f}"


def estimate_with_interval(x: float, lower: float, upper: float, kind: str = "CI") -> str:
    return f"{pct(x)} ({interval(lower, upper, kind)})"


def probability(p: float) -> str:
    # Four decimals keep a value just above a 0.977 threshold distinguishable from it.
    if p > 0.9999:
        return ">0.9999"
    if p < 0.0001:
        return "<0.0001"
    return f"{p:.4f}"


def count(x: float) -> str:
    return f"{x:,.0f}"


def months(day: float) -> str:
    m = round(day / DAYS_PER_MONTH)
    return "1 month" if m == 1 else f"{m} months"


def patients(n: int, total: int) -> str:
    return f"{count(n)} of {count(total)} patients"
