"""What a simulation of the Goldilocks design (`analytics.analyses.design`) gives back: frozen
results at one true rate, the exact fixed-size design, the threshold calibration and a
power curve."""

from __future__ import annotations

import math
from dataclasses import dataclass

from analytics.model.provenance import Provenance


@dataclass(frozen=True)
class OperatingCharacteristics:
    """What the simulated trials did at one true rate; shares are of all trials."""

    true_rate: float
    simulations: int
    seed: int
    looks: tuple[int, ...]
    probability_of_success: float
    expected_sample_size: float
    sample_size_sd: float
    expected_duration_months: float  # first enrolment to the final analysis or the stop
    stopped_for_success: tuple[float, ...]  # enrolment stopped for expected success
    stopped_for_futility: tuple[float, ...]
    reached_maximum: float
    success_at: tuple[float, ...]  # trials ending in success with that many enrolled

    @property
    def probability_of_success_se(self) -> float:
        p = self.probability_of_success
        return math.sqrt(p * (1 - p) / self.simulations)

    @property
    def expected_sample_size_se(self) -> float:
        return self.sample_size_sd / math.sqrt(self.simulations)


@dataclass(frozen=True)
class FixedDesign:
    """A single analysis of all `sample_size` patients, exactly from the binomial."""

    sample_size: int
    critical_count: int
    type_one_error: float
    power: float  # at the true rate
    alpha: float
    required_critical_count: int  # fewest successes giving a type I error <= alpha
    required_threshold: float  # a threshold that gives that critical count
    required_type_one_error: float
    required_power: float


@dataclass(frozen=True)
class Calibration:
    """The first threshold up from the design's (one critical count at a time) at which
    the simulated type I error is at most alpha (None: none within the steps tried)."""

    alpha: float
    threshold: float | None
    type_one_error: float | None
    type_one_error_se: float | None
    critical_counts: tuple[int, ...] | None


@dataclass(frozen=True)
class PowerCurve:
    rates: tuple[float, ...]
    probability_of_success: tuple[float, ...]
    monte_carlo_error: tuple[float, ...]
    expected_sample_size: tuple[float, ...]
    fixed_power: tuple[float, ...]  # exact, one analysis at the maximum sample size
    simulations: int
    seed: int
    provenance: Provenance
