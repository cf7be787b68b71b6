"""Descriptive building blocks: counts with denominators, medians with IQR or range.

Quartiles use Hyndman and Fan's definition 2 (SAS's default, PROC UNIVARIATE
QNTLDEF=5), the convention of trial reports; missing values are counted and
shown, never hidden.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

import numpy as np
import pandas as pd

QUANTILE_METHOD: Final = "averaged_inverted_cdf"  # Hyndman-Fan type 2 = SAS QNTLDEF=5
QUANTILE_NOTE = "quartiles by Hyndman-Fan definition 2 (SAS default)"

Kind = Literal["count", "median_iqr", "median_range", "absent"]


@dataclass(frozen=True)
class Row:
    section: str
    label: str
    kind: Kind
    n: int | None = None
    denominator: int = 0
    missing: int = 0
    median: float | None = None
    q1: float | None = None
    q3: float | None = None
    minimum: float | None = None
    maximum: float | None = None
    unit: str = ""

    @property
    def percent(self) -> float | None:
        if self.n is None or self.denominator == 0:
            return None
        return 100.0 * self.n / self.denominator

    def text(self) -> str:
        miss = f"; missing {self.missing}" if self.missing else ""
        if self.kind == "absent":
            return "not in data"
        if self.kind == "count":
            if not self.denominator:
                return "0/0"
            return f"{self.n}/{self.denominator} ({self.percent:.1f}%){miss}"
        if self.median is None:
            return f"no values{miss}"
        if self.kind == "median_iqr":
            return f"{_fmt(self.median)} ({_fmt(self.q1)}-{_fmt(self.q3)}){miss}"
        return f"{_fmt(self.median)} ({_fmt(self.minimum)}-{_fmt(self.maximum)}){miss}"


def _fmt(x: float | None) -> str:
    if x is None:
        return "NA"
    return f"{x:.0f}" if float(x).is_integer() else f"{x:.1f}"


def quartiles(values: pd.Series | np.ndarray) -> tuple[float, float, float] | None:
    v: np.ndarray = pd.to_numeric(pd.Series(values), errors="coerce").dropna().to_numpy(dtype=float)
    if v.size == 0:
        return None
    q = np.quantile(v, np.array([0.25, 0.5, 0.75]), method=QUANTILE_METHOD)
    return float(q[0]), float(q[1]), float(q[2])


def numeric_row(
    section: str, label: str, values: pd.Series, kind: Kind = "median_iqr", unit: str = ""
) -> Row:
    v = pd.to_numeric(values, errors="coerce")
    missing = int(v.isna().sum())
    q = quartiles(v)
    if q is None:
        return Row(section, label, kind, denominator=len(v), missing=missing, unit=unit)
    present = v.dropna()
    return Row(
        section,
        label,
        kind,
        denominator=len(v),
        missing=missing,
        median=q[1],
        q1=q[0],
        q3=q[2],
        minimum=float(present.min()),
        maximum=float(present.max()),
        unit=unit,
    )
