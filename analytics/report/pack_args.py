"""``python -m analytics pack``: the committee pack of a view or a basket of cards, as
PowerPoint or PDF. The arguments are read here; the pack itself is built by the `pack`
package (it draws figures, which the headless engine does not), which the command
line's entry point hands to `analytics.report.cli.main`."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from analytics.model.basket import KINDS
from analytics.report import arguments
from analytics.store import DEMO_DIR, ENGINES

FORMATS = (".pptx", ".pdf")

DESCRIPTION = (
    """\
Write a committee pack: a title slide, one or more slides per card (figures as images,
survival curves also as editable charts, tables as editable tables, methods and
comments in the speaker notes) and a provenance slide (data fingerprint, software
versions, the views, the dashboard link that reproduces the pack). With no --card the
pack is the standard set for the --view: """
    + ", ".join(KINDS)
    + """.

Small-cell protection follows the deployment's setting (DVA_SMALL_CELLS: on, off or
auto; auto protects registry extracts and extracts whose manifest asks for it).
"""
)

EPILOG = """\
examples:
  python -m analytics pack --out pack.pptx
  python -m analytics pack --view "DIALFL=N&compare=SEX" --out no-dialysis.pdf
  python -m analytics pack --card "kind=afs&DIALFL=N" --card "kind=table1" --out two.pptx
  python -m analytics pack --view "$(cat view.txt)" --data path/to/registry --out reg.pptx

A --view or --card is the query text of a dashboard link (the part after "?"): copy it
from the browser. The report page's link holds one card= parameter per card.
"""


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    p = arguments.command(
        subparsers,
        "pack",
        help="write a committee pack (PowerPoint or PDF)",
        description=DESCRIPTION,
        epilog=EPILOG,
    )
    p.add_argument("--view", default="", metavar="QUERY", help="the view of the standard pack")
    p.add_argument(
        "--card",
        action="append",
        default=[],
        metavar="QUERY",
        help="one card (kind=KIND&title=...&note=... and its view), repeatable, in order",
    )
    p.add_argument(
        "--data",
        type=Path,
        default=DEMO_DIR,
        metavar="PATH",
        help="the extract (default: the bundled synthetic demo)",
    )
    p.add_argument("--mapping", type=Path, metavar="FILE", help="mapping file of the extract")
    arguments.add_engine(p, ENGINES)
    p.add_argument("--out", type=Path, required=True, metavar="FILE", help="FILE.pptx or FILE.pdf")
    p.add_argument(
        "--base-url",
        default="",
        metavar="URL",
        help="the dashboard's address, for the link on the provenance slide",
    )
    return p


def check_out(out: Path) -> str | None:
    """Why `out` cannot be written, or None."""
    if out.suffix.lower() not in FORMATS:
        return f"--out {out}: the pack is written as .pptx or .pdf"
    if not out.parent.is_dir():
        return f"--out {out}: no folder {out.parent}"
    return None
