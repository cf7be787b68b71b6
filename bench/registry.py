"""A synthetic registry of any size, for benchmarks only: adsl and adtte as
Parquet, day-resolution times, a few subject columns to filter on.

Every patient is invented; nothing here resembles a real registry beyond its shape.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

ENDPOINTS = ("AFS", "LS", "OS")


def make_registry(n: int, out: Path, seed: int = 7, row_group: int = 1_000_000) -> Path:
    """Write `out/adsl.parquet` and `out/adtte.parquet` for `n` patients."""
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    ids = np.char.add("R-", np.arange(n).astype(str))
    age = np.clip(rng.normal(70, 10, n).round(), 30, 99).astype(np.int32)
    dial = rng.random(n) < 0.18
    adsl = pa.table({
        "USUBJID": ids,
        "STUDYID": np.full(n, "REGISTRY"),
        "SITEID": np.char.add("S", rng.integers(1, 201, n).astype(str)),
        "AGE": age,
        "AGEGR1": np.where(age <= 70, "<=70", ">70"),
        "SEX": np.where(rng.random(n) < 0.68, "M", "F"),
        "DIALFL": np.where(dial, "Y", "N"),
        "DIABFL": np.where(rng.random(n) < 0.77, "Y", "N"),
        "RUTHCAT": rng.choice(np.array([5, 6], dtype=np.int32), n, p=[0.65, 0.35]),
    })
    pq.write_table(adsl, out / "adsl.parquet", row_group_size=row_group)

    follow = rng.integers(200, 1100, n)
    hazard = np.where(dial, 1 / 250, 1 / 900)
    amp = rng.exponential(1 / (hazard * 1.2))
    death = rng.exponential(1 / hazard)
    times = {
        "LS": (np.minimum(amp, np.minimum(death, follow)), amp <= np.minimum(death, follow)),
        "OS": (np.minimum(death, follow), death <= follow),
    }
    afs_t = np.minimum(np.minimum(amp, death), follow)
    times["AFS"] = (afs_t, np.minimum(amp, death) <= follow)
    # one file sorted by endpoint, so a query for one endpoint reads its row groups only
    writer = None
    try:
        for code in ENDPOINTS:
            t, ev = times[code]
            part = pa.table({
                "USUBJID": ids,
                "PARAMCD": np.full(n, code),
                "AVAL": np.ceil(t).astype(np.float64),
                "CNSR": np.where(ev, 0, 1).astype(np.int32),
            })
            if writer is None:
                writer = pq.ParquetWriter(out / "adtte.parquet", part.schema)
            writer.write_table(part, row_group_size=row_group)
    finally:
        if writer is not None:
            writer.close()
    return out
