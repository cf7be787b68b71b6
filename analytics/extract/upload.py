"""An extract uploaded in the browser, made safe before it is read: saved into a new
temporary folder (never the project folder, never the demo), zips unpacked within
limits, and each table file inspected for the mapping form.

The folder comes from `tempfile.mkdtemp` and holds ``files/`` (the extract as
uploaded, a zip unpacked) and ``db/`` (its DuckDB database). It is removed when
dropped (the app drops it when the upload is replaced or discarded, and when the
session ends).

Limits (`analytics.extract.limits`, the deployment's): 200 MB in all per upload; a zip
may unpack to at most 1 GB in at most 2000 files, and no member may point outside the
folder (absolute paths, ``..``, links); each table file at most 2,000,000 rows, 500
columns and lines of 1 MB, checked on the saved files before any is read.
"""

from __future__ import annotations

import hashlib
import io
import shutil
import tempfile
import weakref
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Protocol

import duckdb

from analytics.extract.discovery import DATA_SUFFIXES, Source, table_of, visible
from analytics.extract.issues import DataError
from analytics.extract.limits import Limits, problem, shape
from analytics.extract.mapping import MAPPING_NAMES, ExtractMapping, find_mapping, load_mapping
from analytics.extract.stage import stage
from analytics.extract.typed import text_expr

MB = 1 << 20
MAX_MEMBERS = 2000  # files in a zip
DATA_TYPES = tuple(s.lstrip(".") for s in DATA_SUFFIXES)
# what the uploader accepts: the table formats, a mapping file, the manifest, a zip
ACCEPTED = (*DATA_TYPES, "toml", "yaml", "yml", "json", "zip")
MAX_CODES = 30  # a column with more distinct values than this is not offered recodes


class UploadError(ValueError):
    """An upload refused before it is read: the message says which file and why."""


class UploadedFile(Protocol):
    """What `st.file_uploader` returns per file (tests pass their own)."""

    name: str

    def getvalue(self) -> bytes: ...


class Folder:
    """The session's temporary folder, removed when dropped, replaced or at exit."""

    def __init__(self, parent: Path | None = None) -> None:
        self.path = Path(tempfile.mkdtemp(prefix="dva-upload-", dir=parent))
        self._remove = weakref.finalize(self, shutil.rmtree, str(self.path), True)

    def remove(self) -> None:
        self._remove()


@dataclass(frozen=True)
class SavedUpload:
    """An upload saved to its folder, not yet opened."""

    folder: Folder = field(compare=False)
    root: Path  # the extract inside folder/files (a zip's single top folder, if any)
    files: tuple[str, ...]  # names as uploaded
    size: int  # bytes uploaded
    digest: str = ""  # SHA-256 of the files as uploaded, in order (the access log's)


def _safe_name(name: str) -> str:
    """The bare file name of an uploaded file; anything path-like is refused."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    if not base or base in (".", "..") or "\0" in base:
        raise UploadError(f"{name!r} is not a usable file name.")
    return base


def save(files: Sequence[UploadedFile], parent: Path | None = None) -> SavedUpload:
    """Write `files` into a new temporary folder (zips unpacked).

    `parent` is where the folder is made (default the system's temporary folder).
    Raises UploadError, leaving nothing behind, when the upload breaks a limit.
    """
    if not files:
        raise UploadError("No files were uploaded.")
    try:
        limits = Limits.from_environ()
    except ValueError as exc:
        raise UploadError(f"The server's upload limits are misconfigured: {exc}.") from None
    folder = Folder(parent)
    try:
        dest = folder.path / "files"
        dest.mkdir()
        seen: dict[str, str] = {}
        total = 0
        digest = hashlib.sha256()
        for f in files:
            name = _safe_name(f.name)
            suffix = Path(name).suffix.lower().lstrip(".")
            if suffix not in ACCEPTED:
                raise UploadError(
                    f"{name}: not a file the dashboard reads (accepted: "
                    f"{', '.join('.' + s for s in ACCEPTED)})."
                )
            if name.lower() in seen:
                raise UploadError(f"{name} and {seen[name.lower()]} were both uploaded; keep one.")
            seen[name.lower()] = name
            data = f.getvalue()
            total += len(data)
            digest.update(hashlib.sha256(data).digest())
            if total > limits.upload_mb * MB:
                raise UploadError(
                    f"The upload is larger than {limits.upload_mb} MB in all; for larger "
                    "extracts configure a data folder instead (see the README)."
                )
            if suffix == "zip":
                unzip(data, dest, name, limits.unpacked_mb)
            else:
                (dest / name).write_bytes(data)
        check_shapes(dest, limits)
        names = tuple(f.name for f in files)
        return SavedUpload(folder, extract_root(dest), names, total, digest.hexdigest())
    except BaseException:
        folder.remove()
        raise


def _member_path(info: zipfile.ZipInfo, label: str) -> PurePosixPath | None:
    """Where a zip member goes, relative to the destination; None for what is skipped
    (folders, hidden files, macOS resource forks). Refuses anything leaving the folder."""
    name = info.filename.replace("\\", "/")
    path = PurePosixPath(name)
    if path.is_absolute() or (path.parts and ":" in path.parts[0]) or ".." in path.parts:
        raise UploadError(f"{label}: the member {info.filename!r} points outside the folder.")
    if (info.external_attr >> 16) & 0o170000 == 0o120000:
        raise UploadError(f"{label}: the member {info.filename!r} is a link; links are refused.")
    if info.is_dir() or not path.parts:
        return None
    if any(p.startswith(".") or p == "__MACOSX" for p in path.parts):
        return None
    return path


def check_shapes(dest: Path, limits: Limits) -> None:
    """Every table file's rows, columns and longest line within `limits`, read from its
    header or footer; a file whose shape cannot be read is left to the loader, whose
    report names what is wrong with it."""
    for path in sorted(dest.rglob("*")):
        kind = DATA_SUFFIXES.get(path.suffix.lower())
        if kind is None or not path.is_file() or path.name.startswith((".", "~$")):
            continue
        try:
            found = shape(path, kind)
        except Exception:
            continue
        refused = problem(path.relative_to(dest).as_posix(), found, limits)
        if refused is not None:
            raise UploadError(refused)


def unzip(data: bytes, dest: Path, label: str = "the zip", unpacked_mb: int = 1024) -> None:
    """Unpack a zip into `dest`, within `unpacked_mb` and `MAX_MEMBERS` (counted while
    unpacking, since a zip's declared sizes may lie)."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        raise UploadError(f"{label}: not a valid zip file.") from None
    with archive:
        members = archive.infolist()
        if len(members) > MAX_MEMBERS:
            raise UploadError(f"{label}: holds more than {MAX_MEMBERS} files.")
        limit = unpacked_mb * MB
        if sum(m.file_size for m in members) > limit:
            raise UploadError(f"{label}: unpacks to more than {unpacked_mb} MB.")
        written = 0
        root = dest.resolve()
        for info in members:
            rel = _member_path(info, label)
            if rel is None:
                continue
            target = dest.joinpath(*rel.parts)
            if not target.resolve().is_relative_to(root):
                raise UploadError(f"{label}: the member {info.filename!r} points outside.")
            if target.exists():
                raise UploadError(f"{label}: {rel} is in the upload twice.")
            target.parent.mkdir(parents=True, exist_ok=True)
            try:
                with archive.open(info) as src, target.open("wb") as out:
                    while chunk := src.read(MB):
                        written += len(chunk)
                        if written > limit:
                            raise UploadError(f"{label}: unpacks to more than {unpacked_mb} MB.")
                        out.write(chunk)
            except (RuntimeError, NotImplementedError, zipfile.BadZipFile, OSError) as exc:
                # encrypted members, unknown compression, a corrupt member
                raise UploadError(f"{label}: {rel} cannot be unpacked ({exc}).") from None


def extract_root(folder: Path) -> Path:
    """The extract inside `folder`: a zip of one folder holds its extract in that folder."""
    entries = visible(folder)
    while len(entries) == 1 and entries[0].is_dir():
        folder = entries[0]
        entries = visible(folder)
    return folder


def write_mapping(root: Path, mapping: ExtractMapping) -> Path:
    """`mapping` as root/mapping.toml, replacing any mapping file there (two would be an
    error, and the form started from the old one)."""
    for name in MAPPING_NAMES:
        (root / name).unlink(missing_ok=True)
    path = root / "mapping.toml"
    path.write_text(mapping.to_toml(), encoding="utf-8")
    return path


def existing_mapping(root: Path) -> ExtractMapping | None:
    """The mapping file beside the upload, if any and readable (the form starts from it)."""
    try:
        path = find_mapping(root)
        return load_mapping(path) if path is not None else None
    except DataError:
        return None


@dataclass(frozen=True)
class SourceColumns:
    """One table file (or sheet) of an upload, as read, before any mapping."""

    key: str  # the file stem or sheet name: what [files] maps to a table
    label: str  # the file (and sheet) as the user knows it
    table: str | None  # the table it holds by its name (or the mapping's [files]), if any
    columns: tuple[str, ...]
    values: Mapping[str, tuple[str, ...]]  # column -> distinct values (text), if few
    rows: int


def _data_files(root: Path) -> list[tuple[Path, str]]:
    """(file, label) of every table file: the root's, or each sub-folder's (a registry)."""

    def files(folder: Path, prefix: str) -> list[tuple[Path, str]]:
        return [
            (p, prefix + p.name)
            for p in visible(folder)
            if p.is_file() and p.suffix.lower() in DATA_SUFFIXES
        ]

    own = files(root, "")
    if own:
        return own
    return [f for sub in visible(root) if sub.is_dir() for f in files(sub, f"{sub.name}/")]


def _sheets(path: Path) -> list[str]:
    import openpyxl

    book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    try:
        return list(book.sheetnames)
    finally:
        book.close()


def _sources(root: Path, mapping: ExtractMapping | None) -> list[tuple[Source, str]]:
    out: list[tuple[Source, str]] = []
    for path, label in _data_files(root):
        fmt = DATA_SUFFIXES[path.suffix.lower()]
        table = table_of(path.stem, mapping)
        if fmt != "xlsx":
            out.append((Source(table or "", path, fmt, label), path.stem))
            continue
        sheets = _sheets(path)
        if table is not None:
            named = [s for s in sheets if s.lower() == table] or sheets[:1]
            out += [(Source(table, path, fmt, f"{label}, sheet {s}", s), path.stem) for s in named]
        else:
            out += [(Source("", path, fmt, f"{label}, sheet {s}", s), s) for s in sheets]
    return out


def inspect(root: Path, mapping: ExtractMapping | None = None) -> tuple[SourceColumns, ...]:
    """Every table file of the upload with its column names and, for columns with at
    most MAX_CODES distinct values, those values as the loader reads them as text."""
    out: list[SourceColumns] = []
    with tempfile.TemporaryDirectory(prefix="dva-inspect-") as work, duckdb.connect() as con:
        con.execute("SET enable_progress_bar = false")
        for n, (source, key) in enumerate(_sources(root, mapping)):
            try:
                staged = stage(con, source, f"s{n}", Path(work))
            except DataError:
                continue  # the loader's report names the file and why
            values: dict[str, tuple[str, ...]] = {}
            for i, (name, sql_type) in enumerate(zip(staged.names, staged.types, strict=True)):
                text = text_expr(f"c{i + 1}", sql_type)
                rows = con.execute(
                    f'SELECT DISTINCT {text} AS v FROM "s{n}" WHERE __err IS NULL '
                    f"AND {text} IS NOT NULL AND {text} <> '' ORDER BY v LIMIT {MAX_CODES + 1}"
                ).fetchall()
                if len(rows) <= MAX_CODES:
                    values[name] = tuple(str(r[0]) for r in rows)
            out.append(
                SourceColumns(
                    key,
                    source.label,
                    source.table or None,
                    tuple(staged.names),
                    values,
                    staged.rows,
                )
            )
    return tuple(out)
