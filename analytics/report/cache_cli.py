"""``python -m analytics cache list|prune``: the cache of built databases, shown and trimmed.

`add_parser` registers the ``cache`` subcommand on the command line's subparsers and `run`
carries it out. Both print a readable table, never JSON, and exit 0; a bad option or a
bad `DVA_CACHE_MAX_BYTES` ends with exit code 2 and one sentence on stderr.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from analytics.report import arguments
from analytics.store import cache

PROG = "python -m analytics cache"

DESCRIPTION = f"""\
The databases built from extracts are kept in a cache folder ({cache.CACHE_ENV} when set,
else the user's cache folder for {cache.APP_NAME}) so that the next run opens them at once.
After each build the least recently used ones are removed until the folder is under its
size limit ({cache.LIMIT_ENV}, default {cache.DEFAULT_MAX_BYTES} bytes). A database that a
running dashboard or command has open is never removed.
"""

EPILOG = """\
examples:
  python -m analytics cache list
  python -m analytics cache prune                        (down to the size limit)
  python -m analytics cache prune --max-bytes 500000000
  python -m analytics cache prune --all                  (everything not in use)
"""

HEADER = ("source", "size", "last used", "in use", "file")


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register ``cache`` (with ``list`` and ``prune``) on an argparse subparsers object."""
    c = arguments.command(
        subparsers,
        "cache",
        help="list or prune the cache of built databases",
        description=DESCRIPTION,
        epilog=EPILOG,
    )
    actions = c.add_subparsers(dest="cache_command", required=True, parser_class=arguments.Parser)
    actions.add_parser(
        "list",
        help="show each database: source, size, last used, in use",
        description="Show each database in the cache folder, least recently used first.",
    )
    p = actions.add_parser(
        "prune",
        help="remove databases down to the size limit, or all not in use",
        description="Remove the least recently used databases until the cache folder is "
        "under its size limit (or --max-bytes), or every database not in use (--all); "
        "files of builds that crashed over an hour ago go too.",
    )
    how = p.add_mutually_exclusive_group()
    how.add_argument(
        "--max-bytes",
        type=arguments.whole_number(0),
        metavar="N",
        help=f"size limit in bytes for this prune (default: {cache.LIMIT_ENV} or "
        f"{cache.DEFAULT_MAX_BYTES})",
    )
    how.add_argument("--all", action="store_true", help="remove every database not in use")
    return c


def human_size(n: int) -> str:
    """Bytes in the largest binary unit that keeps the number at least 1 (1.5 MiB)."""
    size = float(n)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{n} B" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    raise AssertionError("unreachable")


def _when(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M")


def _row(entry: cache.CacheEntry) -> tuple[str, ...]:
    return (
        entry.source or "(unreadable)",
        human_size(entry.size),
        _when(entry.last_used),
        "yes" if entry.in_use else "no",
        entry.name,
    )


def table(rows: Sequence[Sequence[str]], header: Sequence[str] = HEADER) -> str:
    """Columns padded to their widest cell; the last column is not padded."""
    widths = [max(len(r[i]) for r in (header, *rows)) for i in range(len(header) - 1)]
    lines = []
    for r in (header, *rows):
        cells = [c.ljust(w) for c, w in zip(r, widths, strict=False)] + [r[-1]]
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines)


def list_text() -> str:
    folder = cache.cache_folder()
    found = cache.entries(folder)
    total = sum(e.size for e in found)
    head = (
        f"Cache folder {folder}: {len(found)} database(s), {human_size(total)} of a "
        f"{human_size(cache.max_bytes())} limit."
    )
    if not found:
        return head
    return head + "\n\n" + table([_row(e) for e in found])


def prune_text(max_bytes: int | None, everything: bool) -> str:
    folder = cache.cache_folder()
    limit = cache.max_bytes() if max_bytes is None else max_bytes
    done = cache.prune(folder, limit=limit, everything=everything)
    lines = []
    if done.removed:
        lines += [f"Removed {len(done.removed)} database(s), {human_size(done.freed_bytes)}:"]
        lines += ["", table([_row(e) for e in done.removed]), ""]
    else:
        lines.append("Removed no database.")
    if done.kept_in_use:
        lines += [f"Kept {len(done.kept_in_use)} database(s) in use by a running app or command:"]
        lines += ["", table([_row(e) for e in done.kept_in_use]), ""]
    if done.abandoned:
        names = ", ".join(p.name for p in done.abandoned)
        lines.append(f"Removed {len(done.abandoned)} file(s) of builds that crashed: {names}.")
    goal = "nothing not in use" if everything else f"a {human_size(limit)} limit"
    now = human_size(done.remaining_bytes)
    lines.append(f"The cache folder {folder} now holds {now} ({goal}).")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    try:
        listing = args.cache_command == "list"
        text = list_text() if listing else prune_text(args.max_bytes, args.all)
    except ValueError as exc:  # a bad DVA_CACHE_MAX_BYTES
        return arguments.fail(f"{PROG}: {exc}")
    except Exception as exc:  # an engine fault: say so in one line, never a traceback
        return arguments.internal_error(PROG, exc)
    arguments.write(text)
    return 0
