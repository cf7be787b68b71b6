"""Command line: ``python -m analytics summary [options]`` prints one JSON document;
``python -m analytics validate --data PATH [--mapping FILE]`` prints the data-quality
report of an extract; ``python -m analytics cache list|prune`` shows and trims the cache
of built databases; ``python -m analytics pack --out FILE`` writes a committee pack.

Bad arguments or unusable data end with exit code 2 and one paragraph on
stderr naming the file, column and row at fault; never a traceback.
"""

from __future__ import annotations

import argparse
import json
import logging
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path

from analytics.estimators.bayes import DEFAULT_IMPUTATIONS, DEFAULT_SEED, BayesianEndpoint
from analytics.estimators.km import CI_TYPES
from analytics.extract import DataError
from analytics.model.filters import FilterError, FilterState
from analytics.model.view import View
from analytics.report import arguments, cache_cli, design_cli, pack_args
from analytics.report.protect import Protection
from analytics.report.protected import summary_doc
from analytics.report.summary import summarize, summary_json
from analytics.store import DEMO_DIR, ENGINES, EngineError, Store
from analytics.store.validation import validate_extract

DESCRIPTION = """\
Print the headline survival numbers of a trial or registry extract as one JSON
document: Kaplan-Meier estimates per endpoint (n, events, median with CI, landmark
estimates with CI and numbers at risk), optionally per group with a log-rank test
and Cox hazard ratios, the Bayesian primary endpoint, and a data-quality account
(rows read = rows used + rows rejected, each problem with file, row and column).
"""

EPILOG = """\
filters (repeatable, on subject-level columns, combined with AND):
  COL=V1,V2   COL is one of the values      e.g. DIALFL=N, RACE=WHITE,ASIAN
  COL!=V      COL is none of the values     e.g. SEX!=F
  COL>=X      COL at least X (numbers)      e.g. AGE>=70
  COL<=X      COL at most X (numbers)       e.g. BMI<=30

examples:
  python -m analytics summary
  python -m analytics summary --filter DIALFL=N --landmark 183 --landmark 365
  python -m analytics summary --data path/to/adam --by TRT01A --endpoint TTDE --goal 0.5
  python -m analytics summary --by SEX --reference F --ci log

The output schema is documented in the README (section "Command line").
"""

VALIDATE_DESCRIPTION = """\
Check an extract and print its data-quality report as one JSON document: for every
file the rows read, used and rejected (read = used + rejected), and every problem
with file, row (1 = first row under the header), column, value, severity and a
plain explanation. An error rejects its row; a warning keeps it as read.

Exit code 0 when the extract can be analysed (warnings allowed), 2 when it cannot
(the report is still printed, and one paragraph on stderr says why).
"""

VALIDATE_EPILOG = """\
examples:
  python -m analytics validate --data path/to/extract
  python -m analytics validate --data path/to/registry --mapping registry-mapping.toml

Formats, the wide variant, registries, mapping files and every check are described
in data/README.md.
"""


def build_parser() -> argparse.ArgumentParser:
    parser = arguments.Parser(
        prog="python -m analytics",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", required=True, parser_class=arguments.Parser)
    s = arguments.command(
        sub, "summary", help="print the summary JSON", description=DESCRIPTION, epilog=EPILOG
    )
    s.add_argument(
        "--data",
        type=Path,
        default=DEMO_DIR,
        metavar="PATH",
        help="folder holding the extract: adsl and adtte (required), visits and adae "
        "(optional) as .csv, .parquet, .xpt or .xlsx, or one wide file; or a registry "
        "folder of such folders; or one file: a wide file or a workbook with a sheet per "
        "table (default: the bundled synthetic demo)",
    )
    s.add_argument("--mapping", type=Path, metavar="FILE", help=MAPPING_HELP)
    arguments.add_engine(s, ENGINES)
    s.add_argument(
        "--filter",
        action="append",
        default=[],
        metavar="EXPR",
        help="subject filter, repeatable (see below)",
    )
    s.add_argument("--by", metavar="COL", help="compare groups of this subject column")
    s.add_argument(
        "--view",
        metavar="QUERY",
        help="the query of a dashboard URL, e.g. 'DIALFL=N&compare=SEX&landmark=365': its "
        "filters, comparison, landmark, CI type and goal (the options above add to it "
        "and take precedence)",
    )
    s.add_argument(
        "--reference",
        metavar="LEVEL",
        help="reference level for hazard ratios (default: first level in sort order)",
    )
    s.add_argument(
        "--landmark",
        action="append",
        type=arguments.day,
        metavar="DAYS",
        help="landmark day, repeatable (default 183); the first is the Bayesian one",
    )
    s.add_argument(
        "--ci",
        choices=CI_TYPES,
        help="confidence interval type for Kaplan-Meier (default log-log, as SAS; "
        "R's default is log)",
    )
    s.add_argument(
        "--endpoint",
        metavar="PARAMCD",
        help="endpoint of the Bayesian analysis (default AFS; without AFS in the data "
        "and no --endpoint, the output's bayes is null)",
    )
    s.add_argument(
        "--goal",
        type=arguments.probability,
        metavar="P",
        help="performance goal for the event-free rate (default 0.54)",
    )
    s.add_argument(
        "--threshold",
        type=arguments.probability,
        default=0.977,
        metavar="P",
        help="posterior probability needed to declare success (default 0.977)",
    )
    s.add_argument(
        "--prior",
        type=arguments.prior,
        default=(1.0, 1.0),
        metavar="A,B",
        help="Beta prior (default 1,1: uniform)",
    )
    s.add_argument(
        "--no-imputation",
        action="store_true",
        help="complete cases only (default: multiple imputation of missing outcomes)",
    )
    s.add_argument(
        "--imputation",
        choices=("pwe", "km"),
        default="pwe",
        help="model imputing outcomes censored before the landmark: pwe, a "
        "piecewise-exponential model with uncertain hazards (Goldilocks design, default), "
        "or km, the Kaplan-Meier curve (exact, no simulation)",
    )
    s.add_argument(
        "--imputations",
        type=arguments.whole_number(1),
        default=DEFAULT_IMPUTATIONS,
        metavar="N",
        help=f"posterior draws of the hazards of the pwe model (default {DEFAULT_IMPUTATIONS})",
    )
    s.add_argument(
        "--seed",
        type=int,
        default=DEFAULT_SEED,
        metavar="S",
        help=f"random seed of the hazard draws (default {DEFAULT_SEED}): the same seed "
        "gives the same numbers",
    )
    s.add_argument(
        "--endpoints",
        metavar="P1,P2",
        help="endpoints to report (default: every PARAMCD in the data)",
    )
    v = arguments.command(
        sub,
        "validate",
        help="check an extract and print its data-quality report",
        description=VALIDATE_DESCRIPTION,
        epilog=VALIDATE_EPILOG,
    )
    v.add_argument(
        "--data",
        type=Path,
        required=True,
        metavar="PATH",
        help="folder holding the extract (or a registry folder of extract folders), or "
        "one file: a wide file or a workbook with a sheet per table",
    )
    v.add_argument("--mapping", type=Path, metavar="FILE", help=MAPPING_HELP)
    design_cli.add_parser(sub)
    cache_cli.add_parser(sub)
    pack_args.add_parser(sub)
    return parser


MAPPING_HELP = (
    "mapping file (.toml or .yaml) renaming columns and recoding values; default: "
    "mapping.toml or mapping.yaml inside the extract folder, if any"
)


# --by compares the groups of a categorical column; more levels than this are refused
MAX_BY_LEVELS = 50
CONTINUOUS_TYPES = ("DOUBLE", "FLOAT", "REAL", "DECIMAL", "DATE", "TIMESTAMP")


def _check_by(store: Store, filters: FilterState, by: str) -> None:
    """A `--by` column must name categories: a measurement (BMI, a date) or a column with
    a value per patient would give one group per value and meaningless tests."""
    types = store.subject_columns()
    if by not in types:
        raise KeyError(f"--by {by}: no such subject column; available: {', '.join(sorted(types))}")
    kind = types[by].upper()
    if kind.startswith(CONTINUOUS_TYPES):
        raise ValueError(
            f"--by {by}: {by} is a continuous column ({kind.lower()}); --by compares the "
            f"groups of a categorical column. Compare ranges with filters instead "
            f"(e.g. --filter '{by}<=X' and then --filter '{by}>=X'), or add a grouped "
            "column to the extract through a mapping file."
        )
    levels = len(store.group_sizes(filters, by))
    if levels > MAX_BY_LEVELS:
        raise ValueError(
            f"--by {by}: {levels} distinct values among the patients selected; --by "
            f"compares the groups of a categorical column (at most {MAX_BY_LEVELS})."
        )


def main(
    argv: Sequence[str] | None = None, pack: Callable[[argparse.Namespace], int] | None = None
) -> int:
    """Run one command; `pack` writes a committee pack (given by the entry point, which
    may import the figure-drawing packages the engine does not)."""
    logging.disable(logging.WARNING)
    # a library's warning would print source paths and code lines on the user's terminal;
    # the test suite turns every warning into an error, so none goes unseen there
    warnings.simplefilter("ignore")
    args = build_parser().parse_args(argv)
    if args.command == "design":
        return design_cli.run(args)
    if args.command == "cache":
        return cache_cli.run(args)
    if args.command == "pack":
        if pack is None:
            return arguments.fail("python -m analytics pack: run it as python -m analytics")
        return pack(args)
    if args.command == "validate":
        return _validate(args.data, args.mapping)
    try:
        view = View.from_text(args.view or "")
        if view.problems:
            raise FilterError("--view: " + "; ".join(view.problems))
        filters = FilterState.parse(args.filter).merged(view.filters)
        store = Store.open(args.data, args.mapping, engine=args.engine, master=args.spark_master)
    except Exception as exc:
        return _failure(exc)
    try:
        return _summary(store, args, view, filters)
    finally:
        # a Spark store's tables are files of their own, removed here
        store.close()


def _summary(store: Store, args: argparse.Namespace, view: View, filters: FilterState) -> int:
    try:
        by = args.by.upper() if args.by else view.compare
        if by is not None:
            _check_by(store, filters, by)
        bayes_endpoint = args.endpoint
        if bayes_endpoint is None and "AFS" in store.endpoint_labels():
            bayes_endpoint = "AFS"
        summary = summarize(
            store,
            filters,
            endpoints=args.endpoints.split(",") if args.endpoints else None,
            landmarks=args.landmark or (view.landmark,),
            ci_type=args.ci or view.ci_type,
            by=by,
            reference=args.reference,
            bayes_endpoint=bayes_endpoint,
            bayes_model=BayesianEndpoint(
                day=(args.landmark or (view.landmark,))[0],
                goal=view.goal if args.goal is None else args.goal,
                threshold=args.threshold,
                prior=args.prior,
                impute=not args.no_imputation,
                imputation=args.imputation,
                n_imputations=args.imputations,
                seed=args.seed,
            ),
        )
    except Exception as exc:
        return _failure(exc)
    doc = summary_doc(Protection(store.disclosure), summary_json(summary))
    arguments.write(json.dumps(doc, indent=2, allow_nan=False))
    return 0


def _failure(exc: Exception) -> int:
    """The message and exit code of a summary that could not be made: 2 for what the user
    can mend (data, filters, options, an engine that cannot run here), 1 for a fault of
    ours; one paragraph, never a traceback."""
    if isinstance(exc, DataError | FilterError | EngineError | ValueError):
        return arguments.fail(f"python -m analytics: {exc}")
    if isinstance(exc, KeyError):
        return arguments.fail(f"python -m analytics: {exc.args[0] if exc.args else exc}")
    return arguments.internal_error("python -m analytics", exc)


def _validate(data: Path, mapping: Path | None) -> int:
    try:
        report = validate_extract(data, mapping)
    except Exception as exc:  # an engine fault: say so in one line, never a traceback
        return arguments.internal_error("python -m analytics", exc)
    arguments.write(report.to_json())
    if report.usable:
        return 0
    return arguments.fail(
        f"python -m analytics: {data} cannot be analysed: {report.reason.rstrip('.')}. "
        f"The report on stdout lists {report.errors} error(s) and {report.warnings} "
        "warning(s), each with file, row and column."
    )
