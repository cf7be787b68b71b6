"""``python -m analytics pack``: the pack of a view or of cards, written to a file."""

from __future__ import annotations

import argparse
import sys

from analytics.extract import DataError
from analytics.model.basket import Basket
from analytics.model.view import View
from analytics.report import arguments
from analytics.report.pack_args import check_out
from analytics.store import EngineError, Store
from pack.build import build_pack
from pack.pdf import write_pdf
from pack.slides import write_pptx

PROG = "python -m analytics pack"


def run(args: argparse.Namespace) -> int:
    problem = check_out(args.out)
    if problem:
        return arguments.fail(f"{PROG}: {problem}")
    view = View.from_text(args.view)
    basket = Basket.from_query(args.card)
    problems = [
        *(f"--view: {p}" for p in view.problems),
        *(f"--card: {p}" for p in basket.problems),
    ]
    if problems:
        return arguments.fail(f"{PROG}: " + "; ".join(problems))
    store = None
    try:
        store = Store.open(args.data, args.mapping, engine=args.engine, master=args.spark_master)
        pack = build_pack(store, basket, view, base_url=args.base_url)
        data = write_pdf(pack) if args.out.suffix.lower() == ".pdf" else write_pptx(pack)
        args.out.write_bytes(data)
    except (DataError, EngineError) as exc:
        return arguments.fail(f"{PROG}: {exc}")
    except OSError as exc:
        return arguments.fail(f"{PROG}: cannot write {args.out}: {exc.strerror or exc}")
    except Exception as exc:  # an engine fault: one line, never a traceback
        return arguments.internal_error(PROG, exc)
    finally:
        if store is not None:
            store.close()
    cards = len(pack.contents)
    sys.stderr.write(f"{PROG}: {cards} cards written to {args.out}\n")
    return 0
