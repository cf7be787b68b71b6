"""Arrow columns from numpy arrays for the synthetic registry: codes as dictionary
columns (small in memory however many rows), dates as calendar days, missing as null.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from data.registry_patients import NEVER, Patients, Sites

YN = ("Y", "N")


def codes(
    index: np.ndarray, words: tuple[str, ...] | list[str], missing: np.ndarray | None = None
) -> pa.DictionaryArray:
    """Each row's word `words[index]`; null where `missing`."""
    # int32 indices whatever the number of words, so every chunk has the same schema
    idx = pa.array(np.asarray(index, dtype=np.int32), mask=missing)
    return pa.DictionaryArray.from_arrays(idx, pa.array(list(words), pa.string()))


def one(word: str, n: int) -> pa.DictionaryArray:
    return codes(np.zeros(n, dtype=np.int32), (word,))


def flag(yes: np.ndarray, missing: np.ndarray | None = None) -> pa.DictionaryArray:
    return codes(~np.asarray(yes, dtype=bool), YN, missing)


def number(x: np.ndarray) -> pa.Array:
    """A float column, NaN as null."""
    return pa.array(np.asarray(x, dtype=np.float64), from_pandas=True)


def whole(x: np.ndarray) -> pa.Array:
    """An integer column, NaN (or NEVER) as null."""
    x = np.asarray(x, dtype=np.float64)
    bad = ~np.isfinite(x)
    return pa.array(np.where(bad, 0, x).astype(np.int32), mask=bad)


def day(epoch_days: np.ndarray) -> pa.Array:
    """Calendar dates from days since 1970; NEVER (or NaN) as null."""
    x = np.asarray(epoch_days, dtype=np.float64)
    bad = ~np.isfinite(x)
    return pa.array(np.where(bad, 0, x).astype(np.int32), pa.date32(), mask=bad)


def subject_ids(study_id: str, sites: Sites, p: Patients, digits: int) -> pa.Array:
    """USUBJID: study, site and the registry-wide patient number, e.g. R01-S004-0000123."""
    prefix = pa.array([f"{study_id}-{s}-" for s in sites.ids], pa.string())
    nums = pc.utf8_lpad(pc.cast(pa.array(p.number), pa.string()), digits, "0")
    return pc.binary_join_element_wise(prefix.take(pa.array(p.site)), nums, "")


def per_row(ids: pa.Array, rows: np.ndarray) -> pa.DictionaryArray:
    """The subject identifier of each row, as indices into the chunk's identifiers."""
    return pa.DictionaryArray.from_arrays(pa.array(rows.astype(np.int32)), ids)


def finite(x: np.ndarray) -> np.ndarray:
    return np.asarray(x) < NEVER
