"""The session's uploaded extract: which upload it holds, opening it, replacing or
discarding it, and applying a mapping built in the form. Saving the files safely and
inspecting them is `analytics.extract.upload`; the folder is removed when the upload is
replaced or discarded, and when the session ends (the session state holding it is
collected).
"""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from analytics.extract.mapping import ExtractMapping
from analytics.extract.upload import SavedUpload, UploadedFile, UploadError, save, write_mapping
from ui import audit_trail
from ui.source import DataSource, Loaded, forget, open_source

_KEY = "_dva_upload"


@dataclass(frozen=True)
class Upload(SavedUpload):
    revision: int = 0  # incremented by each mapping applied
    opened: bool = False
    error: str = ""  # why it did not open, "" when it did (or was not tried)

    @property
    def key(self) -> str:
        """Unique per upload, for widget keys."""
        return self.folder.path.name

    def source(self) -> DataSource:
        return DataSource(
            "upload",
            self.root,
            "uploaded in this session",
            cache=self.folder.path / "db",
            revision=self.revision,
        )


def current(state: Mapping[str, Any]) -> Upload | None:
    """The session's upload, opened or not."""
    up = state.get(_KEY)
    return up if isinstance(up, Upload) else None


def active_source(state: Mapping[str, Any]) -> DataSource | None:
    """The source of the session's upload if it opened (then every page uses it)."""
    up = current(state)
    return up.source() if up is not None and up.opened else None


def _drop(up: Upload | None) -> None:
    if up is not None:
        forget(up.source())
        up.folder.remove()


def discard(state: MutableMapping[str, Any]) -> None:
    """Back to the configured data: the upload's store and folder are removed."""
    _drop(current(state))
    state.pop(_KEY, None)


def _attempt(up: Upload) -> tuple[Upload, Loaded]:
    loaded = open_source(up.source())
    return replace(up, opened=loaded.ok, error=loaded.error), loaded


def accept(state: MutableMapping[str, Any], files: Sequence[UploadedFile]) -> Upload:
    """Save `files` as the session's upload, replacing any earlier one, and try to open
    it. Raises UploadError (the earlier upload kept) when the files break a limit."""
    saved = save(files)
    up = Upload(saved.folder, saved.root, saved.files, saved.size, saved.digest)
    _drop(current(state))
    up, _ = _attempt(up)
    state[_KEY] = up
    return up


def accept_logged(state: MutableMapping[str, Any], files: Sequence[UploadedFile]) -> bool:
    """`accept`, with the upload in the access log; whether it opened. A refusal of a
    limit is logged with its reason (files and limits, never a cell); data that cannot
    be analysed only as such, since a data error may quote a cell."""
    sizes = [(str(f.name), len(f.getvalue())) for f in files]
    try:
        up = accept(state, files)
    except UploadError as exc:
        audit_trail.uploaded(sizes, "", accepted=False, reason=str(exc))
        raise
    except Exception:
        audit_trail.uploaded(sizes, "", accepted=False, reason="a fault of the server")
        raise
    reason = "" if up.opened else "the extract cannot be analysed"
    audit_trail.uploaded(sizes, up.digest, accepted=up.opened, reason=reason)
    return up.opened


def apply_mapping(state: MutableMapping[str, Any], mapping: ExtractMapping) -> Upload:
    """Write `mapping` as the upload's mapping.toml and open the upload again."""
    up = current(state)
    if up is None:
        raise UploadError("There is no upload to apply a mapping to.")
    write_mapping(up.root, mapping)
    forget(up.source())
    up, _ = _attempt(replace(up, revision=up.revision + 1))
    state[_KEY] = up
    return up


def needs_mapping(up: Upload) -> bool:
    """Whether the upload's own names are not enough: it did not open because a table
    or a required column was not found."""
    return not up.opened and any(
        phrase in up.error for phrase in ("required column", "missing required table")
    )
