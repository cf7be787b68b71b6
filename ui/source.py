"""Which data this session sees, the store opened on them, and their quality report.

Precedence, first found wins:

1. this session's upload, once it has opened (`ui.upload`);
2. ``data_dir`` in ``.streamlit/secrets.toml``;
3. the environment variable ``DVA_DATA_DIR``;
4. the bundled demo.

A relative path is read from the project folder. A configured path that does not
exist, or a secrets file that is not valid TOML, is a problem named in plain words:
the app then offers only the Data page, never silently the demo instead of the data
the user asked for.

Stores are shared by every session (`st.cache_resource`), keyed by the extract's
folder, the folder its database is kept in and an upload's mapping revision; a
bounded number are kept, so uploads do not pile up in memory.
"""

from __future__ import annotations

import io
import logging
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, Literal

import streamlit as st
from streamlit.runtime import Runtime
from streamlit.runtime.scriptrunner import get_script_run_ctx

from analytics.extract import DataError, DataIssue, QualityReport
from analytics.report.frames import write_csv
from analytics.store import DEMO_DIR, PROJECT_ROOT, Store, validate_into, worker
from analytics.store.build import build_database
from ui.context import through_router

SECRET_KEY = "data_dir"
ENV_KEY = "DVA_DATA_DIR"
SECRETS_FILE = ".streamlit/secrets.toml"
STORES = 8  # stores kept open at once, across sessions
REPORT_TTL = 60  # seconds a failure's report is kept before the folder is read again
_KEY = "_dva_loaded"
log = logging.getLogger("dva.source")

Kind = Literal["upload", "secrets", "env", "demo"]


@dataclass(frozen=True)
class DataSource:
    """Where the data come from and how the user chose them."""

    kind: Kind
    path: Path
    setting: str  # how it was chosen, for messages: "data_dir in .streamlit/secrets.toml"
    cache: Path | None = None  # where the database is kept; None: the shared cache
    revision: int = 0  # an upload's mapping revision: a new mapping opens a new store
    problem: str = ""  # why it cannot be used even before opening, "" if none

    def describe(self) -> str:
        if self.kind == "demo":
            return "the bundled demo extract"
        if self.kind == "upload":
            return "files uploaded in this session"
        return f"{self.path} ({self.setting})"


@dataclass(frozen=True)
class Loaded:
    """The data this run uses: the store, or why there is none."""

    source: DataSource
    store: Store | None
    error: str = ""  # plain words naming the file, row and column at fault

    @property
    def ok(self) -> bool:
        return self.store is not None


def resolve(text: str) -> Path:
    """A configured path: `~` expanded, a relative path read from the project folder."""
    path = Path(text).expanduser()
    return path if path.is_absolute() else PROJECT_ROOT / path


def _secret() -> tuple[object, str]:
    """(value of `data_dir` or None, problem reading the secrets file or "")."""
    try:
        return st.secrets.get(SECRET_KEY), ""
    except FileNotFoundError as exc:
        # Streamlit raises this when there is no secrets file (fine: nothing is
        # configured) and when one cannot be parsed (a problem the user must see).
        if getattr(exc, "error_id", None) == "no-secrets-found":
            return None, ""
        return None, f"The secrets file could not be read: {exc}"


def configured(
    secret: Callable[[], tuple[object, str]] = _secret,
    environ: Mapping[str, str] = os.environ,
) -> DataSource:
    """The data the app is configured to show when no upload is in use."""
    value, problem = secret()
    where = f"{SECRET_KEY} in {SECRETS_FILE}"
    if problem:
        return DataSource("secrets", PROJECT_ROOT / SECRETS_FILE, SECRETS_FILE, problem=problem)
    if value is not None and value != "":
        if not isinstance(value, str):
            return DataSource(
                "secrets",
                PROJECT_ROOT / SECRETS_FILE,
                where,
                problem=f"{where} must be a folder path in quotes, not {value!r}.",
            )
        return _checked(DataSource("secrets", resolve(value), where))
    env = environ.get(ENV_KEY, "")
    if env:
        return _checked(DataSource("env", resolve(env), f"environment variable {ENV_KEY}"))
    return DataSource("demo", DEMO_DIR, "bundled demo")


def _checked(src: DataSource) -> DataSource:
    if src.path.exists():
        return src
    return DataSource(
        src.kind,
        src.path,
        src.setting,
        problem=f"The data folder {src.path} (set by {src.setting}) does not exist.",
    )


# --- opening --------------------------------------------------------------------------


def _cache_arg(src: DataSource) -> str:
    return str(src.cache) if src.cache is not None else ""


class SessionGoneError(RuntimeError):
    """The session that waited for a build has ended."""


def _in_worker(src: Path, dest: Path, mapping: Path | None) -> object:
    """Build a database in a worker process: the server keeps answering every other
    session meanwhile, and the worker stops at its memory and time limits, or when the
    session that waits for it has ended (asked here: a callback draws nothing that
    would stop the run)."""
    ctx = get_script_run_ctx()

    def alive(elapsed: float) -> None:
        live = Runtime.instance().is_active_session if Runtime.exists() else None
        if ctx is not None and live is not None and not live(ctx.session_id):
            raise SessionGoneError

    return worker.run(build_database, (src, dest, mapping), progress=alive)


@st.cache_resource(
    max_entries=STORES,
    show_spinner="Opening the data (their first use builds a database)…",
    show_time=True,
)
def _open(path: str, cache: str, revision: int) -> Store:
    # revision is part of the key only: a new mapping in the same folder is new data
    return Store.open(Path(path), cache=Path(cache) if cache else None, build=_in_worker)


def forget(src: DataSource) -> None:
    """Drop the shared store of `src` (an upload being replaced or discarded)."""
    _open.clear(str(src.path), _cache_arg(src), src.revision)


def open_source(src: DataSource) -> Loaded:
    """The store on `src`, or a Loaded naming what went wrong (never raises for bad data)."""
    if src.problem:
        return Loaded(src, None, src.problem)
    try:
        store = _open(str(src.path), _cache_arg(src), src.revision)
    except DataError as exc:
        # DataError messages name the file, row and column at fault
        return Loaded(src, None, str(exc))
    except worker.WorkerLimitError as exc:
        return Loaded(
            src,
            None,
            f"The data could not be loaded within this server's limits: {exc}. Smaller "
            "extracts load in the browser; larger ones are configured as a data folder.",
        )
    except Exception:
        # a fault of ours: the log keeps the traceback, the user a plain sentence
        log.exception("%s could not be opened", src.path)
        return Loaded(src, None, "An unexpected fault stopped the loading; it was logged.")
    return Loaded(src, store)


def load(upload: DataSource | None) -> Loaded:
    """This run's data: `upload` (the session's opened upload) or the configured data.

    Kept in the session for the Data page, which is reachable even when nothing opens.
    """
    loaded = open_source(upload if upload is not None else configured())
    st.session_state[_KEY] = loaded
    return loaded


def current() -> Loaded:
    """What app.py opened for this run (for the Data page, which must work without a
    store, so it cannot use `ui.context.current`)."""
    through_router()
    loaded = st.session_state.get(_KEY)
    if loaded is None:
        raise RuntimeError("pages are served through app.py, which opens the data first")
    return loaded  # type: ignore[no-any-return]


# --- the quality report ------------------------------------------------------------------


@st.cache_data(max_entries=STORES, ttl=REPORT_TTL, show_spinner="Checking the data…")
def _failure(path: str, cache: str, revision: int) -> tuple[QualityReport, str]:
    """The report of data that did not open, and its database file ("" if none was built):
    checked in a worker process, as a build is (`_in_worker`)."""
    check = partial(validate_into, cache=Path(cache) if cache else None, label=Path(path).name)
    try:
        rep, db = worker.run(check, (Path(path),))
    except worker.WorkerLimitError as exc:
        issue = DataIssue(Path(path).name, None, None, None, "error", f"not checked: {exc}")
        return QualityReport((), (issue,), path, False, issue.message), ""
    return rep, str(db) if db is not None else ""


@dataclass(frozen=True)
class Report:
    """The quality report of `source` and the database holding its rejected rows."""

    report: QualityReport
    database: Path | None  # None: the data never got as far as a database


def report(loaded: Loaded) -> Report:
    src = loaded.source
    if loaded.store is not None:
        rep = loaded.store.quality().of_extract(str(src.path))
        return Report(rep, loaded.store.path)
    if src.problem:
        issue = DataIssue(str(src.path), None, None, None, "error", src.problem)
        return Report(QualityReport((), (issue,), str(src.path), False, src.problem), None)
    rep, db = _failure(str(src.path), _cache_arg(src), src.revision)
    return Report(rep, Path(db) if db else None)


def rejected_tables(database: Path) -> list[str]:
    """Tables (adsl, adtte, visits, adae, wide) with rejected rows, in the loader's order."""
    store = Store(database)
    try:
        return store.rejected_tables()
    finally:
        store.close()


def rejected_csv(database: Path, table: str) -> bytes:
    """The rejected rows of `table` as CSV (file, row, reasons, then the file's columns)."""
    store = Store(database)
    try:
        frame = store.rejected_rows(table)
    finally:
        store.close()
    buf = io.StringIO()
    write_csv(frame, buf)
    return buf.getvalue().encode("utf-8")


def summary(store: Store) -> dict[str, Any]:
    """Name, notice and fingerprint of the data in use, as the Data page shows them."""
    return {
        "name": store.meta.get("source", "unknown"),
        "synthetic": store.synthetic,
        "fingerprint": store.fingerprint,
        "patients": store.count(),
    }
