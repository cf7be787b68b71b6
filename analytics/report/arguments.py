"""What the command lines (`analytics.report.cli`, `analytics.report.design_cli`) share:
the parser that explains a bad option in one sentence and exits 2, the types of their options, and
writing the answer (JSON on stdout, a failure as one line on stderr)."""

from __future__ import annotations

import argparse
import math
import os
import sys
from collections.abc import Callable
from typing import Any, NoReturn

EXIT_USAGE = 2
EXIT_INTERNAL = 1


def add_engine(parser: argparse.ArgumentParser, engines: tuple[str, ...]) -> None:
    """`--engine` and `--spark-master`: where the store's queries run."""
    parser.add_argument(
        "--engine",
        choices=engines,
        default=engines[0],
        help="where the aggregations over patients run: duckdb (embedded, the default) or "
        "spark (the same queries on Apache Spark; needs PySpark and Java)",
    )
    parser.add_argument(
        "--spark-master",
        metavar="URL",
        help="the Spark cluster (e.g. spark://host:7077); default: local mode on this "
        "machine's cores, or $DVA_SPARK_MASTER",
    )


def command(
    subparsers: Any, name: str, *, help: str, description: str, epilog: str | None = None
) -> argparse.ArgumentParser:
    """A subcommand (``summary``, ``validate``, ``design``, ``cache``) whose description
    and examples keep their own line breaks."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        name,
        help=help,
        description=description,
        epilog=epilog,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    return parser


class Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: {message}. Run with --help for the options.\n")


def fail(message: str, code: int = EXIT_USAGE) -> int:
    sys.stderr.write(" ".join(message.split()) + "\n")
    return code


def internal_error(prog: str, exc: Exception) -> int:
    """An engine fault in one line, never a traceback."""
    return fail(
        f"{prog}: internal error ({type(exc).__name__}: {exc}); please report it with the "
        "command you ran",
        EXIT_INTERNAL,
    )


def write(text: str) -> None:
    try:
        sys.stdout.write(text + "\n")
        sys.stdout.flush()
    except BrokenPipeError:  # the reader (e.g. `head`) stopped early: not an error of ours
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - silences the flush at exit


def number(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"{text} is not a finite number")
    return value


def probability(text: str) -> float:
    """A probability strictly between 0 and 1 (a goal, a threshold)."""
    value = number(text)
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError(f"{text} must lie strictly between 0 and 1")
    return value


def rate(text: str) -> float:
    """A proportion from 0 to 1, both included."""
    value = number(text)
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(f"{text} must lie between 0 and 1")
    return value


def positive(text: str) -> float:
    value = number(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"{text} must be positive")
    return value


def day(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of days") from None
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"{text} must be a positive number of days")
    return value


def whole_number(low: int, high: int | None = None) -> Callable[[str], int]:
    """A whole number from `low` (to `high` when given)."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if high is not None and not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{text} must lie between {low} and {high}")
        if value < low:
            raise argparse.ArgumentTypeError(f"{text} must be at least {low}")
        return value

    return parse


def prior(text: str) -> tuple[float, float]:
    try:
        a, b = (float(x) for x in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not of the form A,B") from None
    if not (a > 0 and b > 0):
        raise argparse.ArgumentTypeError("Beta prior parameters must be positive")
    return a, b
