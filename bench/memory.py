"""Peak memory of this process alone.

`ru_maxrss` is not that: a child started by fork (or vfork) and exec keeps the peak of
its parent at the time of the fork, so a benchmark parent that has loaded lifelines or
numba would lend its own size to every child. Linux's VmHWM belongs to the process's
own address space, which exec replaces."""

from __future__ import annotations

import resource
from pathlib import Path


def peak_mb() -> float:
    """High-water mark of resident memory, MB (VmHWM; ru_maxrss where there is none)."""
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
