"""The Trial design page's settings: the controls, and what differs from the trial's plan.

The analysis plan's values are the simulator's defaults (:data:`PLAN`); the trial's
stated operating characteristics (:data:`STATED_POWER`, :data:`STATED_ALPHA`) are design
parameters from the publication, not results. :func:`controls` draws the number inputs,
the looks and the number of simulated trials, each kept in the URL, and turns them into
a design (or says why they make none); :func:`differences` names each setting that
departs from the plan, in words.
"""

from __future__ import annotations

from typing import Any

import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from analytics.analyses.design import DEFAULT_SEED, DEFAULT_SIMULATIONS, DesignSettings, parse_looks
from ui import fmt

PLAN = DesignSettings()  # the analysis plan's values are the simulator's defaults
# The trial's stated design (PROMISE II, N Engl J Med 2023): design parameters, not
# results. Power of at least this much at each true rate, and the false-positive rate
# at the performance goal.
STATED_POWER = ((0.68, 0.80), (0.70, 0.90))
STATED_ALPHA = 0.025
SIMULATION_CHOICES = (1_000, 2_000, 5_000, 10_000, 20_000, 50_000, 100_000)


# key: (label, lowest, highest, step, format, help); the default is the plan's
NUMBERS: dict[str, tuple[str, float, float, float, str, str | None]] = {
    "rate": ("True amputation-free survival (%)", 1, 99, 1, "%d",
             "The rate at the landmark the simulated patients really have."),
    "accrual_per_month": ("Patients enrolled a month", 0.1, 100.0, 0.1, "%.2f",
                          "Enrolment is a Poisson process at this rate. Default: the "
                          "trial's pace, 105 patients from December 2019 to March 2022."),
    "followup_days": ("Landmark (days after enrolment)", 0, 3650, 1, "%d",
                      "An outcome is known once the patient reaches the landmark."),
    "seed": ("Seed", 0, 2**31 - 1, 1, "%d", "The same seed simulates the same trials."),
    "expected_success": ("Stop enrolment: success expected above", 0.5, 1.0, 0.01, "%.2f",
                         "Enrolment stops when the predictive probability that the patients "
                         "already enrolled will meet the goal exceeds this (1: never)."),
    "futility": ("Stop for futility below", 0.0, 0.5, 0.01, "%.2f",
                 "The trial stops when the predictive probability of success with the "
                 "maximum sample size falls below this (0: never)."),
    "goal": ("Goal (%)", 1, 99, 1, "%d", "The performance goal for amputation-free "
             "survival at the landmark."),
    "threshold": ("Success threshold", 0.5, 0.9999, 0.001, "%.4f",
                  "Success: the posterior probability that the rate exceeds the goal is "
                  "above this."),
    "a": ("Prior a", 0.01, 1000.0, 0.5, "%g", None),
    "b": ("Prior b", 0.01, 1000.0, 0.5, "%g", None),
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
    label, lo, hi, step, form, helptext = NUMBERS[key]
    whole = form == "%d"
    kind = int if whole else float
    return where.number_input(
        label,
        kind(lo),
        kind(hi),
        kind(DEFAULTS[key]),
        kind(step),
        format=form,
        key=f"design_{key}",
        bind="query-params",
        help=helptext,
    )


def controls() -> tuple[DesignSettings | None, float, int, int]:
    """The design, the true rate, simulations and seed; the design is None (with the
    reason shown) when the settings cannot make one."""
    with st.container(border=True):
        st.markdown("**Settings.** The trial's plan is the default; the URL keeps every change.")
        top, low = (st.columns(6, vertical_alignment="bottom") for _ in range(2))
        v = {key: _number(top[i], key) for i, key in enumerate(NUMBERS) if i < 3}
        looks_text = top[3].text_input(
            "Looks (patients enrolled)",
            ", ".join(map(str, PLAN.looks)),
            key="design_looks",
            bind="query-params",
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
    rate, seed = v["rate"] / 100, int(v["seed"])
    try:
        settings = DesignSettings(
            looks=parse_looks(looks_text),
            goal=v["goal"] / 100,
            threshold=float(v["threshold"]),
            prior=(float(v["a"]), float(v["b"])),
            expected_success=float(v["expected_success"]),
            futility=float(v["futility"]),
            accrual_per_month=float(v["accrual_per_month"]),
            followup_days=float(v["followup_days"]),
            alpha=STATED_ALPHA,
        )
    except ValueError as exc:
        st.error(f"These settings make no design: {str(exc).rstrip('.')}.")
        return None, rate, int(simulations), seed
    return settings, rate, int(simulations), seed


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
