"""How the benchmarks name a number of patients in their tables: 1e6, or 250,000."""

from __future__ import annotations


def size_label(n: int) -> str:
    """A power of ten as 1eK, any other number with thousands separators."""
    return f"1e{len(str(n)) - 1}" if str(n).strip("0") == "1" else f"{n:,}"
