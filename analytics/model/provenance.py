"""Where a number came from: filters, data fingerprint, method, software versions."""

from __future__ import annotations

import hashlib
import platform
import time
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


# Fingerprints this process has computed, keyed by what the file system says of each
# file: (path, device, inode, size, mtime_ns, ctime_ns).
_FINGERPRINTS: dict[tuple[tuple[str, int, int, int, int, int], ...], str] = {}
# files changed this recently are hashed again on the next call (see fingerprint_files)
_SETTLED_NS = 2_000_000_000


def fingerprint_files(paths: Iterable[Path]) -> str:
    """SHA-256 over file names and contents, independent of listing order.

    The contents are streamed: a registry's files are hundreds of MB, which read whole
    would all be held in memory at once. The result is remembered for this process by
    the files' stat, so the dashboard's reruns and the lookup before a build do not
    read them again. A normal edit changes the size or the modification time, and
    always the change time (ctime), which no program can set back (`touch -d`, `cp -p`
    and `rsync -t` restore mtime and move ctime forward); a file replaced by another
    is another inode. Only a second write in the same tick of the file system's clock
    as the one hashed could keep all of them: as git does with "racily clean" files,
    a fingerprint is not remembered while any file changed under `_SETTLED_NS` ago.
    The memo is this process's own: no database is ever named by a digest that
    another process (or an earlier state of the files) remembered."""
    files = sorted(Path(p) for p in paths)
    stats = [f.stat() for f in files]
    key = tuple((str(f.resolve()), st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns,
                 st.st_ctime_ns) for f, st in zip(files, stats, strict=True))
    known = _FINGERPRINTS.get(key)
    if known is not None:
        return known
    h = hashlib.sha256()
    for path in files:
        h.update(path.name.encode())
        h.update(b"\0")
        with path.open("rb") as f:
            # hashlib.file_digest's loop, into the one running hash
            while chunk := f.read(1 << 20):
                h.update(chunk)
        h.update(b"\0")
    digest = h.hexdigest()
    newest = max((max(st.st_mtime_ns, st.st_ctime_ns) for st in stats), default=0)
    if time.time_ns() - newest > _SETTLED_NS:
        _FINGERPRINTS[key] = digest
    return digest


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
