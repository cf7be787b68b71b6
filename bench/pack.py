"""Benchmark of the committee pack: prints a Markdown table of medians measured in one run.

    .venv/bin/python bench/pack.py            # 5 cold runs of each
    .venv/bin/python bench/pack.py --quick    # one run of each (used by the tests)

A 10-card pack of the demo (every kind but the overview) written as PowerPoint by
``python -m analytics pack`` in a new process each time, so every run pays for Python,
the imports, opening the data and starting Chromium: the cold case. Beside it, measured
in the same run, the plain approach: the same cards' figures each exported as a slide
image on its own (one Chromium started per image, as a figure's own export does without
a shared browser), with no deck written at all.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

KINDS = (
    "afs",
    "primary",
    "patency",
    "subgroups",
    "wounds",
    "rutherford",
    "table1",
    "table2",
    "sites",
    "audit",
)
TARGET_S = 20.0

PLAIN = """
import kaleido
from analytics.model.basket import Basket
from analytics.model.view import View
from analytics.report.protect import Protection
from analytics.store import Store
from pack.cards import build_card
store = Store.open()
basket = Basket.standard(View(), {kinds!r})
figures = [c.figure for c in (build_card(store, k, Protection()) for k in basket.cards)]
for fig in figures:
    if fig is not None:
        kaleido.calc_fig_sync(fig, opts={{"format": "png", "width": 1600, "height": 900,
                                          "scale": 1.5}})
"""


def _wall(args: list[str]) -> float:
    start = time.perf_counter()
    done = subprocess.run(args, cwd=ROOT, capture_output=True, text=True, check=False)
    took = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(args[:4])} failed:\n{done.stderr}")
    return took


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="one run of each")
    args = parser.parse_args()
    repeats = 1 if args.quick else args.repeats
    with tempfile.TemporaryDirectory() as work:
        out = Path(work) / "pack.pptx"
        cards = [a for k in KINDS for a in ("--card", f"kind={k}")]
        pack_cmd = [sys.executable, "-m", "analytics", "pack", *cards, "--out", str(out)]
        plain_cmd = [sys.executable, "-c", PLAIN.format(kinds=KINDS)]
        packs, plains = [], []
        for _ in range(repeats):  # alternated, so a busy machine slows both alike
            packs.append(_wall(pack_cmd))
            plains.append(_wall(plain_cmd))
        size_mb = out.stat().st_size / 1e6
    pack_s, plain_s = statistics.median(packs), statistics.median(plains)
    print(
        f"Committee pack of {len(KINDS)} cards on the demo, cold process, median of "
        f"{repeats} run(s)\n"
    )
    print("| what | median (s) | ratio to plain | runs (s) |")
    print("| --- | ---: | ---: | --- |")
    print(
        f"| pack: deck written, one browser for every image | {pack_s:.1f} | "
        f"{pack_s / plain_s:.2f} | {', '.join(f'{t:.1f}' for t in packs)} |"
    )
    print(
        f"| plain: each figure's image on its own browser, no deck | {plain_s:.1f} | 1.00 | "
        f"{', '.join(f'{t:.1f}' for t in plains)} |"
    )
    print(
        f"\nDeck: {size_mb:.1f} MB. Target: under {TARGET_S:g} s "
        f"({'met' if pack_s < TARGET_S else 'NOT met'})."
    )


if __name__ == "__main__":
    main()
