"""Where a number came from: filters, data fingerprint, method, software versions."""

from __future__ import annotations

import hashlib
import platform
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from functools import cache
from importlib import metadata
from pathlib import Path

_PACKAGES = ("numpy", "scipy", "pandas", "duckdb", "lifelines", "numba")


@cache
def software_versions() -> tuple[tuple[str, str], ...]:
    out = [("python", platform.python_version())]
    for name in _PACKAGES:
        try:
            out.append((name, metadata.version(name)))
        except metadata.PackageNotFoundError:
            out.append((name, "not installed"))
    return tuple(out)


def fingerprint_files(paths: Iterable[Path]) -> str:
    """SHA-256 over file names and contents, independent of listing order."""
    h = hashlib.sha256()
    for path in sorted(Path(p) for p in paths):
        h.update(path.name.encode())
        h.update(b"\0")
        h.update(path.read_bytes())
        h.update(b"\0")
    return h.hexdigest()


@dataclass(frozen=True)
class Provenance:
    filters: tuple[str, ...] = ()
    data_fingerprint: str = "unknown"
    data_source: str = "unknown"
    method: str = ""
    versions: tuple[tuple[str, str], ...] = field(default_factory=software_versions)
    # the filters in clinical words, as footnotes print them (the codes stay in `filters`)
    filter_words: tuple[str, ...] = field(default=(), compare=False)

    def with_method(self, method: str) -> Provenance:
        return replace(self, method=method)

    def as_dict(self) -> dict[str, object]:
        return {
            "filters": list(self.filters),
            "data_fingerprint": self.data_fingerprint,
            "data_source": self.data_source,
            "method": self.method,
            "versions": dict(self.versions),
        }

    def footnote(self) -> str:
        filt = "; ".join(self.filter_words or self.filters) if self.filters else "none"
        return (
            f"Data: {self.data_source} (fingerprint {self.data_fingerprint[:12]}). "
            f"Filters: {filt}. Method: {self.method}."
        )
