"""``python -m analytics design``: the Goldilocks design simulated, as one JSON document.

`add_parser` registers the ``design`` subcommand on the command line's subparsers and
`run` carries it out; `main` runs it alone (``python -m analytics.report.design_cli [design]
...``). Bad options end with exit code 2 and one sentence on stderr, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import Any

from analytics.analyses.design import (
    DEFAULT_ACCRUAL,
    DEFAULT_ALPHA,
    DEFAULT_EXPECTED_SUCCESS,
    DEFAULT_FOLLOWUP_DAYS,
    DEFAULT_FUTILITY,
    DEFAULT_GOAL,
    DEFAULT_LOOKS,
    DEFAULT_SEED,
    DEFAULT_SIMULATIONS,
    DEFAULT_THRESHOLD,
    DEFAULT_TRUE_RATE,
    MAX_SIMULATIONS,
    DesignResult,
    GoldilocksDesign,
    parse_looks,
)
from analytics.analyses.design_results import OperatingCharacteristics
from analytics.report import arguments
from analytics.report.arguments import EXIT_USAGE

PROG = "python -m analytics design"

DESCRIPTION = """\
Simulate the Goldilocks adaptive design (Broglio, Connor & Berry 2014) of a single-arm
trial with a binary endpoint at a landmark, and print its operating characteristics as
one JSON document: the probability of success at the true rate, the expected sample
size, where trials stopped (for expected success, for futility, at the maximum), the
type I error (the probability of success when the true rate equals the goal), Monte
Carlo standard errors, the exact results of a single analysis at the maximum sample
size, and the threshold, raised one critical count at a time, at which the simulated
type I error is at most alpha.
"""

EPILOG = """\
examples:
  python -m analytics design
  python -m analytics design --true-rate 0.68 --simulations 20000 --seed 7
  python -m analytics design --looks 105          (one analysis of 105 patients)
  python -m analytics design --expected-success 0.95 --futility 0.01 --accrual 6

The same seed gives the same document.
"""


def _looks(text: str) -> tuple[int, ...]:
    try:
        return parse_looks(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register ``design`` on an argparse subparsers object; returns its parser."""
    d = arguments.command(
        subparsers,
        "design",
        help="simulate the Goldilocks adaptive design",
        description=DESCRIPTION,
        epilog=EPILOG,
    )
    add = d.add_argument
    add(
        "--true-rate",
        type=arguments.rate,
        default=DEFAULT_TRUE_RATE,
        metavar="P",
        help=f"true event-free rate at the landmark (default {DEFAULT_TRUE_RATE})",
    )
    add(
        "--simulations",
        type=arguments.whole_number(1, MAX_SIMULATIONS),
        default=DEFAULT_SIMULATIONS,
        metavar="N",
        help=f"simulated trials (default {DEFAULT_SIMULATIONS})",
    )
    add(
        "--seed",
        type=arguments.whole_number(0),
        default=DEFAULT_SEED,
        metavar="S",
        help=f"random seed (default {DEFAULT_SEED}): the same seed gives the same output",
    )
    add(
        "--looks",
        type=_looks,
        default=DEFAULT_LOOKS,
        metavar="N1,N2,...",
        help="patients enrolled at each look, the last the maximum (default "
        + ",".join(map(str, DEFAULT_LOOKS))
        + ")",
    )
    add(
        "--goal",
        type=arguments.probability,
        default=DEFAULT_GOAL,
        metavar="P",
        help=f"performance goal (default {DEFAULT_GOAL})",
    )
    add(
        "--threshold",
        type=arguments.probability,
        default=DEFAULT_THRESHOLD,
        metavar="P",
        help=f"posterior probability above the goal needed for success (default "
        f"{DEFAULT_THRESHOLD})",
    )
    add(
        "--expected-success",
        type=arguments.rate,
        default=DEFAULT_EXPECTED_SUCCESS,
        metavar="P",
        help="stop enrolment when the predictive probability of success with the patients "
        f"enrolled exceeds this (default {DEFAULT_EXPECTED_SUCCESS}; 1 never stops)",
    )
    add(
        "--futility",
        type=arguments.rate,
        default=DEFAULT_FUTILITY,
        metavar="P",
        help="stop for futility when the predictive probability of success at the maximum "
        f"is below this (default {DEFAULT_FUTILITY}; 0 never stops)",
    )
    add(
        "--accrual",
        type=arguments.positive,
        default=DEFAULT_ACCRUAL,
        metavar="PER_MONTH",
        help=f"patients enrolled a month (default {DEFAULT_ACCRUAL:g})",
    )
    add(
        "--followup-days",
        type=arguments.positive,
        default=DEFAULT_FOLLOWUP_DAYS,
        metavar="DAYS",
        help=f"days from enrolment to the landmark outcome (default {DEFAULT_FOLLOWUP_DAYS:g})",
    )
    add(
        "--prior",
        type=arguments.prior,
        default=(1.0, 1.0),
        metavar="A,B",
        help="Beta prior of the rate (default 1,1: uniform)",
    )
    add(
        "--alpha",
        type=arguments.probability,
        default=DEFAULT_ALPHA,
        metavar="P",
        help=f"type I error the design should keep to (default {DEFAULT_ALPHA})",
    )
    return d


def _stopping(oc: OperatingCharacteristics) -> list[dict[str, float | int]]:
    """One row per look; expected success, futility and maximum add up to 1."""
    last = len(oc.looks) - 1
    return [
        {
            "sample_size": n,
            "expected_success": oc.stopped_for_success[i],
            "futility": oc.stopped_for_futility[i],
            "maximum": oc.reached_maximum if i == last else 0.0,
            "success": oc.success_at[i],
        }
        for i, n in enumerate(oc.looks)
    ]


def result_json(res: DesignResult) -> dict[str, Any]:
    """The document ``design`` prints."""
    rate, goal, fixed, cal = res.at_rate, res.at_goal, res.fixed, res.calibration
    s = res.settings
    return {
        "design": {
            "looks": list(s.looks),
            "goal": s.goal,
            "threshold": s.threshold,
            "prior": list(s.prior),
            "expected_success_threshold": s.expected_success,
            "futility_threshold": s.futility,
            "accrual_per_month": s.accrual_per_month,
            "followup_days": s.followup_days,
            "alpha": s.alpha,
            "critical_counts": [
                {"sample_size": n, "successes_needed": k}
                for n, k in zip(s.looks, res.critical_counts, strict=True)
            ],
        },
        "true_rate": rate.true_rate,
        "simulations": rate.simulations,
        "seed": rate.seed,
        "probability_of_success": rate.probability_of_success,
        "expected_sample_size": rate.expected_sample_size,
        "expected_duration_months": rate.expected_duration_months,
        "stopping": _stopping(rate),
        "type_one_error": goal.probability_of_success,
        "monte_carlo_errors": {
            "probability_of_success": rate.probability_of_success_se,
            "expected_sample_size": rate.expected_sample_size_se,
            "type_one_error": goal.probability_of_success_se,
        },
        "at_goal": {
            "expected_sample_size": goal.expected_sample_size,
            "stopping": _stopping(goal),
        },
        "fixed_design": {
            "sample_size": fixed.sample_size,
            "critical_count": fixed.critical_count,
            "type_one_error_exact": fixed.type_one_error,
            "power_exact": fixed.power,
            "alpha": fixed.alpha,
            "critical_count_for_alpha": fixed.required_critical_count,
            "threshold_for_alpha": fixed.required_threshold,
            "type_one_error_exact_for_alpha": fixed.required_type_one_error,
            "power_exact_for_alpha": fixed.required_power,
        },
        "calibration": None
        if cal is None
        else {
            "alpha": cal.alpha,
            "threshold": cal.threshold,
            "type_one_error": cal.type_one_error,
            "type_one_error_monte_carlo_error": cal.type_one_error_se,
            "critical_counts": None if cal.critical_counts is None else list(cal.critical_counts),
        },
        "method": res.provenance.method,
        "versions": dict(res.provenance.versions),
    }


def run(args: argparse.Namespace) -> int:
    """Carry out ``design`` with parsed `args`: the JSON on stdout, 0; or 2 (1 for a
    fault of ours) with one sentence on stderr."""
    try:
        design = GoldilocksDesign(
            looks=args.looks,
            goal=args.goal,
            threshold=args.threshold,
            prior=args.prior,
            expected_success=args.expected_success,
            futility=args.futility,
            accrual_per_month=args.accrual,
            followup_days=args.followup_days,
            alpha=args.alpha,
        )
        result = design.run(args.true_rate, args.simulations, args.seed).result_
    except ValueError as exc:
        return arguments.fail(f"{PROG}: {str(exc).rstrip('.')}.")
    except Exception as exc:  # an engine fault: one line, never a traceback
        return arguments.internal_error(PROG, exc)
    arguments.write(json.dumps(result_json(result), indent=2, allow_nan=False))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """``design`` on its own; `argv` may start with "design" or leave it out."""
    args_in = list(sys.argv[1:] if argv is None else argv)
    if not args_in or args_in[0] != "design":
        args_in.insert(0, "design")
    parser = arguments.Parser(prog="python -m analytics")
    add_parser(parser.add_subparsers(dest="command", required=True, parser_class=arguments.Parser))
    try:
        args = parser.parse_args(args_in)
    except SystemExit as stop:  # --help, or a bad option already explained on stderr
        return stop.code if isinstance(stop.code, int) else EXIT_USAGE
    return run(args)


if __name__ == "__main__":
    raise SystemExit(main())
