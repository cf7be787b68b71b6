"""The access log: who opened which data and which view, and every upload, one JSON
object per line appended to a file a hospital's IT can ship to its SIEM.

Each record has the time (UTC, ISO 8601), the event, the user (the signed-in identity
where sign-in is configured, else "anonymous") and the browser session. Events:

- ``open``: the data a session shows (source, fingerprint, registry, protection);
- ``view``: a page and its view, as the codes of the dashboard's URL (the criteria of
  a filter, never a patient's value);
- ``upload``: the files' names and sizes, the upload's fingerprint, accepted or
  refused (the reason of a refusal of a limit; for data that cannot be analysed, only
  that, since a data error may quote a cell);
- ``sign_in`` and ``denied``: a signed-in session, and a role it lacked.

The file is `DVA_AUDIT_LOG` (default ``access.jsonl`` in the user's log folder). Lines
are appended under an exclusive lock, so replicas may share one file.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import platformdirs
import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

from analytics.model.view import View

ENV_KEY = "DVA_AUDIT_LOG"
_LAST = "_audit_last"  # what this session last logged, so a rerun logs nothing new


def log_path(environ: Mapping[str, str] = os.environ) -> Path:
    configured = environ.get(ENV_KEY, "")
    if configured:
        return Path(configured).expanduser()
    return Path(platformdirs.user_log_dir("dva-outcomes", appauthor=False)) / "access.jsonl"


def append(record: Mapping[str, Any], path: Path | None = None) -> None:
    """One line, appended whole under an exclusive lock."""
    target = path or log_path()
    target.parent.mkdir(parents=True, exist_ok=True)
    line = json.dumps(
        {"time": datetime.now(UTC).isoformat(timespec="milliseconds"), **record},
        ensure_ascii=False,
        default=str,
    )
    with open(target, "a", encoding="utf-8") as out:
        fcntl.flock(out, fcntl.LOCK_EX)
        try:
            out.write(line + "\n")
        finally:
            fcntl.flock(out, fcntl.LOCK_UN)


def who() -> dict[str, str]:
    """The user and the browser session of this run."""
    user = "anonymous"
    try:
        if st.user.is_logged_in:
            user = str(st.user.get("email") or st.user.get("sub") or "signed in")
    except Exception:  # no sign-in configured, or no request (a test without a server)
        pass
    ctx = get_script_run_ctx()
    sid = ctx.session_id if ctx is not None else "none"
    # the session id is a secret of the browser's connection: logged as its digest
    return {"user": user, "session": hashlib.sha256(sid.encode()).hexdigest()[:16]}


def _once(kind: str, what: Mapping[str, Any]) -> None:
    """Log `what` unless this session logged the same `kind` of record last."""
    seen: dict[str, Any] = st.session_state.setdefault(_LAST, {})
    if seen.get(kind) == what:
        return
    seen[kind] = dict(what)
    append({"event": kind, **who(), **what})


def opened(source: str, fingerprint: str, registry: bool, protection: bool) -> None:
    _once(
        "open",
        {
            "data": source,
            "fingerprint": fingerprint,
            "registry": registry,
            "small_cell_protection": protection,
        },
    )


def viewed(page: str, view: View) -> None:
    _once("view", {"page": page, "view": view.url_query()})


def uploaded(
    files: Sequence[tuple[str, int]], fingerprint: str, accepted: bool, reason: str = ""
) -> None:
    append(
        {
            "event": "upload",
            **who(),
            "files": [{"name": n, "bytes": b} for n, b in files],
            "bytes": sum(b for _, b in files),
            "fingerprint": fingerprint,
            "accepted": accepted,
            "reason": reason,
        }
    )


def denied(action: str) -> None:
    append({"event": "denied", **who(), "action": action})
