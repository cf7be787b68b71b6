"""How results are shown: the options every page reads (landmark, CI type, ticks,
minimum at risk, presentation mode, performance goal), one frozen value whose `key`
enters every cache key.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from analytics.estimators.km import CIType
from charts.theme import Theme, get_theme

# Presentation figures are laid out for a 1600-pixel slide; on the page they are laid
# out for this width instead, which a projector's page (sidebar collapsed) exceeds, so
# legends and captions never wrap beyond what the layout reserved.
SCREEN_PRESENTATION_WIDTH = 1000


@dataclass(frozen=True)
class ViewOptions:
    """How results are shown; every page reads the same options.

    `goal` (the performance goal for amputation-free survival, a proportion) is an
    addition to the agreed fields: the overview, the AFS figure and the primary
    endpoint page read it from here, never from a constant.
    """

    landmark: float = 183.0  # days
    ci_type: CIType = "log-log"
    tick_months: float = 3.0
    show_ci: bool = True
    risk_rows: bool = False  # cumulative events and censored rows in the risk table
    min_at_risk: int = 10  # estimates with fewer at risk are drawn lighter
    presentation: bool = False
    goal: float = 0.54

    @property
    def theme(self) -> Theme:
        return get_theme("presentation" if self.presentation else "normal")

    @property
    def screen_theme(self) -> Theme:
        """`theme` for a figure drawn on the page: the presentation theme laid out for
        a page narrower than a slide (exports keep `theme`)."""
        th = self.theme
        return replace(th, width=SCREEN_PRESENTATION_WIDTH) if self.presentation else th

    def key(self) -> tuple[Any, ...]:
        """A plain tuple for cache keys."""
        return (
            float(self.landmark),
            self.ci_type,
            float(self.tick_months),
            self.show_ci,
            self.risk_rows,
            int(self.min_at_risk),
            self.presentation,
            float(self.goal),
        )
