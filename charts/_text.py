"""Text forms used inside figures (kept in step with ``ui.fmt``, which pages use)."""

from __future__ import annotations

import html
import math
import textwrap

from analytics.model.schema import DAYS_PER_MONTH


def pct(x: float | None, digits: int = 1) -> str:
    if x is None or not math.isfinite(x):
        return "NE"
    return f"{100 * x:.{digits}f}%"


def share(x: float) -> str:
    """A set proportion such as a performance goal: 0.54 reads 54%."""
    return f"{100 * x:g}%"


def estimable(lower: float | None, upper: float | None) -> bool:
    """Whether an interval says anything: finite limits that differ. An estimate of 0
    or 1 (no event, or everyone had one) has a zero-width interval, which would read as
    certainty ("100.0% (95% CI 100.0-100.0)") where there is only too little data."""
    if lower is None or upper is None:
        return False
    return math.isfinite(lower) and math.isfinite(upper) and upper - lower > 1e-9


def interval(lower: float | None, upper: float | None, kind: str = "CI") -> str:
    if not estimable(lower, upper):
        return f"95% {kind} not estimable"
    return f"95% {kind} {100 * lower:.1f}–{100 * upper:.1f}"


def count(x: float) -> str:
    return f"{x:,.0f}"


def month_value(day: float | None) -> str:
    if day is None:
        return "NR"
    return f"{day / DAYS_PER_MONTH:.1f}"


def month_label(months: float) -> str:
    """A tick or landmark in months: whole numbers without decimals."""
    return f"{months:g}" if abs(months - round(months)) > 1e-9 else f"{round(months)}"


def p_value(p: float | None) -> str:
    if p is None or not math.isfinite(p):
        return "–"
    if p < 0.001:
        return "<0.001"
    return f"{p:.3f}" if p < 0.01 else f"{p:.2f}"


def esc(text: str) -> str:
    """Plain text made safe for Plotly's pseudo-HTML (a label such as "Age <65")."""
    return html.escape(text, quote=False)


def wrap(text: str, chars: int) -> str:
    """Escape and word-wrap plain `text` for a Plotly annotation (which never wraps)."""
    lines: list[str] = []
    for para in esc(text).split("\n"):
        lines.extend(
            textwrap.wrap(para, chars, break_on_hyphens=False, break_long_words=False) or [""]
        )
    return "<br>".join(lines)
