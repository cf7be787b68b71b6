"""Text forms of the numbers, shared by every page so they read the same everywhere."""

from __future__ import annotations

import math

from analytics.model.schema import DAYS_PER_MONTH
from charts._text import estimable, interval

__all__ = ["estimable", "interval"]  # the charts' forms, so pages and figures agree


def pct(x: float) -> str:
    return f"{100 * x:.1f}%"


def share(x: float) -> str:
    """A set proportion such as a performance goal: 0.54 reads 54%."""
    return f"{100 * x:g}%"


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


def p_value(p: float) -> str:
    """A p-value as clinical papers print it: three decimals, "<0.001" below that."""
    if not math.isfinite(p):
        return "not estimable"
    if p < 0.001:
        return "<0.001"
    return f"{p:.3f}"


def logrank(p: float) -> str:
    """ "Log-rank p = 0.013", "Log-rank p < 0.001": the test always named."""
    text = p_value(p)
    if text.startswith("<"):
        return f"Log-rank p {text[0]} {text[1:]}"
    return f"Log-rank p = {text}"


def ratio(hr: float, lower: float, upper: float) -> str:
    """A hazard ratio with its 95% CI: "1.85 (1.02–3.36)"."""
    if not math.isfinite(hr):
        return "not estimable"
    if not (math.isfinite(lower) and math.isfinite(upper)):
        return f"{hr:.2f} (95% CI not estimable)"
    return f"{hr:.2f} ({lower:.2f}–{upper:.2f})"


def median_days(day: float | None) -> str:
    """A median survival time in months, or NR (not reached)."""
    if day is None or not math.isfinite(day):
        return "NR"
    return f"{day / DAYS_PER_MONTH:.1f} months"


def at_day(day: float) -> str:
    """A landmark in words: "6 months (day 183)"."""
    return f"{months(day)} (day {day:g})"


def ci_range(lower: float, upper: float) -> str:
    """The limits of a 95% interval in percent, "56.0–74.3", for a table column."""
    if not estimable(lower, upper):
        return "not estimable"
    return f"{100 * lower:.1f}–{100 * upper:.1f}"


def reintervention_kind(count_: int, patients: int, not_recorded: int) -> tuple[str, str]:
    """A planned (or unplanned) count and a note: "not recorded" when the data say the
    kind of no reintervention (a 0 there would be a false count)."""
    if not_recorded and not_recorded == patients:
        return "not recorded", (
            f"kind not recorded for {not_recorded} of {patients} patients with a reintervention"
        )
    return count(count_), f"kind not recorded: {not_recorded}" if not_recorded else ""


def points(difference: float) -> str:
    """A difference of two proportions in percentage points: "+6.7 points"."""
    value = 100 * difference
    if round(value, 1) == 0:
        return "no difference"
    return f"{value:+.1f} points".replace("-", "−")
