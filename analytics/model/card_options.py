"""The page settings a report card carries beside its view: the outcome and target of
the sites funnel, the visit of the Rutherford change, the analysis of the primary
endpoint, the simulated design, and so on.

Each kind of card accepts only the settings named here (`OPTIONS`), each checked when
the card is read from a link: a choice among codes, a number within the page's bounds,
or a short text the card's builder checks against the data (a visit, a column). The
pages take their inputs' bounds from here, so a card accepts exactly what the page does.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

from analytics.model.labels import Labels

MISSING_LABELS = {
    "pwe": "imputed from a piecewise-exponential model",
    "km": "imputed from the Kaplan-Meier curve",
    "none": "left out (complete cases)",
}
SIMULATION_CHOICES = (1_000, 2_000, 5_000, 10_000, 20_000, 50_000, 100_000)
MAX_OPTION_TEXT = 200
COLUMN = "<column>"


@dataclass(frozen=True)
class Option:
    """One setting: its words, and what it may hold. `choices`: code -> words (empty: a
    number between `low` and `high`, or with `text` a short text)."""

    label: str
    choices: Mapping[str, str] = field(default_factory=dict)
    low: float = -math.inf
    high: float = math.inf
    whole: bool = False
    text: bool = False
    many: bool = False  # the setting may be given more than once (a list)
    # a text's words: the data model's column whose codes it holds ("AVISIT"), or
    # COLUMN for the name of a column
    codes_of: str | None = None

    def problem(self, value: str) -> str | None:
        """Why `value` cannot be this setting (None: it can)."""
        if len(value) > MAX_OPTION_TEXT:
            return f"{len(value):,} characters (at most {MAX_OPTION_TEXT})"
        if self.choices:
            return None if value in self.choices else f"not one of {', '.join(self.choices)}"
        if self.text:
            return None if value.strip() else "empty"
        try:
            number = float(value)
        except ValueError:
            return "not a number"
        if not math.isfinite(number):
            return "not a number"
        if not self.low <= number <= self.high:
            return f"not between {self.low:g} and {self.high:g}"
        if self.whole and number != int(number):
            return "not a whole number"
        return None

    def words(self, value: str, labels: Labels) -> str:
        if self.choices:
            return self.choices.get(value, value)
        if self.codes_of == COLUMN:
            return labels.column(value)
        return labels.value(self.codes_of, value) if self.codes_of else value


def _number(label: str, low: float, high: float, whole: bool = False) -> Option:
    return Option(label, low=low, high=high, whole=whole)


ADVERSE_WINDOWS = {"landmark": "onset by the landmark", "whole": "whole follow-up"}
SITE_OUTCOMES = {"afs": "amputation-free survival", "amputation": "major amputation"}
SITE_TARGETS = {"pooled": "the pooled proportion", "benchmark": "a benchmark"}
DESIGN_WHERE = {"rate": "at the true rate", "goal": "at the goal"}

PRIMARY = {
    "threshold": _number("success threshold", 0.5, 0.999),
    "a": _number("prior a", 0.01, 1000.0),
    "b": _number("prior b", 0.01, 1000.0),
    "missing": Option("missing outcomes", MISSING_LABELS),
}
DESIGN = {
    "rate": _number("true amputation-free survival (%)", 1, 99, whole=True),
    "accrual_per_month": _number("patients enrolled a month", 0.1, 100.0),
    "followup_days": _number("landmark (days after enrolment)", 0, 3650, whole=True),
    "seed": _number("seed", 0, 2**31 - 1, whole=True),
    "expected_success": _number("stop enrolment: success expected above", 0.5, 1.0),
    "futility": _number("stop for futility below", 0.0, 0.5),
    "goal": _number("goal (%)", 1, 99, whole=True),
    "threshold": _number("success threshold", 0.5, 0.9999),
    "a": _number("prior a", 0.01, 1000.0),
    "b": _number("prior b", 0.01, 1000.0),
    "looks": Option("looks (patients enrolled)", text=True),
    "simulations": Option("simulated trials", {str(n): f"{n:,}" for n in SIMULATION_CHOICES}),
    "where": Option("where the trials stopped", DESIGN_WHERE),
}

# kind -> the settings its card carries
OPTIONS: dict[str, dict[str, Option]] = {
    "afs": {"compared": Option("endpoint compared", text=True, codes_of="PARAMCD")},
    "patency": {"compared": Option("endpoint compared", text=True, codes_of="PARAMCD")},
    "primary": PRIMARY,
    "subgroups": {
        "endpoint": Option("endpoint", text=True, codes_of="PARAMCD"),
        "extra": Option("added subgroup variable", text=True, many=True, codes_of=COLUMN),
    },
    "rutherford": {"visit": Option("visit", text=True, codes_of="AVISIT")},
    "sites": {
        "outcome": Option("outcome", SITE_OUTCOMES),
        "target": Option("target", SITE_TARGETS),
        "benchmark": _number("benchmark (%)", 0.1, 99.9),
        "min_n": _number("too few to judge under", 1, 10_000, whole=True),
    },
    "adverse_events": {"window": Option("adverse events counted", ADVERSE_WINDOWS)},
    "design": DESIGN,
    "design_power": {k: v for k, v in DESIGN.items() if k not in ("rate", "where")},
}
