"""The Trial design page's settings: the controls, and what differs from the trial's plan.

The analysis plan's values are the simulator's defaults (:data:`PLAN`); the trial's
stated operating characteristics (:data:`STATED_POWER`, :data:`STATED_ALPHA`) are design
parameters from the publication, not results. :func:`controls` draws the number inputs,
the looks and the number of simulated trials, each kept in the URL, and turns them into
a design (or says why they make none); :func:`differences` names each setting that
departs from the plan, in words.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd
import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from analytics.analyses.design import (
    DEFAULT_SEED,
    DEFAULT_SIMULATIONS,
    DesignResult,
    DesignSettings,
    parse_looks,
)
from analytics.model.basket import Card
from analytics.model.card_options import DESIGN, MAX_OPTION_TEXT, OPTIONS, SIMULATION_CHOICES
from ui import fmt

PLAN = DesignSettings()  # the analysis plan's values are the simulator's defaults
# The trial's stated design (PROMISE II, N Engl J Med 2023): design parameters, not
# results. Power of at least this much at each true rate, and the false-positive rate
# at the performance goal.
STATED_POWER = ((0.68, 0.80), (0.70, 0.90))
STATED_ALPHA = 0.025
DEFAULT_LOOKS_TEXT = ", ".join(map(str, PLAN.looks))


# key: (step, format, help); the label and bounds are the report card's
# (`analytics.model.card_options.DESIGN`), so a card takes what these inputs take, and
# the default is the plan's
NUMBERS: dict[str, tuple[float, str, str | None]] = {
    "rate": (1, "%d", "The rate at the landmark the simulated patients really have."),
    "accrual_per_month": (0.1, "%.2f", "Enrolment is a Poisson process at this rate. Default: "
                          "the trial's pace, 105 patients from December 2019 to March 2022."),
    "followup_days": (1, "%d", "An outcome is known once the patient reaches the landmark."),
    "seed": (1, "%d", "The same seed simulates the same trials."),
    "expected_success": (0.01, "%.2f", "Enrolment stops when the predictive probability that "
                         "the patients already enrolled will meet the goal exceeds this "
                         "(1: never)."),
    "futility": (0.01, "%.2f", "The trial stops when the predictive probability of success "
                 "with the maximum sample size falls below this (0: never)."),
    "goal": (1, "%d", "The performance goal for amputation-free survival at the landmark."),
    "threshold": (0.001, "%.4f", "Success: the posterior probability that the rate exceeds "
                  "the goal is above this."),
    "a": (0.5, "%g", None),
    "b": (0.5, "%g", None),
}  # fmt: skip
DEFAULTS: dict[str, float] = {
    "rate": 70,
    "accrual_per_month": PLAN.accrual_per_month,
    "followup_days": int(PLAN.followup_days),
    "seed": DEFAULT_SEED,
    "expected_success": PLAN.expected_success,
    "futility": PLAN.futility,
    "goal": round(100 * PLAN.goal),
    "threshold": PLAN.threshold,
    "a": PLAN.prior[0],
    "b": PLAN.prior[1],
}


def _number(where: DeltaGenerator, key: str) -> float:
    step, form, helptext = NUMBERS[key]
    spec = DESIGN[key]
    kind = int if spec.whole else float
    return where.number_input(
        spec.label[0].upper() + spec.label[1:],
        kind(spec.low),
        kind(spec.high),
        kind(DEFAULTS[key]),
        kind(step),
        format=form,
        key=f"design_{key}",
        bind="query-params",
        help=helptext,
    )


@dataclass(frozen=True)
class DesignChoice:
    """The settings as chosen on the page or carried by a report card: the numbers of
    `NUMBERS`, the looks as typed, the number of simulated trials."""

    values: Mapping[str, float]
    looks: str = DEFAULT_LOOKS_TEXT
    simulations: int = DEFAULT_SIMULATIONS

    @property
    def rate(self) -> float:
        return self.values["rate"] / 100

    @property
    def seed(self) -> int:
        return int(self.values["seed"])

    def settings(self) -> DesignSettings:
        """The design; ValueError (its reason) when these settings make none."""
        v = self.values
        return DesignSettings(
            looks=parse_looks(self.looks),
            goal=v["goal"] / 100,
            threshold=float(v["threshold"]),
            prior=(float(v["a"]), float(v["b"])),
            expected_success=float(v["expected_success"]),
            futility=float(v["futility"]),
            accrual_per_month=float(v["accrual_per_month"]),
            followup_days=float(v["followup_days"]),
            alpha=STATED_ALPHA,
        )

    def options(self, kind: str) -> tuple[tuple[str, str], ...]:
        """A report card's settings: those that depart from the plan (of the card's kind)."""
        out = [
            (k, str(int(x)) if DESIGN[k].whole else repr(float(x)))
            for k, x in self.values.items()
            if x != DEFAULTS[k] and k in OPTIONS[kind]
        ]
        if parse_looks(self.looks) != PLAN.looks:
            out.append(("looks", self.looks))
        if self.simulations != DEFAULT_SIMULATIONS:
            out.append(("simulations", str(self.simulations)))
        return tuple(out)

    @classmethod
    def of_card(cls, card: Card) -> DesignChoice:
        values = {k: float(card.option(k) or DEFAULTS[k]) for k in NUMBERS}
        simulations = int(card.option("simulations") or DEFAULT_SIMULATIONS)
        return cls(values, card.option("looks") or DEFAULT_LOOKS_TEXT, simulations)


def controls() -> DesignChoice:
    """The settings as chosen (each input kept in the URL)."""
    with st.container(border=True):
        st.markdown("**Settings.** The trial's plan is the default; the URL keeps every change.")
        top, low = (st.columns(6, vertical_alignment="bottom") for _ in range(2))
        v = {key: _number(top[i], key) for i, key in enumerate(NUMBERS) if i < 3}
        looks_text = top[3].text_input(
            "Looks (patients enrolled)",
            DEFAULT_LOOKS_TEXT,
            key="design_looks",
            bind="query-params",
            max_chars=MAX_OPTION_TEXT,
            help="Interim analyses at these enrolment counts; the last is the maximum.",
        )
        simulations = top[4].selectbox(
            "Simulated trials",
            SIMULATION_CHOICES,
            index=SIMULATION_CHOICES.index(DEFAULT_SIMULATIONS),
            key="design_simulations",
            bind="query-params",
        )
        v["seed"] = _number(top[5], "seed")
        v |= {key: _number(low[i], key) for i, key in enumerate(list(NUMBERS)[4:])}
    return DesignChoice(v, looks_text, int(simulations))


def design_of(choice: DesignChoice) -> DesignSettings | None:
    """The design, or None with the reason shown when the settings make none."""
    try:
        return choice.settings()
    except ValueError as exc:
        st.error(f"These settings make no design: {str(exc).rstrip('.')}.")
        return None


def _looks_text(looks: tuple[int, ...]) -> str:
    return ", ".join(str(n) for n in looks) + " patients"


# each setting in words, and its value as the reader typed it
SETTING_WORDS: dict[str, tuple[str, Any]] = {
    "looks": ("looks at", _looks_text),
    "goal": ("goal", fmt.share),
    "threshold": ("success threshold", lambda v: f"{v:g}"),
    "prior": ("prior", lambda v: f"Beta({v[0]:g}, {v[1]:g})"),
    "expected_success": ("stop enrolment when success is expected above", lambda v: f"{v:g}"),
    "futility": ("stop for futility below", lambda v: f"{v:g}"),
    "accrual_per_month": ("enrolment", lambda v: f"{v:g} patients a month"),
    "followup_days": ("landmark", lambda v: f"day {v:g} after enrolment"),
    "alpha": ("type I error to keep to", lambda v: f"{v:g}"),
}


def differences(s: DesignSettings) -> list[str]:
    out = []
    for field in vars(PLAN):
        if getattr(s, field) != getattr(PLAN, field):
            words, show = SETTING_WORDS[field]
            out.append(f"{words} {show(getattr(s, field))} (plan: {show(getattr(PLAN, field))})")
    return out


CURVE_RATES = tuple(r / 100 for r in range(44, 82, 2))
CURVE_MAX_SIMULATIONS = 20_000  # per rate: keeps the curve to a few seconds


def power_inputs(
    settings: DesignSettings, simulations: int
) -> tuple[tuple[float, ...], int, list[tuple[float, float, str]]]:
    """The power curve's true rates, its simulations per rate, and the stated design's
    marks (rate, probability, words) drawn beside it."""
    rates = tuple(sorted({*CURVE_RATES, *(r for r, _ in STATED_POWER), settings.goal}))
    stated = [(r, p, f"Stated: at least {fmt.share(p)} at {fmt.share(r)}") for r, p in STATED_POWER]
    stated.append((PLAN.goal, STATED_ALPHA, f"Stated: false-positive rate {STATED_ALPHA:g}"))
    return rates, min(simulations, CURVE_MAX_SIMULATIONS), stated


def operating_frame(res: DesignResult) -> pd.DataFrame:
    """The operating characteristics at the true rate and at the goal: success, sample
    size, duration, and where the simulated trials stopped (percentages in points)."""
    rate, goal = res.at_rate, res.at_goal
    rows = [
        ("Probability of success (%)", rate.probability_of_success, goal.probability_of_success),
        ("Expected sample size", rate.expected_sample_size, goal.expected_sample_size),
        (
            "Expected months to the end",
            rate.expected_duration_months,
            goal.expected_duration_months,
        ),
    ]
    for i, n in enumerate(res.settings.looks[:-1]):
        rows.append(
            (
                f"Stopped enrolment at {n}: success expected (%)",
                rate.stopped_for_success[i],
                goal.stopped_for_success[i],
            )
        )
        rows.append(
            (
                f"Stopped for futility at {n} (%)",
                rate.stopped_for_futility[i],
                goal.stopped_for_futility[i],
            )
        )
    rows.append(
        (
            f"Enrolled to the maximum, {res.settings.looks[-1]} (%)",
            rate.reached_maximum,
            goal.reached_maximum,
        )
    )
    at_rate = f"True rate {fmt.share(rate.true_rate)}"
    at_goal = f"True rate at the goal, {fmt.share(goal.true_rate)}"
    return pd.DataFrame(
        [
            (m, 100 * x if m.endswith("(%)") else x, 100 * y if m.endswith("(%)") else y)
            for m, x, y in rows
        ],
        columns=["Operating characteristic", at_rate, at_goal],
    )
