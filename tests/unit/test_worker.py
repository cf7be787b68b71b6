"""Heavy work in a worker process: the result comes back, a data error stays a data
error, and the memory limit, the time limit and an abandoned wait each stop the worker
(its process gone, not left running for a page nobody reads)."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from analytics.extract.issues import DataError
from analytics.store import DEMO_DIR, Store
from analytics.store.build import database_for
from analytics.store.worker import WorkerLimitError, WorkerLimits, run
from tests.helpers import hold_memory, refuse_data, worker_processes


def gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def test_a_database_built_in_a_worker_opens_here(tmp_path):
    seen: list[float] = []
    path = run(database_for, (DEMO_DIR, None, tmp_path), progress=seen.append)
    assert path.parent == tmp_path
    store = Store.open(DEMO_DIR, cache=tmp_path)  # found, not built again
    assert store.path == path
    assert store.count() == 105
    store.close()
    assert seen  # the caller heard while it waited
    assert seen == sorted(seen)


def test_bad_data_in_the_worker_is_a_data_error_here():
    with pytest.raises(DataError, match="AGE is not a number") as found:
        run(refuse_data, ("AGE is not a number",))
    assert found.value.issues[0].column == "AGE"


def test_the_memory_limit_stops_the_worker():
    started = time.monotonic()
    with pytest.raises(WorkerLimitError, match="more than 300 MB of memory"):
        run(hold_memory, (600,), limits=WorkerLimits(memory_mb=300, seconds=60))
    assert time.monotonic() - started < 30


def test_the_time_limit_stops_the_worker():
    started = time.monotonic()
    with pytest.raises(WorkerLimitError, match="longer than 2 seconds"):
        run(time.sleep, (60,), limits=WorkerLimits(seconds=2))
    assert time.monotonic() - started < 15


def test_an_abandoned_wait_stops_the_worker():
    pids: list[int] = []

    class LeftError(Exception):
        pass

    def leave(elapsed: float) -> None:
        pids.extend(p for p in worker_processes(os.getpid()) if p not in pids)
        if elapsed > 0.5:
            raise LeftError

    with pytest.raises(LeftError):
        run(time.sleep, (60,), progress=leave)
    assert pids
    assert all(gone(p) or _zombie(p) for p in pids)


def _zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] == "Z"
    except OSError:
        return True
