"""The frozen results of a cumulative incidence (`analytics.estimators.competing`): a
curve with its landmarks, and the Aalen-Johansen and 1 - KM curves of one cause."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from analytics.model.provenance import Provenance

FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class IncidenceLandmark:
    day: float
    estimate: float
    std_err: float
    lower: float
    upper: float
    at_risk: float
    events: float
    competing_events: float
    censored: float


@dataclass(frozen=True)
class IncidenceCurve:
    """A cumulative incidence curve; ``std_err`` on the probability scale."""

    method: str
    cause: int
    timeline: FloatArray
    estimate: FloatArray
    std_err: FloatArray
    lower: FloatArray
    upper: FloatArray
    at_risk: FloatArray
    events: FloatArray
    landmarks: tuple[IncidenceLandmark, ...]
    provenance: Provenance

    def landmark(self, day: float) -> IncidenceLandmark:
        for lm in self.landmarks:
            if lm.day == day:
                return lm
        raise KeyError(f"no landmark at day {day}")


@dataclass(frozen=True)
class CompetingRisksResult:
    """The same cause two ways: ``aalen_johansen`` (correct) and ``one_minus_km``."""

    endpoint: str
    cause: int
    n: float
    aalen_johansen: IncidenceCurve
    one_minus_km: IncidenceCurve
    provenance: Provenance
