"""A figure as a slide-ready PNG, an SVG, and the numbers behind it as CSV.

Images are rendered by kaleido 1.x in headless Chromium (Debian's ``/usr/bin/chromium``
is found on its own). Starting Chromium costs about 4 s, so one browser is started
once per process and reused for every image: kaleido's own sync server
(``kaleido.start_sync_server``), which every ``kaleido.calc_fig_sync`` call then goes
through. It is started lazily by the first export, or explicitly with
:func:`start_browser` / the :func:`browser` context manager, and closed by
:func:`stop_browser` (kaleido also closes it at exit).

Why not ``fig.to_image``: with the server running, plotly passes its default request
headers as kaleido options, which the server ignores with a ``UserWarning`` on every
call. The options plotly would pass are given to the server once instead, with MathJax
off: it would be fetched from a CDN (the figures use no LaTeX), which stalls offline.

The server runs one render at a time and is not safe for concurrent callers (answers
could be swapped between threads), so calls are serialised with a lock: Streamlit
serves every session from threads of one process.

CSV: one long table, one row per plotted point, with the columns each trace declares
(``meta["csv"]``, see :mod:`charts._curves`): ``section`` (curve, censored, risk table,
landmark, median, density, subgroup ...), ``group``, ``series``, then the values. It
is preceded by comment lines starting with ``#``: the title, the provenance footnote,
and a note on how the curves were thinned. Read it back with
``pandas.read_csv(f, comment="#")``.
"""

from __future__ import annotations

import io
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import kaleido  # type: ignore[import-untyped]
import numpy as np
import pandas as pd
import plotly.graph_objects as go
from kaleido.errors import ChromeNotFoundError  # type: ignore[import-untyped]

from analytics.report.frames import write_csv

__all__ = [
    "DEFAULT_HEIGHT",
    "DEFAULT_SCALE",
    "DEFAULT_WIDTH",
    "browser",
    "browser_running",
    "figure_table",
    "start_browser",
    "stop_browser",
    "to_csv",
    "to_png",
    "to_svg",
]

DEFAULT_WIDTH = 1600  # layout pixels of a 16:9 slide
DEFAULT_HEIGHT = 900
DEFAULT_SCALE = 2  # 3200 x 1800 physical pixels: sharp on a projector and when zoomed
RENDER_TIMEOUT = 90  # seconds per image

_lock = threading.RLock()
_started_here = False

THINNING_NOTE = (
    "Curves as plotted: points where the estimate or its CI moves by at least 0.1 "
    "percentage point (values exact at those times; the drawing is within 0.1 point "
    "of the full curve everywhere); censor marks thinned likewise."
)


def browser_running() -> bool:
    # kaleido exposes no public accessor for its singleton server's state.
    return bool(kaleido._global_server.is_running())


def start_browser() -> None:
    """Start the shared headless Chromium, unless it already runs (about 4 s)."""
    global _started_here
    with _lock:
        if browser_running():
            return
        kaleido.start_sync_server(mathjax=False, timeout=RENDER_TIMEOUT, silence_warnings=True)
        _started_here = True


def stop_browser() -> None:
    """Close the shared Chromium if this module started it."""
    global _started_here
    with _lock:
        if _started_here and browser_running():
            kaleido.stop_sync_server(silence_warnings=True)
        _started_here = False


@contextmanager
def browser() -> Iterator[None]:
    """One Chromium for every export inside the block; closed after it unless it was
    already running before."""
    was_running = browser_running()
    start_browser()
    try:
        yield
    finally:
        if not was_running:
            stop_browser()


def _size(fig: go.Figure, width: int | None, height: int | None) -> tuple[int, int]:
    w = width or fig.layout.width or DEFAULT_WIDTH
    h = height or fig.layout.height or DEFAULT_HEIGHT
    return int(w), int(h)


def _render(fig: go.Figure, fmt: str, width: int | None, height: int | None, scale: float) -> bytes:
    w, h = _size(fig, width, height)
    with _lock:
        start_browser()
        try:
            out = kaleido.calc_fig_sync(
                fig.to_dict(), opts={"format": fmt, "width": w, "height": h, "scale": scale}
            )
        except ChromeNotFoundError as exc:  # pragma: no cover - depends on the machine
            raise RuntimeError(
                "image export needs Chromium: install Debian's chromium (make chromium)"
            ) from exc
    if isinstance(out, str):
        out = out.encode()
    return bytes(out)


def to_png(
    fig: go.Figure,
    width: int | None = None,
    height: int | None = None,
    scale: float = DEFAULT_SCALE,
) -> bytes:
    """PNG bytes. Size in layout pixels: the figure's own (presentation theme 1600 x
    900) or 1600 x 900; `scale` 2 doubles the pixels for a sharp slide."""
    return _render(fig, "png", width, height, scale)


def to_svg(fig: go.Figure, width: int | None = None, height: int | None = None) -> bytes:
    """SVG bytes (UTF-8 XML), same layout size as :func:`to_png`."""
    return _render(fig, "svg", width, height, 1)


def _column(values: Any, n: int) -> np.ndarray:
    arr = np.asarray(values)
    if arr.dtype.kind in "fiub":
        return arr.astype(np.float64).reshape(n)
    return arr.astype(object).reshape(n)


def figure_table(fig: go.Figure) -> pd.DataFrame:
    """The numbers behind a figure made by :mod:`charts`, as one long table."""
    frames: list[pd.DataFrame] = []
    for trace in fig.data:
        meta = trace.meta
        if not isinstance(meta, dict) or not isinstance(meta.get("csv"), dict):
            continue
        spec = meta["csv"]
        xs = trace.x if trace.x is not None else trace.y
        n = 0 if xs is None else len(xs)
        if n == 0:
            continue
        cols: dict[str, Any] = {
            "section": [spec.get("section", "")] * n,
            "group": [spec.get("group", "")] * n,
            "series": [spec.get("series", "")] * n,
        }
        x_name = spec.get("x", "x")
        y_name = spec.get("y", "y")
        if x_name and trace.x is not None:
            cols[x_name] = _column(trace.x, n)
        if y_name and trace.y is not None:
            cols[y_name] = _column(trace.y, n)
        if spec.get("text") and trace.text is not None:
            cols[spec["text"]] = _column(trace.text, n)
        names = spec.get("columns") or []
        if names and trace.customdata is not None:
            custom = np.asarray(trace.customdata, dtype=np.float64).reshape(n, -1)
            for j, name in enumerate(names):
                cols[name] = custom[:, j]
        frames.append(pd.DataFrame(cols))
    meta = fig.layout.meta if isinstance(fig.layout.meta, dict) else {}
    summary = meta.get("summary")
    if summary:
        frames.append(pd.DataFrame([{"group": "", **row} for row in summary]))
    if not frames:
        return pd.DataFrame(columns=["section", "group", "series"])
    return pd.concat(frames, ignore_index=True, sort=False)


def _comment(text: str) -> str:
    return "# " + " ".join(str(text).split())


def to_csv(fig: go.Figure) -> bytes:
    """The numbers behind a figure as UTF-8 CSV: comment lines (title, provenance
    footnote, thinning note) then one long table (see the module docstring)."""
    meta = fig.layout.meta if isinstance(fig.layout.meta, dict) else {}
    lines = []
    if meta.get("title"):
        lines.append(_comment(meta["title"]))
    if meta.get("footnote"):
        lines.append(_comment(meta["footnote"]))
    table = figure_table(fig)
    if (table["section"] == "curve").any():
        lines.append(_comment(THINNING_NOTE))
    buf = io.StringIO()
    buf.write("\n".join(lines) + ("\n" if lines else ""))
    write_csv(table, buf, float_format="%.10g")
    return buf.getvalue().encode("utf-8")
