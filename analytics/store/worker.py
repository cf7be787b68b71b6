"""Heavy work off the server's request path: a function run in a process of its own,
within a memory and a time limit, stopped when the caller stops waiting.

The dashboard's server runs every session's script in a thread of one Python process: a
database built there (seconds to minutes of CPU) would hold the interpreter, and every
other session and the health check would wait. In a worker process the build holds only
itself; the session's thread waits on a pipe, reporting progress, and the server keeps
answering. The worker is killed when it grows past `memory_mb` of resident memory, runs
past `seconds`, or when the wait is abandoned (the user left or changed the page, which
raises in the progress callback): nothing keeps running for a page nobody reads.

`DVA_WORKER_MEMORY_MB` (default 1536) and `DVA_WORKER_SECONDS` (default 900) set the
limits. A worker is a fresh interpreter (forking a threaded server is unsafe), given the
function and its arguments pickled on stdin, answering pickled on stdout.
"""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
import threading
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from analytics.extract.issues import DataError

POLL = 0.2  # seconds between looks at the worker
PAGE = os.sysconf("SC_PAGE_SIZE")


class WorkerLimitError(RuntimeError):
    """The work broke a limit and was stopped; the message says which."""


@dataclass(frozen=True)
class WorkerLimits:
    memory_mb: int = 1536
    seconds: float = 900.0

    @classmethod
    def from_environ(cls) -> WorkerLimits:
        return cls(
            memory_mb=int(os.environ.get("DVA_WORKER_MEMORY_MB", "") or cls.memory_mb),
            seconds=float(os.environ.get("DVA_WORKER_SECONDS", "") or cls.seconds),
        )


def _resident_mb(pid: int) -> float:
    """The process's resident memory (Linux /proc); 0 when it is gone."""
    try:
        pages = int(Path(f"/proc/{pid}/statm").read_text().split()[1])
    except (OSError, IndexError, ValueError):
        return 0.0
    return pages * PAGE / (1 << 20)


def serve() -> None:
    """In the worker: read (target, args) from stdin, run it, write what it gave, a data
    error or a fault's traceback to stdout; anything else printed goes to stderr."""
    answer = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    try:
        target, args = pickle.load(sys.stdin.buffer)
        result: tuple[str, Any] = ("ok", target(*args))
    except DataError as exc:
        result = ("data", (str(exc), exc.issues))
    except BaseException as exc:
        result = ("fault", f"{type(exc).__name__}: {exc}\n{traceback.format_exc()}")
    pickle.dump(result, answer)
    answer.close()


def run(
    target: Callable[..., Any],
    args: Sequence[Any] = (),
    *,
    limits: WorkerLimits | None = None,
    progress: Callable[[float], None] | None = None,
) -> Any:
    """`target(*args)` in a worker process: `target` a module-level function (the worker
    imports it by its name), its arguments and result picklable. `progress(seconds so
    far)` is called while it runs; whatever it raises stops the worker and propagates.
    Raises the worker's DataError as its own, WorkerLimitError when a limit stops it,
    RuntimeError for any other fault."""
    limits = limits or WorkerLimits.from_environ()
    # a fresh interpreter, not multiprocessing's spawn: that would run the caller's main
    # module again (the app's script, under Streamlit's test runner)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    proc = subprocess.Popen(
        [sys.executable, "-c", "from analytics.store.worker import serve; serve()"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        env=env,
    )
    answer: list[bytes] = []
    stdout = proc.stdout
    assert stdout is not None
    # read while it runs: an answer larger than the pipe's buffer must not block it
    reader = threading.Thread(target=lambda: answer.append(stdout.read()), daemon=True)
    reader.start()
    started = time.monotonic()
    try:
        assert proc.stdin is not None
        try:
            proc.stdin.write(pickle.dumps((target, tuple(args))))
            proc.stdin.close()
        except BrokenPipeError:  # it died before reading: said below
            pass
        while proc.poll() is None:
            time.sleep(POLL)
            elapsed = time.monotonic() - started
            if _resident_mb(proc.pid) > limits.memory_mb:
                raise WorkerLimitError(f"it needed more than {limits.memory_mb:,} MB of memory")
            if elapsed > limits.seconds:
                raise WorkerLimitError(f"it took longer than {limits.seconds:,.0f} seconds")
            if progress is not None:
                progress(elapsed)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        reader.join(timeout=10)
        stdout.close()
    if not answer or not answer[0]:
        raise WorkerLimitError(_died(proc.returncode))
    kind, payload = pickle.loads(answer[0])
    if kind == "ok":
        return payload
    if kind == "data":
        message, issues = payload
        raise DataError(message, issues)
    raise RuntimeError(f"the worker failed: {payload}")


def _died(code: int | None) -> str:
    if code is not None and code < 0:
        return f"it was stopped by the system (signal {-code}), most likely out of memory"
    return f"it stopped without an answer (exit code {code})"
