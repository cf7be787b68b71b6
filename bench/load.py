"""Benchmark: loading (reading, checking, building the database of) a registry extract.

    .venv/bin/python bench/load.py                  # 1e6 patients, CSV and Parquet
    .venv/bin/python bench/load.py --n 1e5 --repeats 5
    .venv/bin/python bench/load.py --quick          # smoke run: 1e4 patients

The registry comes from bench/registry.py (`make_registry`: adsl and adtte as Parquet,
three endpoints, so 1e6 patients are 3e6 time-to-event rows); its CSV twin is written
from it. Each load runs in a child process of its own with an empty database cache,
so that its time is a cold build (`Store.open`) and its peak memory (VmHWM of the
child) is that load's alone. Prints a Markdown table of medians.

Targets for 1e6 patients on a 2-core machine: CSV under 30 s, Parquet under 5 s, peak
memory under 1 GB.
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

from bench.memory import peak_mb  # noqa: E402
from bench.sizes import size_label  # noqa: E402

TARGET_S = {"csv": 30.0, "parquet": 5.0}
TARGET_MB = 1024.0


def make_extracts(n: int, workdir: Path) -> dict[str, Path]:
    """The Parquet registry and its CSV twin (built once per size and kept)."""
    import duckdb

    from bench.registry import make_registry

    parquet = workdir / f"registry-{n}-parquet"
    if not (parquet / "adtte.parquet").exists():
        make_registry(n, parquet)
    csv = workdir / f"registry-{n}-csv"
    if not (csv / "adtte.csv").exists():
        csv.mkdir(parents=True, exist_ok=True)
        with duckdb.connect() as con:
            for name in ("adsl", "adtte"):
                con.execute(
                    f"COPY (SELECT * FROM read_parquet(?)) TO '{csv / name}.csv.tmp' "
                    "(HEADER, DELIMITER ',')",
                    [str(parquet / f"{name}.parquet")],
                )
                (csv / f"{name}.csv.tmp").rename(csv / f"{name}.csv")
    return {"csv": csv, "parquet": parquet}


def _child(src: Path) -> None:
    from analytics.store import Store

    start, cpu = time.perf_counter(), time.process_time()
    store = Store.open(src)
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    q = store.quality()
    store.close()
    print(json.dumps({"seconds": seconds, "cpu": cpu, "peak_mb": peak_mb(),
                      "rows_read": q.rows_read,
                      "rows_rejected": q.rows_rejected}))


def one_load(src: Path, workdir: Path) -> dict[str, float]:
    cache = Path(tempfile.mkdtemp(prefix="cache-", dir=workdir))
    env = {**os.environ, "DVA_CACHE_DIR": str(cache), "PYTHONPATH": str(ROOT)}
    child = subprocess.run([sys.executable, __file__, "--child", str(src)], env=env,
                           capture_output=True, text=True, check=False)
    for path in sorted(cache.iterdir(), reverse=True):
        path.unlink()
    cache.rmdir()
    if child.returncode != 0:
        raise SystemExit(f"load of {src} failed:\n{child.stderr}")
    result: dict[str, float] = json.loads(child.stdout.strip().splitlines()[-1])
    return result


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", default="1e6", help="patients (default 1e6)")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--quick", action="store_true", help="1e4 patients, 1 run")
    ap.add_argument("--workdir", type=Path, default=None,
                    help="where the extracts are generated and kept (default: a new temp dir)")
    ap.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        _child(args.child)
        return 0
    if args.quick:
        args.n, args.repeats = "1e4", 1
    n = int(float(args.n))
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="dva-bench-load-"))
    workdir.mkdir(parents=True, exist_ok=True)
    extracts = make_extracts(n, workdir)
    print(f"## Loading a registry extract of {size_label(n)} patients ({3 * n:,} time-to-event "
          f"rows), cold build, median of {args.repeats}\n")
    # CPU seconds (all threads) say how much work a load is when other processes share
    # the machine and stretch the wall-clock time
    print("| format | load s (median) | fastest s | CPU s (median) | peak memory MB | target |")
    print("|---|---:|---:|---:|---:|---|")
    for fmt, src in extracts.items():
        runs = [one_load(src, workdir) for _ in range(args.repeats)]
        secs = [r["seconds"] for r in runs]
        peak = max(r["peak_mb"] for r in runs)
        target = f"< {TARGET_S[fmt]:.0f} s, < {TARGET_MB:.0f} MB"
        cpu = statistics.median(r["cpu"] for r in runs)
        print(f"| {fmt} | {statistics.median(secs):.1f} | {min(secs):.1f} | {cpu:.1f} | "
              f"{peak:.0f} | {target} |")
        assert all(r["rows_rejected"] == 0 for r in runs), "the registry must load cleanly"
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
