"""Benchmarks: prints Markdown tables of medians measured in one run.

    .venv/bin/python bench/run.py                 # everything (sizes 1e4 to 1e7)
    .venv/bin/python bench/run.py --sizes 1e4 1e5 # fewer sizes
    .venv/bin/python bench/run.py --quick         # smoke run (used by the tests)

1. Kaplan-Meier with CI and numbers at risk on n patients with day-resolution
   times: this engine against lifelines' KaplanMeierFitter on a pandas frame, with
   the largest difference between the two.
2. The numbers behind a survival page after a filter change (AFS, LS and OS with
   CI and risk table, a two-group log-rank test and Cox model, the Bayesian
   endpoint), read from a Parquet registry; each size runs in its own process so
   its peak memory is its own.
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

FILTERS = (
    ("DIALFL=N",),
    ("AGE>=60", "SEX=M"),
    ("SITEID=S1,S2,S3,S4,S5,S6,S7,S8,S9,S10",),
    ("AGE<=80",),
    ("RUTHCAT=6",),
    ("AGEGR1=>70",),
)


def _timed(fn, repeats: int) -> tuple[list[float], object]:
    out = None
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - start)
    return times, out


def km_versus_lifelines(n: int, repeats: int) -> dict[str, object]:
    """Every engine gets the same n patients (whole days, as int64 arrays; lifelines as the
    two columns of a pandas frame) and returns survival, CI and at-risk counts at every
    distinct time. Ours also computes the landmarks, risk table, median and restricted
    mean (`result`); lifelines' timing is `fit` alone. Both orders of magnitude are timed
    in alternation, so a busy machine slows them alike."""
    import numpy as np
    import pandas as pd
    from lifelines import KaplanMeierFitter

    from analytics.estimators.km import KaplanMeier

    rng = np.random.default_rng(11)
    t = np.ceil(np.minimum(rng.exponential(400, n), rng.integers(30, 1100, n))).astype(np.int64)
    e = (rng.random(n) < 0.7).astype(np.int64)
    t_float = t.astype(np.float64)
    frame = pd.DataFrame({"T": t, "E": e})
    days = np.arange(0, 1100, 91.3125)

    def ours(times):
        def run():
            km = KaplanMeier(ci_type="log-log").fit(times, e)
            return km, km.result(landmarks=(30, 183, 365), risk_days=days)

        return run

    def theirs():
        return KaplanMeierFitter().fit(frame["T"], frame["E"])

    engines = {"int": ours(t), "float": ours(t_float), "lifelines": theirs}
    timings: dict[str, list[float]] = {k: [] for k in engines}
    outputs: dict[str, object] = {}
    for fn in engines.values():
        fn()  # warm-up: imports, first allocations
    for _ in range(repeats):
        for name, fn in engines.items():
            start = time.perf_counter()
            outputs[name] = fn()
            timings[name].append(time.perf_counter() - start)
    lf = outputs["lifelines"]
    out: dict[str, object] = {"n": n, "lifelines_ms": statistics.median(timings["lifelines"]) * 1e3}
    for name in ("int", "float"):
        km = outputs[name][0]
        s_lf = lf.survival_function_at_times(km.timeline_).to_numpy()
        ci = lf.confidence_interval_.loc[km.timeline_].to_numpy()
        defined = np.isfinite(km.lower_)
        diff_s = float(np.max(np.abs(s_lf - km.survival_)))
        diff_ci = float(
            max(
                np.max(np.abs(ci[defined, 0] - km.lower_[defined])),
                np.max(np.abs(ci[defined, 1] - km.upper_[defined])),
            )
        )
        table = lf.event_table
        at_risk = table.loc[km.timeline_, "at_risk"].to_numpy()
        diff_risk = float(np.max(np.abs(at_risk - km.at_risk_)))
        if max(diff_s, diff_ci, diff_risk) > 1e-9:
            raise SystemExit(f"engine ({name} times) differs from lifelines by more than 1e-9")
        out[name] = {
            "ms": statistics.median(timings[name]) * 1e3,
            "max_diff_survival": diff_s,
            "max_diff_ci": diff_ci,
            "max_diff_at_risk": diff_risk,
        }
    return out


def page_numbers(n: int, repeats: int, workdir: Path) -> dict[str, object]:
    """Run in a child process: build (or reuse) the registry, then time summaries."""
    child = subprocess.run(
        [
            sys.executable,
            __file__,
            "--child-page",
            str(n),
            "--repeats",
            str(repeats),
            "--workdir",
            str(workdir),
        ],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    if child.returncode != 0:
        raise SystemExit(f"benchmark child for n={n} failed:\n{child.stderr}")
    return json.loads(child.stdout.strip().splitlines()[-1])


def _child_page(n: int, repeats: int, workdir: Path) -> None:
    src = workdir / f"registry-{n}"
    # an empty database cache: the build below is a cold one, also when the workdir
    # (and its generated registries) is reused
    cache = Path(tempfile.mkdtemp(prefix="cache-", dir=workdir))
    os.environ["DVA_CACHE_DIR"] = str(cache)
    if not (src / "adtte.parquet").exists():
        # generated in its own process: its arrays must not count in the peak below
        subprocess.run(
            [
                sys.executable,
                "-c",
                "import sys; from pathlib import Path; "
                "from bench.registry import make_registry; "
                "make_registry(int(sys.argv[1]), Path(sys.argv[2]))",
                str(n),
                str(src),
            ],
            check=True,
            env=os.environ,
        )
    # build in a grandchild so this process's peak memory is that of the queries alone
    build = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys,time; from pathlib import Path; "
            "from analytics.store import Store; t=time.perf_counter(); "
            "Store.open(Path(sys.argv[1])); print(time.perf_counter()-t)",
            str(src),
        ],
        capture_output=True,
        text=True,
        check=True,
        env=os.environ,
    )
    build_s = float(build.stdout.strip().splitlines()[-1])

    from analytics.model.filters import FilterState
    from analytics.report.summary import summarize
    from analytics.store import Store

    store = Store.open(src)
    filters = [FilterState.parse(f) for f in FILTERS]

    def one(i: int):
        return summarize(
            store,
            filters[i % len(filters)],
            endpoints=("AFS", "LS", "OS"),
            landmarks=(183, 365),
            by="DIABFL",
            reference="N",
            bayes_endpoint="AFS",
            with_quality=False,
            compare=("AFS",),
        )

    one(0)  # warm-up
    times = []
    for i in range(repeats):
        start = time.perf_counter()
        s = one(i + 1)
        times.append(time.perf_counter() - start)
        if s.endpoints["AFS"].n != s.n or s.bayes is None or not s.comparison:
            raise SystemExit(f"incomplete summary for n={n}: the benchmark would measure less")
    peak = peak_mb()
    store.close()
    shutil.rmtree(cache)
    print(
        json.dumps(
            {
                "n": n,
                "median_ms": statistics.median(times) * 1e3,
                "p90_ms": sorted(times)[int(0.9 * (len(times) - 1))] * 1e3,
                "peak_mb": peak,
                "build_s": build_s,
            }
        )
    )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--sizes", nargs="*", default=["1e4", "1e5", "1e6", "1e7"])
    ap.add_argument("--km-n", default="1e6")
    ap.add_argument("--repeats", type=int, default=15)
    ap.add_argument("--quick", action="store_true", help="small sizes, few repeats")
    ap.add_argument("--workdir", type=Path, default=None)
    ap.add_argument("--child-page", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child_page:
        _child_page(args.child_page, args.repeats, args.workdir)
        return 0
    if args.quick:
        args.sizes, args.km_n, args.repeats = ["1e4"], "1e4", 3
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="dva-bench-"))
    sizes = [int(float(s)) for s in args.sizes]

    km = km_versus_lifelines(int(float(args.km_n)), args.repeats)
    print(
        f"## Kaplan-Meier with CI and numbers at risk, {size_label(km['n'])} patients "
        f"(median of {args.repeats} runs)\n"
    )
    print(
        "Same patients, whole-day times. lifelines: KaplanMeierFitter.fit on a pandas frame. "
        "This engine: fit and result (landmarks, risk table, median, restricted mean) on "
        "numpy arrays. Differences are against lifelines, every distinct time; the run stops "
        "if one exceeds 1e-9.\n"
    )
    print("| engine | median ms | ratio | max difference (survival / CI / at risk) |")
    print("|---|---:|---:|---|")
    lf_ms = km["lifelines_ms"]
    print(f"| lifelines KaplanMeierFitter (pandas, int64 days) | {lf_ms:.1f} | 1.0 | |")
    for name, label in (("int", "int64 days"), ("float", "float64 days")):
        r = km[name]
        print(
            f"| this engine ({label}) | {r['ms']:.1f} | {km['lifelines_ms'] / r['ms']:.1f}x | "
            f"{r['max_diff_survival']:.1e} / {r['max_diff_ci']:.1e} / "
            f"{r['max_diff_at_risk']:.0f} |"
        )

    print(
        f"\n## Survival page after a filter change, Parquet registry (median of {args.repeats} "
        "runs, rotating filters)\n"
    )
    print(
        "AFS, LS, OS with CI and risk table at days 183 and 365, log-rank and Cox by diabetes, "
        "Bayesian endpoint (piecewise-exponential imputation, 2000 draws of the hazards).\n"
    )
    print("| patients | median ms | p90 ms | peak memory MB | database build s |")
    print("|---:|---:|---:|---:|---:|")
    for n in sizes:
        r = page_numbers(n, args.repeats, workdir)
        print(
            f"| {size_label(n)} | {r['median_ms']:.1f} | {r['p90_ms']:.1f} | {r['peak_mb']:.0f} | "
            f"{r['build_s']:.1f} |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
