"""Server-side rerun time of every page after a filter change, measured with AppTest.

    .venv/bin/python bench/app_rerun.py                    # demo, then a 1e6 registry
    .venv/bin/python bench/app_rerun.py --sizes            # the demo only
    .venv/bin/python bench/app_rerun.py --sizes 1e5 1e6 --repeats 15 --workdir /tmp/dva

For each data set and page: one AppTest session opens the page, then the dialysis
filter alternates between Y and N for `--repeats` reruns. Reported per page:

- first run: the page's first run in a fresh process (imports, opening the data,
  first computations);
- warm: median and 90th percentile of the alternating reruns, the numbers for both
  filter values being in Streamlit's caches after the first two (what a user sees when
  going back and forth);
- cold: median of `--cold-repeats` reruns with every `st.cache_data` cleared first
  (what the first visit to a new filter costs).

The registry is made by `bench/registry.py` (Parquet, adsl and adtte only) and served
through DVA_DATA_DIR, which app.py honours. Each data set runs in its own process.
Times include AppTest's own overhead (about 20 ms per rerun).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.sizes import size_label  # noqa: E402

PAGES = (
    "pages/overview.py",
    "pages/afs.py",
    "pages/primary_endpoint.py",
    "pages/patency.py",
    "pages/subgroups.py",
    "pages/wounds.py",
    "pages/patients.py",
    "pages/sites.py",
    "pages/audit.py",
    "pages/data.py",
)
VALUES = (["Y"], ["N"])
TARGET_MS = 250.0


def _child(repeats: int, cold_repeats: int, timeout: float) -> None:
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    app = str(ROOT / "app.py")
    for page in PAGES:
        if not (ROOT / page).exists():
            continue
        at = AppTest.from_file(app, default_timeout=timeout)
        at.switch_page(page)
        start = time.perf_counter()
        at.run()
        first = time.perf_counter() - start
        failed = bool(at.exception)
        warm = []
        for i in range(repeats):
            at.multiselect(key="DIALFL").set_value(VALUES[i % 2])
            start = time.perf_counter()
            at.run()
            warm.append(time.perf_counter() - start)
            failed = failed or bool(at.exception)
        cold = []
        for i in range(cold_repeats):
            at.multiselect(key="DIALFL").set_value(VALUES[i % 2])
            st.cache_data.clear()
            start = time.perf_counter()
            at.run()
            cold.append(time.perf_counter() - start)
            failed = failed or bool(at.exception)
        errors = [e.value for e in at.error]
        ordered = sorted(warm)
        print(
            json.dumps(
                {
                    "page": page,
                    "first_s": first,
                    "warm_median_ms": statistics.median(warm) * 1e3 if warm else None,
                    "warm_p90_ms": ordered[int(0.9 * (len(ordered) - 1))] * 1e3 if warm else None,
                    "cold_median_ms": statistics.median(cold) * 1e3 if cold else None,
                    "exception": failed,
                    "errors": errors,
                }
            ),
            flush=True,
        )


def run_dataset(
    label: str, data_dir: Path | None, args: argparse.Namespace, cache: Path
) -> list[dict[str, object]]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "DVA_CACHE_DIR": str(cache)}
    env.pop("DVA_DATA_DIR", None)
    if data_dir is not None:
        env["DVA_DATA_DIR"] = str(data_dir)
    cmd = [
        sys.executable,
        __file__,
        "--child",
        "--repeats",
        str(args.repeats),
        "--cold-repeats",
        str(args.cold_repeats),
        "--timeout",
        str(args.timeout),
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
    rows = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
    if proc.returncode != 0:
        raise SystemExit(f"benchmark for {label} failed:\n{proc.stderr[-4000:]}")
    for row in rows:
        row["data"] = label
    return rows


def _ms(x: object) -> str:
    return "–" if x is None else f"{float(x):.0f}"  # type: ignore[arg-type]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--sizes", nargs="*", default=["1e6"], help="registry sizes after the demo")
    ap.add_argument("--repeats", type=int, default=15)
    ap.add_argument("--cold-repeats", type=int, default=3)
    ap.add_argument("--timeout", type=float, default=900.0, help="seconds per AppTest run")
    ap.add_argument("--workdir", type=Path, default=None, help="registries and databases")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        _child(args.repeats, args.cold_repeats, args.timeout)
        return 0
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="dva-app-bench-"))
    cache = workdir / "cache"
    rows = run_dataset("demo (105)", None, args, cache)
    for size in (int(float(s)) for s in args.sizes):
        from bench.registry import make_registry

        src = workdir / f"registry-{size}"
        if not (src / "adtte.parquet").exists():
            make_registry(size, src)
        rows += run_dataset(f"registry {size_label(size)}", src, args, cache)

    print(
        f"## Server-side rerun after a filter change (AppTest; dialysis Y/N alternating, "
        f"{args.repeats} reruns; cold: {args.cold_repeats} reruns with caches cleared)\n"
    )
    print("| data | page | first run s | warm median ms | warm p90 ms | cold median ms | ok |")
    print("|---|---|---:|---:|---:|---:|---|")
    for r in rows:
        ok = "yes" if not r["exception"] and not r["errors"] else f"no: {r['errors'][:1]}"
        print(
            f"| {r['data']} | {Path(str(r['page'])).stem} | {float(r['first_s']):.1f} | "  # type: ignore[arg-type]
            f"{_ms(r['warm_median_ms'])} | {_ms(r['warm_p90_ms'])} | "
            f"{_ms(r['cold_median_ms'])} | {ok} |"
        )
    demo = [r for r in rows if str(r["data"]).startswith("demo")]
    slow = [
        f"{Path(str(r['page'])).stem} ({float(r['warm_median_ms']):.0f} ms)"  # type: ignore[arg-type]
        for r in demo
        if float(r["warm_median_ms"]) >= TARGET_MS  # type: ignore[arg-type]
    ]
    print(
        f"\nTarget on the demo, warm median < {TARGET_MS:.0f} ms: "
        + (f"not met by {', '.join(slow)}." if slow else "met on every page.")
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
