"""The benchmark scripts keep working: a smoke run of each prints its table, and the
Kaplan-Meier benchmark's own check (every engine within 1e-9 of lifelines) passes. The
numbers are quoted in the README from full runs; none is asserted here."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from tests.helpers import ROOT

pytestmark = pytest.mark.slow  # runs the benchmarks


def _run(*args: str) -> str:
    done = subprocess.run([sys.executable, *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_survival_benchmark_smoke_run(tmp_path):
    out = _run("bench/run.py", "--quick", "--workdir", str(tmp_path))
    assert re.search(r"\| this engine \(int64 days\) \| [\d.]+ \| [\d.]+x \|", out)
    # the page numbers of 1e4 patients, with a peak memory of this process alone
    row = re.search(r"\| 1e4 \| ([\d.]+) \| ([\d.]+) \| (\d+) \| ([\d.]+) \|", out)
    assert row, out
    assert 50 < int(row.group(3)) < 2000


def test_load_benchmark_smoke_run(tmp_path):
    out = _run("bench/load.py", "--quick", "--workdir", str(tmp_path))
    for fmt in ("csv", "parquet"):
        assert re.search(rf"\| {fmt} \| [\d.]+ \| [\d.]+ \| [\d.]+ \| \d+ \|", out), out


def test_design_benchmark_smoke_run():
    out = _run("bench/design.py", "--quick")
    assert re.search(r"\| 1e3 \| [\d.]+ \| [\d.]+ \| \d+x \| 0\.\d+ \|", out), out
    assert "Plain loop on 30 trials" in out


@pytest.mark.browser  # the pack renders its figures in Chromium
def test_pack_benchmark_smoke_run():
    out = _run("bench/pack.py", "--quick")
    row = re.search(r"\| pack: deck written, one browser for every image \| ([\d.]+) \|", out)
    assert row, out
    assert float(row.group(1)) > 0
    assert "Target: under 20 s" in out


def test_sessions_load_test_smoke_run_sees_no_cross_talk():
    """Three sessions on one server, each checking that every page shows its own
    filter's patients, beside a session sending pathological links."""
    out = _run("bench/sessions.py", "--quick")
    assert re.search(r"\| filter changes \| (\d+) \|", out), out
    assert int(re.search(r"\| filter changes \| (\d+) \|", out).group(1)) > 10
    assert "| errors | 0 |" in out
    assert "| cross-talk (a session shown another's view) | 0 |" in out


def test_scale_benchmark_smoke_run(tmp_path):
    """Every measure of the registry-scale table, this engine beside pandas + lifelines."""
    out = _run("bench/scale.py", "--quick", "--workdir", str(tmp_path))
    measures = re.findall(
        r"\| 1e4 \| ([a-zA-Z ,()-]+) \| ([\d.]+) (?:s|ms|MB) \| ([\d.]+) (?:s|ms|MB) \| [\d.]+x \|",
        out,
    )
    assert [m[0] for m in measures] == [
        "cold open (first summary)",
        "warm summary (command line)",
        "survival page after a filter change",
        "the same, compared by diabetes",
        "forest plot",
        "Bayesian endpoint",
        "page rerun (Streamlit)",
        "peak memory",
    ], out
    assert all(float(mine) > 0 and float(plain) > 0 for _, mine, plain in measures)
