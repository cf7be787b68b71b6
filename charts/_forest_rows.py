"""The table of the forest plot: what a subgroup result must offer, its rows and columns.

The protocols name what the figure reads from a subgroup result (duck-typed;
``analytics.analyses.subgroups.SubgroupResult`` is one). :func:`table_rows` turns the
result into rows (a variable's header, then its levels) with the text of each cell:
n, events, the Kaplan-Meier estimate with its CI, the hazard ratio with its CI, or
"too few to estimate" / "reference" where there is no number. :func:`columns` sizes
the columns to their text and :func:`hr_range` gives the log axis of the hazard ratios.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from charts._text import count, esc, p_value
from charts.theme import Theme

TOO_FEW = "too few to estimate"


class FootnoteSource(Protocol):
    def footnote(self) -> str: ...


class SubgroupLevel(Protocol):
    @property
    def level(self) -> str: ...
    @property
    def n(self) -> float: ...
    @property
    def events(self) -> float: ...
    @property
    def is_reference(self) -> bool: ...
    @property
    def estimate(self) -> float | None: ...  # KM at the landmark, proportion
    @property
    def lower(self) -> float | None: ...
    @property
    def upper(self) -> float | None: ...
    @property
    def hazard_ratio(self) -> float | None: ...
    @property
    def hr_lower(self) -> float | None: ...
    @property
    def hr_upper(self) -> float | None: ...
    @property
    def reason(self) -> str | None: ...  # why something is missing


class SubgroupVariable(Protocol):
    @property
    def variable(self) -> str: ...
    @property
    def label(self) -> str: ...
    @property
    def reference(self) -> str | None: ...
    @property
    def levels(self) -> Sequence[SubgroupLevel]: ...
    @property
    def n_missing(self) -> int: ...
    @property
    def p_interaction(self) -> float | None: ...
    @property
    def note(self) -> str | None: ...


class SubgroupTable(Protocol):
    @property
    def label(self) -> str: ...  # the endpoint
    @property
    def landmark(self) -> float: ...  # day of the KM estimate column
    @property
    def n(self) -> int: ...
    @property
    def events(self) -> int: ...
    @property
    def variables(self) -> Sequence[SubgroupVariable]: ...
    @property
    def provenance(self) -> FootnoteSource: ...


@dataclass(frozen=True)
class Row:
    kind: str  # "variable" or "level"
    variable: str
    label: str
    cells: dict[str, str]
    level: SubgroupLevel | None = None


def num(x: float | None) -> float:
    return float("nan") if x is None else float(x)


def finite(*xs: float | None) -> bool:
    return all(x is not None and math.isfinite(x) for x in xs)


def hr_text(lv: SubgroupLevel) -> str:
    if lv.is_reference:
        return "reference"
    if finite(lv.hazard_ratio, lv.hr_lower, lv.hr_upper):
        return f"{lv.hazard_ratio:.2f} ({lv.hr_lower:.2f}–{lv.hr_upper:.2f})"
    if finite(lv.hazard_ratio):
        return f"{lv.hazard_ratio:.2f} (CI not estimable)"
    reason = (lv.reason or "").lower()
    if not reason or "too few" in reason or "not estimable" in reason or "event" in reason:
        return TOO_FEW
    return "not estimated"


def estimate_text(lv: SubgroupLevel) -> str:
    if lv.estimate is None or not math.isfinite(lv.estimate):
        return TOO_FEW
    if finite(lv.lower, lv.upper):
        lo, hi = num(lv.lower), num(lv.upper)
        return f"{100 * lv.estimate:.1f}% ({100 * lo:.1f}–{100 * hi:.1f})"
    return f"{100 * lv.estimate:.1f}% (CI not estimable)"


def table_rows(table: SubgroupTable, count: Callable[[float], str] = count) -> list[Row]:
    """The forest's rows; `count` prints a count (the theme's, under small-cell
    protection)."""
    rows: list[Row] = []
    for var in table.variables:
        missing = f" ({count(var.n_missing)} missing)" if var.n_missing else ""
        rows.append(
            Row(
                "variable",
                var.variable,
                f"<b>{esc(var.label)}</b>{missing}",
                {"p": esc(p_value(var.p_interaction))},
            )
        )
        if not var.levels:
            rows.append(Row("level", var.variable, f"   <i>{esc(var.note or 'no levels')}</i>", {}))
            continue
        for lv in var.levels:
            rows.append(
                Row(
                    "level",
                    var.variable,
                    f"   {esc(lv.level)}",
                    {
                        "n": count(lv.n),
                        "events": count(lv.events),
                        "estimate": estimate_text(lv),
                        "hr": hr_text(lv),
                    },
                    lv,
                )
            )
    return rows


def hr_range(levels: list[SubgroupLevel]) -> tuple[float, float]:
    """Log10 range covering the estimable CIs and 1, within 0.05-20."""
    lows = [x for x in (num(lv.hr_lower) for lv in levels) if math.isfinite(x) and x > 0]
    highs = [x for x in (num(lv.hr_upper) for lv in levels) if math.isfinite(x)]
    hrs = [x for x in (num(lv.hazard_ratio) for lv in levels) if math.isfinite(x) and x > 0]
    lo = min([0.5, *lows, *hrs])
    hi = max([2.0, *highs, *hrs])
    lo = max(lo / 1.15, 0.05)
    hi = min(hi * 1.15, 20.0)
    return math.log10(lo), math.log10(hi)


def text_px(text: str, size: float, bold: bool = False) -> float:
    """Width of a line of text in layout pixels (an upper estimate for Arial)."""
    plain = re.sub(r"<[^>]+>", "", text).replace("&lt;", "<").replace("&gt;", ">")
    longest = max((len(x) for x in plain.split("\n")), default=0)
    return longest * size * (0.6 if bold else 0.55)


def columns(
    rows: list[Row], th: Theme, est_header: str, p_header: str
) -> tuple[list[tuple[str, float, str, str]], tuple[float, float], float]:
    """Column positions (paper x, anchor) sized to their content, the x domain of the
    hazard-ratio panel, and the smallest figure width at which nothing overlaps."""
    size, gap = th.table_size, 1.3 * th.table_size

    def width(key: str, header: str) -> float:
        cells = [r.label if key == "label" else r.cells.get(key, "") for r in rows]
        heads = [text_px(h, size, bold=True) for h in header.split("<br>")]
        return max([text_px(c, size, bold=c.startswith("<b>")) for c in cells] + heads)

    w = {
        "label": width("label", "Subgroup"),
        "n": width("n", "n"),
        "events": width("events", "Events"),
        "estimate": width("estimate", est_header),
        "hr": width("hr", "HR (95% CI)"),
        "p": width("p", p_header),
    }
    min_plot = max(160.0, 12 * size)
    fixed = sum(w.values()) + 6 * gap
    usable = max(th.width - 32.0, fixed + min_plot)
    plot_w = usable - fixed
    x_n = w["label"] + gap + w["n"]  # right edges for numbers
    x_ev = x_n + gap + w["events"]
    x_est = x_ev + gap  # left edges for text
    x_plot = x_est + w["estimate"] + gap
    x_hr = x_plot + plot_w + gap
    x_p = x_hr + w["hr"] + gap + w["p"]
    cols = [
        ("label", 0.0, "left", "Subgroup"),
        ("n", x_n / usable, "right", "n"),
        ("events", x_ev / usable, "right", "Events"),
        ("estimate", x_est / usable, "left", est_header),
        ("hr", x_hr / usable, "left", "HR (95% CI)"),
        ("p", x_p / usable, "right", p_header),
    ]
    return cols, (x_plot / usable, (x_plot + plot_w) / usable), usable + 32.0
