"""The cache of built databases: where it lives, how big it may grow, and which database
goes when it is full.

The folder is `$DVA_CACHE_DIR` when set (tests and benchmarks keep their own), else the
user's cache folder for the app (platformdirs), never the project folder. After each
build the least recently used databases are removed until the folder is under its limit
(`$DVA_CACHE_MAX_BYTES`, default `DEFAULT_MAX_BYTES`).

A database in use is never removed: a `Store` holds a shared lock on the database's
sidecar `<db>.lock` for as long as it has the database open (`lease`), and removal takes
an exclusive lock without waiting, leaving the database alone when it cannot. Locks are
`fcntl.flock` locks, so they hold across processes on one machine (POSIX; elsewhere there
is no locking and a database can be removed under a running app). "Last used" is the
database file's modification time, set again whenever the database is opened.
"""

from __future__ import annotations

import os
import shutil
import sys
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path

import duckdb
import platformdirs

from analytics.store import queries

if sys.platform != "win32":
    import fcntl

APP_NAME = "dva-outcomes"
CACHE_ENV = "DVA_CACHE_DIR"
LIMIT_ENV = "DVA_CACHE_MAX_BYTES"
# A 10^7-patient registry builds to about 430 MB and a trial to a few MB: 2 GiB keeps a
# few registries and many trials and uploads warm without filling a laptop's disk.
DEFAULT_MAX_BYTES = 2 * 1024**3
DATABASE_SUFFIX = ".duckdb"
LOCK_SUFFIX = ".lock"
# DuckDB's write-ahead log beside a database, and the lock sidecar: removed with it
SIDECAR_SUFFIXES = (".wal", LOCK_SUFFIX)
# a build writes `<database name><random>.tmp` (with DuckDB's .wal and spill folder
# beside it) and renames it when done; one still there after an hour has crashed
ABANDONED_AFTER_SECONDS = 3600.0
# a database built or found by another process a moment ago may be about to be opened:
# eviction after a build leaves those alone for this long
RECENT_SECONDS = 60.0
LOCKING = sys.platform != "win32"


def cache_folder() -> Path:
    """The folder of built databases (created if missing)."""
    configured = os.environ.get(CACHE_ENV)
    path = Path(configured) if configured else platformdirs.user_cache_path(APP_NAME)
    path.mkdir(parents=True, exist_ok=True)
    return path


def max_bytes() -> int:
    """The cache's size limit in bytes: `$DVA_CACHE_MAX_BYTES`, or `DEFAULT_MAX_BYTES`."""
    text = os.environ.get(LIMIT_ENV, "").strip()
    if not text:
        return DEFAULT_MAX_BYTES
    try:
        value = int(text.replace("_", ""))
    except ValueError:
        value = -1
    if value < 0:
        raise ValueError(
            f"{LIMIT_ENV}={text!r}: the cache's size limit must be a whole number of "
            "bytes, 0 or more (e.g. 2147483648 for 2 GiB)"
        )
    return value


@dataclass(frozen=True)
class CacheEntry:
    """One built database in the cache folder."""

    path: Path
    size: int  # bytes: the database with its write-ahead log and sidecars
    last_used: datetime
    source: str | None  # the data source named in the database's meta, if readable
    in_use: bool  # a running app or command has it open

    @property
    def name(self) -> str:
        return self.path.name


@dataclass(frozen=True)
class PruneResult:
    """What a prune or an eviction did."""

    removed: tuple[CacheEntry, ...]
    kept_in_use: tuple[CacheEntry, ...]
    abandoned: tuple[Path, ...]  # files of crashed builds removed
    remaining_bytes: int

    @property
    def freed_bytes(self) -> int:
        return sum(e.size for e in self.removed)


class Lease:
    """A shared lock on a database, held while it is open; `release` gives it back."""

    def __init__(self, fd: int | None) -> None:
        self._fd = fd

    @property
    def held(self) -> bool:
        return self._fd is not None

    def release(self) -> None:
        if self._fd is not None:
            fd, self._fd = self._fd, None
            os.close(fd)  # closing the descriptor releases the lock

    def __del__(self) -> None:  # a Store that failed to open, or was never closed
        self.release()


def lock_path(database: Path) -> Path:
    return database.with_name(database.name + LOCK_SUFFIX)


def mark_used(database: Path) -> None:
    """Record that `database` was used now (its modification time)."""
    # a read-only cache (a shared mount) cannot record it: the database still opens
    with suppress(OSError):
        os.utime(database)


def lease(database: Path) -> Lease:
    """Mark `database` used and hold a shared lock on it until `release`: eviction and
    prune leave it alone meanwhile. Without locking (no fcntl, or a folder that cannot
    hold the lock file) the lease holds nothing."""
    mark_used(database)
    if not LOCKING or not database.is_file():
        return Lease(None)  # nothing to protect (opening it will say what is wrong)
    lock = lock_path(database)
    for _ in range(10):
        try:
            fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError:
            return Lease(None)
        fcntl.flock(fd, fcntl.LOCK_SH)
        try:
            same = os.fstat(fd).st_ino == os.stat(lock).st_ino
        except FileNotFoundError:
            same = False
        if same:
            return Lease(fd)
        # a prune removed the lock file between our open and our lock: take the new one
        os.close(fd)
    return Lease(None)


@contextmanager
def _exclusive(database: Path, create: bool = True) -> Iterator[bool]:
    """An exclusive lock on `database` if nobody holds it (True), else False at once.
    Without `create`, a database without a lock file is free (a lease makes the file)."""
    if not LOCKING:
        yield True
        return
    flags = os.O_RDWR | (os.O_CREAT if create else 0)
    try:
        fd = os.open(lock_path(database), flags, 0o644)
    except FileNotFoundError:
        yield True
        return
    except OSError:
        yield False
        return
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            yield False
            return
        yield True
    finally:
        os.close(fd)


def _files_of(database: Path) -> list[Path]:
    sidecars = [database.with_name(database.name + s) for s in SIDECAR_SUFFIXES]
    return [database, *(p for p in sidecars if p.exists())]


def _size(database: Path) -> int:
    total = 0
    for path in _files_of(database):
        with suppress(FileNotFoundError):  # removed by another process meanwhile
            total += path.stat().st_size
    return total


def _source_of(database: Path) -> str | None:
    try:
        with duckdb.connect(str(database), read_only=True) as con:
            return queries.store_meta(con.cursor()).get("source")
    except duckdb.Error:
        return None  # a database of another DuckDB version, or not a database at all


def _in_use(database: Path) -> bool:
    with _exclusive(database, create=False) as free:
        return not free


def _databases(folder: Path) -> list[Path]:
    return sorted(p for p in folder.glob("*" + DATABASE_SUFFIX) if p.is_file())


def _entry(database: Path, with_source: bool = True) -> CacheEntry | None:
    try:
        used = database.stat().st_mtime
    except FileNotFoundError:
        return None  # removed by another process meanwhile
    return CacheEntry(
        path=database,
        size=_size(database),
        last_used=datetime.fromtimestamp(used).astimezone(),
        source=_source_of(database) if with_source else None,
        in_use=_in_use(database),
    )


def entries(folder: Path | None = None, with_source: bool = True) -> list[CacheEntry]:
    """The databases in the cache folder, least recently used first."""
    found = (_entry(p, with_source) for p in _databases(folder or cache_folder()))
    return sorted((e for e in found if e is not None), key=lambda e: (e.last_used, e.name))


def _remove(database: Path) -> bool:
    """Remove a database and its sidecars unless someone has it open; whether it went."""
    with _exclusive(database) as free:
        if not free:
            return False
        # the lock file last: while it exists, an opener finds the lock we hold
        for path in _files_of(database):
            if path != lock_path(database):
                path.unlink(missing_ok=True)
        lock_path(database).unlink(missing_ok=True)
        return True


def abandoned_builds(folder: Path, now: float | None = None) -> list[Path]:
    """Files left by builds that crashed (temporary names older than an hour)."""
    now = time.time() if now is None else now
    found = []
    temporary = (f"*{DATABASE_SUFFIX}*.tmp", f"*{DATABASE_SUFFIX}*.tmp.wal")
    for path in (p for pattern in temporary for p in folder.glob(pattern)):
        if _older(path, now):
            found.append(path)
    # sidecars whose database is gone (removed by hand, or by an interrupted prune)
    for suffix in SIDECAR_SUFFIXES:
        for path in folder.glob(f"*{DATABASE_SUFFIX}{suffix}"):
            database = path.with_name(path.name.removesuffix(suffix))
            if not database.exists() and _older(path, now):
                found.append(path)
    return sorted(set(found))


def _older(path: Path, now: float) -> bool:
    try:
        return now - path.stat().st_mtime > ABANDONED_AFTER_SECONDS
    except FileNotFoundError:
        return False


def prune(
    folder: Path | None = None,
    limit: int | None = None,
    everything: bool = False,
    keep: Iterable[Path] = (),
    recent_seconds: float = 0.0,
) -> PruneResult:
    """Remove databases, least recently used first, until the folder holds at most `limit`
    bytes (default `max_bytes()`), or every database when `everything`; and the files of
    builds abandoned over an hour ago.

    Never removed: a database someone has open (reported in `kept_in_use`), one in `keep`,
    and one used within the last `recent_seconds`.
    """
    folder = folder or cache_folder()
    limit = max_bytes() if limit is None else limit
    now = time.time()
    abandoned = abandoned_builds(folder, now)
    for path in abandoned:
        if path.is_dir():  # DuckDB's spill folder of a build, `<temp name>.tmp`
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
    kept = {Path(p).resolve() for p in keep}
    current = entries(folder, with_source=False)
    total = sum(e.size for e in current)
    removed: list[CacheEntry] = []
    in_use: list[CacheEntry] = []
    for entry in current:
        if not everything and total <= limit:
            break
        if entry.path.resolve() in kept or now - entry.last_used.timestamp() < recent_seconds:
            continue
        # the label is read first: once removed, the database cannot say what it held
        labelled = replace(entry, source=_source_of(entry.path))
        if _remove(entry.path):
            removed.append(labelled)
            total -= entry.size
        else:
            in_use.append(replace(labelled, in_use=True))
    return PruneResult(
        removed=tuple(removed),
        kept_in_use=tuple(in_use),
        abandoned=tuple(abandoned),
        remaining_bytes=total,
    )


def evict_after_build(built: Path) -> PruneResult:
    """Bring the cache folder under its limit after `built` was built there: `built` stays,
    and so does a database another process built or found a moment ago."""
    return prune(built.parent, keep=(built,), recent_seconds=RECENT_SECONDS)
