"""Benchmark: the first summary of a registry extract (cold open) against the plain
approach and against one scan of the files.

    .venv/bin/python bench/cold_open.py                  # 1e6 and 1e7 patients
    .venv/bin/python bench/cold_open.py --sizes 1e6 --repeats 3
    .venv/bin/python bench/cold_open.py --quick          # smoke run: 1e4 patients

The registry comes from bench/registry.py (`make_registry`: adsl and adtte as Parquet,
three endpoints, so 1e7 patients are 3e7 time-to-event rows), generated in a process
of its own. Each measurement runs in a fresh child process, timed from here (start of
the interpreter to its exit, as a user waits for it); its peak memory is the child's
own high-water mark (VmHWM, bench/memory.py):

- cold: `python -m analytics summary --data DIR --filter DIALFL=N` with an empty
  database cache: the store is built (every check of the quality report made), then
  the summary computed;
- warm: the same command again, the database found in the cache;
- plain: what the summary computes by default, done the plain way: pandas reads both
  files whole, a boolean mask keeps DIALFL N (and their time-to-event rows), and for
  each endpoint lifelines' KaplanMeierFitter gives the curve, the estimate with CI
  and the number at risk at day 183 and the median with CI; the Bayesian endpoint as
  a Beta posterior of AFS at day 183 over the patients whose status is known (the
  summary imputes the others: the plain approach does less). No data check at all;
- scan: one DuckDB query reading every column of both files (count and sums): the
  physical limit of anything that reads the data.

Prints a Markdown table (medians) with the ratios cold / plain and cold / scan.
Targets: cold at most 0.3 x plain, every peak under 1 GB, warm under 2 s at 1e7.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.memory import peak_mb  # noqa: E402
from bench.sizes import size_label  # noqa: E402

FILTER = "DIALFL=N"
LANDMARK = 183.0
GOAL = 0.54  # the summary's default performance goal for the Bayesian endpoint
TARGET_RATIO = 0.3
TARGET_MB = 1024.0
TARGET_WARM_S = 2.0
KINDS = ("cold", "warm", "plain", "scan")


# --- the children ------------------------------------------------------------------


def _report_peak() -> None:
    out = os.environ.get("BENCH_PEAK_FILE")
    if out:
        Path(out).write_text(json.dumps({"peak_mb": peak_mb()}))


def _child_cli(src: Path) -> None:
    """`python -m analytics summary ...` in this process, so that its peak memory can
    be read at exit (the command line itself is run unchanged)."""
    import atexit
    import runpy

    atexit.register(_report_peak)
    sys.argv = ["analytics", "summary", "--data", str(src), "--filter", FILTER]
    runpy.run_module("analytics", run_name="__main__", alter_sys=True)


def _child_plain(src: Path) -> None:
    import numpy as np
    import pandas as pd
    from lifelines import KaplanMeierFitter
    from lifelines.utils import median_survival_times
    from scipy import stats

    adsl = pd.read_parquet(src / "adsl.parquet")
    adtte = pd.read_parquet(src / "adtte.parquet")
    column, value = FILTER.split("=")
    keep = adsl.loc[adsl[column] == value, "USUBJID"]
    rows = adtte[adtte["USUBJID"].isin(keep)]
    out: dict[str, object] = {"n": len(keep)}
    for code, part in rows.groupby("PARAMCD", sort=True):
        time_, event = part["AVAL"], part["CNSR"] == 0
        km = KaplanMeierFitter().fit(time_, event)
        at = km.survival_function_at_times([LANDMARK]).iloc[0]
        ci = km.confidence_interval_.loc[:LANDMARK].iloc[-1]
        median = median_survival_times(km.confidence_interval_)
        at_risk = int((time_ >= LANDMARK).sum())
        out[str(code)] = {
            "n": len(part),
            "events": int(event.sum()),
            "at": float(at),
            "ci": [float(v) for v in ci],
            "at_risk": at_risk,
            "median": float(km.median_survival_time_),
            "median_ci": [float(v) for v in np.ravel(median.to_numpy())],
        }
        if code == "AFS":
            failed = int((event & (time_ <= LANDMARK)).sum())
            known = failed + int((time_ > LANDMARK).sum())
            posterior = stats.beta(1 + known - failed, 1 + failed)
            out["bayes"] = {"known": known, "p_above_goal": float(posterior.sf(GOAL))}
    _report_peak()
    print(json.dumps(out))


def _child_scan(src: Path) -> None:
    import duckdb

    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    out = {}
    for name in ("adsl", "adtte"):
        path = str(src / f"{name}.parquet")
        described = con.execute("DESCRIBE SELECT * FROM read_parquet(?)", [path]).fetchall()
        parts = ["count(*)"]
        for col, kind in ((str(r[0]), str(r[1])) for r in described):
            ident = '"' + col.replace('"', '""') + '"'
            parts.append(f"sum(length({ident}))" if kind == "VARCHAR" else f"sum({ident})")
        out[name] = [
            str(v)
            for v in con.execute(
                f"SELECT {', '.join(parts)} FROM read_parquet(?)", [path]
            ).fetchone()
            or ()
        ]
    _report_peak()
    print(json.dumps(out))


# --- the parent: nothing heavy is imported here, so no child inherits a peak ------------


def make_extract(n: int, workdir: Path) -> Path:
    src = workdir / f"registry-{n}"
    if not (src / "adtte.parquet").exists():
        # in a process of its own: its arrays stay out of every measured peak
        subprocess.run(
            [
                sys.executable,
                "-c",
                "import sys; from pathlib import Path; from bench.registry import make_registry; "
                "make_registry(int(sys.argv[1]), Path(sys.argv[2]))",
                str(n),
                str(src),
            ],
            check=True,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )
    return src


def _measure(mode: str, src: Path, cache: Path, workdir: Path) -> dict[str, float]:
    peak_file = Path(tempfile.mkstemp(prefix="peak-", suffix=".json", dir=workdir)[1])
    env = {
        **os.environ,
        "DVA_CACHE_DIR": str(cache),
        "PYTHONPATH": str(ROOT),
        "BENCH_PEAK_FILE": str(peak_file),
    }
    start = time.perf_counter()
    child = subprocess.run(
        [sys.executable, __file__, f"--child-{mode}", str(src)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    seconds = time.perf_counter() - start
    if child.returncode != 0:
        raise SystemExit(f"{mode} run on {src} failed:\n{child.stderr}")
    peak = json.loads(peak_file.read_text())["peak_mb"]
    peak_file.unlink()
    return {"seconds": seconds, "peak_mb": peak, "stdout": child.stdout}


def one_round(src: Path, workdir: Path) -> dict[str, dict[str, float]]:
    """Cold, warm, plain and scan once each, the cold one with an empty cache."""
    cache = Path(tempfile.mkdtemp(prefix="cache-", dir=workdir))
    try:
        cold = _measure("cli", src, cache, workdir)
        warm = _measure("cli", src, cache, workdir)
    finally:
        shutil.rmtree(cache, ignore_errors=True)
    plain = _measure("plain", src, cache, workdir)
    scan = _measure("scan", src, cache, workdir)
    # the same cohort both ways: the comparison is of the same work
    ours = json.loads(cold["stdout"])
    theirs = json.loads(plain["stdout"])
    if ours["cohort"]["n"] != theirs["n"] or json.loads(warm["stdout"]) != ours:
        raise SystemExit("the cold, warm and plain runs disagree on the cohort")
    for code, km in ours["endpoints"].items():
        if km["n"] != theirs[code]["n"] or km["events"] != theirs[code]["events"]:
            raise SystemExit(f"{code}: this project and lifelines disagree on n or events")
        if abs(km["landmarks"][0]["estimate"] - theirs[code]["at"]) > 1e-9:
            raise SystemExit(f"{code}: the estimates at day {LANDMARK:g} differ")
    return {"cold": cold, "warm": warm, "plain": plain, "scan": scan}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--sizes", nargs="*", default=["1e6", "1e7"])
    ap.add_argument("--repeats", type=int, default=1)
    ap.add_argument("--quick", action="store_true", help="1e4 patients, 1 run")
    ap.add_argument(
        "--workdir",
        type=Path,
        default=None,
        help="where the registries are generated and kept (default: a new temp dir)",
    )
    for mode in ("cli", "plain", "scan"):
        ap.add_argument(f"--child-{mode}", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    for mode, run in (("cli", _child_cli), ("plain", _child_plain), ("scan", _child_scan)):
        src = getattr(args, f"child_{mode}")
        if src:
            run(src)
            return 0
    if args.quick:
        args.sizes, args.repeats = ["1e4"], 1
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="dva-bench-cold-"))
    workdir.mkdir(parents=True, exist_ok=True)
    print(f"## First summary of a Parquet registry (--filter {FILTER}), median of {args.repeats}\n")
    print(
        "Seconds from the start of each process to its end; MB its peak resident memory. "
        "cold: `python -m analytics summary` with an empty database cache (build with "
        "every data check, then the summary); warm: the same with the database cached; "
        "plain: pandas read_parquet, a boolean mask, lifelines; scan: one DuckDB query "
        "reading every column of both files.\n"
    )
    print(
        "| patients | cold s | cold MB | warm s | warm MB | plain s | plain MB | scan s | "
        "scan MB | cold / plain | cold / scan |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for size in args.sizes:
        n = int(float(size))
        src = make_extract(n, workdir)
        rounds = [one_round(src, workdir) for _ in range(args.repeats)]
        sec = {k: statistics.median(r[k]["seconds"] for r in rounds) for k in KINDS}
        peak = {k: max(r[k]["peak_mb"] for r in rounds) for k in KINDS}
        cells = " | ".join(f"{sec[k]:.1f} | {peak[k]:.0f}" for k in KINDS)
        print(
            f"| {size_label(n)} | {cells} | {sec['cold'] / sec['plain']:.2f} | "
            f"{sec['cold'] / sec['scan']:.1f} |",
            flush=True,
        )
    print(
        f"\nTargets: cold / plain at most {TARGET_RATIO}, every peak under "
        f"{TARGET_MB:.0f} MB, warm under {TARGET_WARM_S:.0f} s at 1e7."
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
