"""Registry scale: this engine beside the plain pandas + lifelines approach, measured in the
same run, for N = 1e4 to 1e7 patients.

    .venv/bin/python bench/scale.py                        # 1e4, 1e5, 1e6, 1e7
    .venv/bin/python bench/scale.py --sizes 1e4 1e5        # fewer sizes
    .venv/bin/python bench/scale.py --quick                # smoke run (the tests use it)

The registry is `bench/registry.py`'s (adsl.parquet and adtte.parquet, three endpoints:
amputation-free survival, limb salvage, survival). Measured, each in a process of its own
so that its peak memory (VmHWM) is its own:

- cold open: `python -m analytics summary --data DIR --filter DIALFL=N` with an empty
  database cache (reading, checking and building, then the summary); plain: a script that
  reads both files with pandas, filters with a boolean mask and fits lifelines' Kaplan-Meier
  per endpoint, and the Bayesian endpoint on its arrays (the summary's default work);
- warm summary: the same command again (database cached); plain: the same script again
  (it has nothing to reuse);
- survival page after a filter change: the page's numbers (three endpoints with CI and
  risk table) for a filter not asked before; plain: the mask and lifelines on frames
  already in memory (a long-running plain app); then the same compared by diabetes
  (curves per group, log-rank and Cox for each endpoint);
- forest plot: amputation-free survival by every subgroup variable the registry has
  (Kaplan-Meier at 6 months per level, Cox hazard ratio per variable);
- Bayesian endpoint: the posterior of 6-month amputation-free survival (the same
  estimator; plain: fed per-patient arrays from the masked frame);
- page rerun: the survival page served by Streamlit (AppTest), rerun after a filter
  change with its caches cleared; plain: `bench/plain_page.py`, the same page written
  with pandas, lifelines and Plotly (frames read once per process, every number
  recomputed on a rerun);
- peak memory: the largest of the process's own peaks over the measures above.

Medians of `--repeats` runs with rotating filters (one run of each plain measure at
1e7, where lifelines' Cox alone takes minutes).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.memory import peak_mb  # noqa: E402
from bench.sizes import size_label  # noqa: E402

ENDPOINTS = ("AFS", "LS", "OS")
BY = "DIABFL"
LANDMARK = 183.0
# (filter arguments, the same filter as a pandas mask on adsl)
FILTERS: tuple[tuple[tuple[str, ...], Callable[..., object]], ...] = (
    (("DIALFL=N",), lambda d: d["DIALFL"] == "N"),
    (("AGE>=60", "SEX=M"), lambda d: (d["AGE"] >= 60) & (d["SEX"] == "M")),
    (("AGE<=80",), lambda d: d["AGE"] <= 80),
    (("RUTHCAT=6",), lambda d: d["RUTHCAT"] == 6),
    (("SEX=F",), lambda d: d["SEX"] == "F"),
    (("DIALFL=Y",), lambda d: d["DIALFL"] == "Y"),
)
MEASURES = (
    ("cold_s", "cold open (first summary)", "s"),
    ("warm_s", "warm summary (command line)", "s"),
    ("survival_ms", "survival page after a filter change", "ms"),
    ("compared_ms", "the same, compared by diabetes", "ms"),
    ("forest_ms", "forest plot", "ms"),
    ("bayes_ms", "Bayesian endpoint", "ms"),
    ("rerun_ms", "page rerun (Streamlit)", "ms"),
    ("peak_mb", "peak memory", "MB"),
)


def _median_of(fn: Callable[[int], object], repeats: int) -> float:
    """Median seconds of `fn(i)` over `repeats` runs, after one warm-up run unless there is
    only one (the plain approach at 1e7, where one run takes minutes)."""
    if repeats > 1:
        fn(repeats)
    times = []
    for i in range(repeats):
        start = time.perf_counter()
        fn(i)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _command(cmd: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall seconds and peak resident MB of one command (its own rusage, from wait4:
    this parent imports nothing heavy, so the child inherits no large peak)."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{' '.join(cmd[:4])}... failed: {proc.stderr.read().decode()[-2000:]}")
    proc.stderr.close()
    proc.returncode = 0
    return seconds, usage.ru_maxrss / 1024


def _child(
    kind: str, n: int, src: Path, repeats: int, env: dict[str, str], timeout: float | None = None
) -> dict:
    """One measuring process; with `timeout`, an empty dict when it does not finish."""
    try:
        done = subprocess.run(
            [sys.executable, __file__, "--child", kind, "--n", str(n), "--src", str(src),
             "--repeats", str(repeats)],
            capture_output=True, text=True, env=env, check=False, timeout=timeout,
        )  # fmt: skip
    except subprocess.TimeoutExpired:
        return {}
    if done.returncode != 0:
        raise SystemExit(f"{kind} child for n={n} failed:\n{done.stderr[-4000:]}")
    result: dict = json.loads(done.stdout.strip().splitlines()[-1])
    return result


# --- this engine --------------------------------------------------------------------------


def ours(src: Path, repeats: int) -> dict[str, float]:
    from analytics.analyses.subgroup_counts import subgroup_view
    from analytics.analyses.views import bayes_view, survival_view
    from analytics.estimators.bayes import BayesianEndpoint
    from analytics.model.filters import FilterState
    from analytics.store import Store

    store = Store.open(src)
    states = [FilterState.parse(list(f)) for f, _ in FILTERS]

    def state(i: int) -> FilterState:
        return states[i % len(states)]

    def survival(i: int) -> object:
        return survival_view(store, state(i), ENDPOINTS)

    def compared(i: int) -> object:
        return survival_view(store, state(i), ENDPOINTS, by=BY, reference="N")

    def forest(i: int) -> object:
        return subgroup_view(store, state(i), "AFS", landmark=LANDMARK)

    def bayes(i: int) -> object:
        return bayes_view(store, state(i), BayesianEndpoint(day=LANDMARK), endpoint="AFS")

    out = {
        "survival_ms": _median_of(survival, repeats) * 1e3,
        "compared_ms": _median_of(compared, repeats) * 1e3,
        "forest_ms": _median_of(forest, repeats) * 1e3,
        "bayes_ms": _median_of(bayes, repeats) * 1e3,
    }
    store.close()
    return {**out, "peak_mb": peak_mb()}


def page_rerun(repeats: int, plain: bool = False) -> dict[str, float]:
    """The survival page in AppTest (DVA_DATA_DIR is the registry), alternating the
    dialysis filter with Streamlit's data caches cleared: a filter not seen before.
    `plain`: the same page written the plain way (`bench/plain_page.py`)."""
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    if plain:
        at = AppTest.from_file(str(ROOT / "bench" / "plain_page.py"), default_timeout=3600)
    else:
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=3600)
        at.switch_page("pages/afs.py")
    at.run()

    def rerun(i: int) -> None:
        at.multiselect(key="DIALFL").set_value(["Y"] if i % 2 else ["N"])
        st.cache_data.clear()
        at.run()
        if at.exception:
            raise SystemExit(f"the survival page failed: {at.exception[0].value}")

    return {"rerun_ms": _median_of(rerun, repeats) * 1e3, "peak_mb": peak_mb()}


# --- the plain approach: pandas and lifelines ---------------------------------------------


def _plain_frames(src: Path):  # type: ignore[no-untyped-def]
    import pandas as pd

    adsl = pd.read_parquet(src / "adsl.parquet")
    adtte = pd.read_parquet(src / "adtte.parquet")
    return adsl, adtte


def _rows(adsl, adtte, mask, code):  # type: ignore[no-untyped-def]
    chosen = adsl.loc[mask, ["USUBJID", BY]]
    rows = adtte[adtte["PARAMCD"] == code]
    return rows.merge(chosen, on="USUBJID")


def _plain_curves(adsl, adtte, mask, compare: bool = True) -> None:  # type: ignore[no-untyped-def]
    """Each endpoint's curve with CI, landmarks and median; with `compare`, per group of
    BY too, with the log-rank test and the Cox model."""
    from lifelines import CoxPHFitter, KaplanMeierFitter
    from lifelines.statistics import multivariate_logrank_test

    for code in ENDPOINTS:
        rows = _rows(adsl, adtte, mask, code)
        event = 1 - rows["CNSR"]
        km = KaplanMeierFitter().fit(rows["AVAL"], event)
        km.survival_function_at_times([LANDMARK, 365.0])
        _ = km.median_survival_time_, km.confidence_interval_
        if not compare:
            continue
        for _, part in rows.groupby(BY):
            KaplanMeierFitter().fit(part["AVAL"], 1 - part["CNSR"])
        multivariate_logrank_test(rows["AVAL"], rows[BY], event)
        frame = rows.assign(E=event, X=(rows[BY] == "Y").astype(float))[["AVAL", "E", "X"]]
        CoxPHFitter().fit(frame, "AVAL", "E")


def _plain_survival(adsl, adtte, mask) -> None:  # type: ignore[no-untyped-def]
    _plain_curves(adsl, adtte, mask, compare=False)


def _plain_compared(adsl, adtte, mask) -> None:  # type: ignore[no-untyped-def]
    _plain_curves(adsl, adtte, mask, compare=True)


def _plain_forest(adsl, adtte, mask) -> None:  # type: ignore[no-untyped-def]
    import pandas as pd
    from lifelines import CoxPHFitter, KaplanMeierFitter

    chosen = adsl.loc[mask]
    rows = adtte[adtte["PARAMCD"] == "AFS"].merge(chosen, on="USUBJID")
    event = 1 - rows["CNSR"]
    for column in ("AGEGR1", "SEX", "DIALFL", "DIABFL", "RUTHCAT"):
        for _, part in rows.groupby(column):
            KaplanMeierFitter().fit(part["AVAL"], 1 - part["CNSR"]).survival_function_at_times(
                [LANDMARK]
            )
        dummies = pd.get_dummies(rows[column].astype(str), drop_first=True, dtype=float)
        CoxPHFitter().fit(pd.concat([rows[["AVAL"]], event.rename("E"), dummies], axis=1),
                          "AVAL", "E")  # fmt: skip


def _plain_bayes(adsl, adtte, mask) -> None:  # type: ignore[no-untyped-def]
    from analytics.estimators.bayes import BayesianEndpoint

    rows = _rows(adsl, adtte, mask, "AFS")
    BayesianEndpoint(day=LANDMARK).fit(rows["AVAL"].to_numpy(), (1 - rows["CNSR"]).to_numpy())


def plain_command(src: Path) -> None:
    """What the plain script does for one summary, from the files."""
    adsl, adtte = _plain_frames(src)
    mask = FILTERS[0][1](adsl)
    _plain_survival(adsl, adtte, mask)  # the summary compares nothing unless asked
    _plain_bayes(adsl, adtte, mask)


PLAIN_STEPS = {
    "survival_ms": _plain_survival,
    "compared_ms": _plain_compared,
    "forest_ms": _plain_forest,
    "bayes_ms": _plain_bayes,
}


def plain(src: Path, repeats: int, key: str) -> dict[str, float]:
    """One measure the plain way, on frames read once (each measure in a process of its
    own, so that one that does not finish in time costs only itself)."""
    adsl, adtte = _plain_frames(src)
    step = PLAIN_STEPS[key]
    ms = _median_of(lambda i: step(adsl, adtte, FILTERS[i % len(FILTERS)][1](adsl)), repeats) * 1e3
    return {key: ms, "peak_mb": peak_mb()}


# --- the table --------------------------------------------------------------------------


def measure(
    n: int, workdir: Path, repeats: int, timeout: float
) -> tuple[dict[str, float], dict[str, float]]:
    src = workdir / f"registry-{n}"
    base_env = {**os.environ, "PYTHONPATH": str(ROOT)}
    if not (src / "adtte.parquet").exists():
        subprocess.run(
            [sys.executable, "-c", "import sys; from pathlib import Path; "
             "from bench.registry import make_registry; "
             "make_registry(int(sys.argv[1]), Path(sys.argv[2]))", str(n), str(src)],
            check=True, env=base_env,
        )  # fmt: skip
    cache = Path(tempfile.mkdtemp(prefix="cache-", dir=workdir))
    env = {**base_env, "DVA_CACHE_DIR": str(cache), "DVA_DATA_DIR": str(src)}
    summary = [sys.executable, "-m", "analytics", "summary", "--data", str(src),
               "--filter", "DIALFL=N"]  # fmt: skip
    script = [sys.executable, __file__, "--child", "command", "--src", str(src)]
    mine: dict[str, float] = {}
    theirs: dict[str, float] = {}
    mine["cold_s"], cold_mb = _command(summary, env)
    theirs["cold_s"], plain_mb = _command(script, env)
    mine["warm_s"], warm_mb = _command(summary, env)
    theirs["warm_s"], _ = _command(script, env)
    plain_repeats = 1 if n >= 10**7 else repeats
    mine.update(_child("ours", n, src, repeats, env))
    rerun = _child("page", n, src, max(3, repeats // 3), env)
    mine["rerun_ms"] = rerun["rerun_ms"]
    mine["peak_mb"] = max(mine["peak_mb"], rerun["peak_mb"], cold_mb, warm_mb)
    peaks = [plain_mb]
    plain_rerun = _child("plain-page", n, src, 1 if plain_repeats == 1 else 3, env, timeout)
    theirs["rerun_ms"] = plain_rerun.get("rerun_ms", math.nan)
    peaks.append(plain_rerun.get("peak_mb", math.nan))
    for key in PLAIN_STEPS:
        one = _child(f"plain:{key}", n, src, plain_repeats, env, timeout)
        theirs[key] = one.get(key, math.nan)
        peaks.append(one.get("peak_mb", math.nan))
    # the largest peak of the measures that finished
    theirs["peak_mb"] = max(p for p in peaks if not math.isnan(p))
    shutil.rmtree(cache, ignore_errors=True)
    return mine, theirs


def _value(x: float, unit: str) -> str:
    if unit == "s":
        return f"{x:.2f}"
    return f"{x:.0f}" if x >= 100 else f"{x:.1f}"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--sizes", nargs="*", default=["1e4", "1e5", "1e6", "1e7"])
    ap.add_argument("--repeats", type=int, default=9)
    ap.add_argument("--quick", action="store_true", help="1e4 patients, three runs")
    ap.add_argument(
        "--plain-timeout",
        type=float,
        default=1800.0,
        help="seconds a plain measure may take (each in its own process) before it is "
        "reported as not finished",
    )
    ap.add_argument("--workdir", type=Path, default=None)
    ap.add_argument("--child", help=argparse.SUPPRESS)
    ap.add_argument("--n", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--src", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child == "command":
        plain_command(args.src)
        return 0
    if args.child:
        steps = {
            "ours": ours,
            "page": lambda _src, r: page_rerun(r),
            "plain-page": lambda _src, r: page_rerun(r, plain=True),
        }
        kind, _, key = args.child.partition(":")
        result = (
            plain(args.src, args.repeats, key)
            if kind == "plain"
            else steps[kind](args.src, args.repeats)
        )
        print(json.dumps(result))
        return 0
    if args.quick:
        args.sizes, args.repeats = ["1e4"], 3
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="dva-scale-"))
    print(
        "| patients | measure | this engine | pandas + lifelines | plain / this |\n"
        "|---:|---|---:|---:|---:|"
    )
    for n in (int(float(s)) for s in args.sizes):
        mine, theirs = measure(n, workdir, args.repeats, args.plain_timeout)
        for key, label, unit in MEASURES:
            if math.isnan(theirs[key]):
                plain_text, ratio = f"not finished in {args.plain_timeout:.0f} s", "–"
            else:
                plain_text = f"{_value(theirs[key], unit)} {unit}"
                ratio = f"{theirs[key] / mine[key]:.1f}x"
            print(
                f"| {size_label(n)} | {label} | {_value(mine[key], unit)} {unit} | "
                f"{plain_text} | {ratio} |",
                flush=True,
            )
    if args.workdir is None:
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
