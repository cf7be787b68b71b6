"""Safety cards from the Patients page: adverse events (patients with any, serious and
device-related events, by term and by group) and deaths by cause."""

from __future__ import annotations

import pandas as pd

from analytics.analyses.safety import SafetySummary, safety_view
from analytics.model.basket import Card
from analytics.report.protect import Protection
from analytics.store import Store
from pack import frames
from pack.by_group import group_table
from pack.content import Content, Table, content_for
from ui import fmt
from ui.group_cells import adverse_cells

AE_COUNTS = [
    "Patients",
    "Events",
    "Serious: patients",
    "Serious: events",
    "Device-related: patients",
    "Device-related: events",
    "Fatal events",
]


def _patients(ae: SafetySummary) -> pd.DataFrame:
    """Patients with any, serious and device-related adverse events, and without."""
    rows = [
        (name, n, ae.n - n, ae.n, frames.percent(ae.share(n)))
        for name, n in (
            ("Any adverse event", ae.any_patients),
            ("Serious adverse event", ae.serious_patients),
            ("Device- or procedure-related", ae.device_patients),
        )
    ]
    frame = pd.DataFrame(rows, columns=["Adverse events", "With", "Without", "Patients", "Share"])
    return frame.astype({c: str for c in ("With", "Without", "Patients")})


def adverse_events(store: Store, card: Card, protect: Protection) -> Content:
    v = card.view
    day = None if card.option("window") == "whole" else v.landmark
    ae = safety_view(store, v.filters, day)[0]
    window = "whole follow-up" if day is None else f"onset by day {day:g} ({fmt.months(day)})"
    patients = protect.frame(
        _patients(ae),
        ["With", "Without"],
        column_totals=False,
        row_parts=["With", "Without"],
        row_total="Patients",
        derived={"With": ["Share"], "Without": ["Share"]},
    )
    tables = [Table(f"patients, {window}", patients)]
    if ae.events:
        terms = ae.to_frame()
        terms["Term"] = [store.labels.value("AETERM", t) for t in terms["Term"]]
        terms["Share of patients"] = [frames.percent(x) for x in terms["Share of patients"]]
        shown = protect.frame(
            frames.texts(terms, terms.columns),
            AE_COUNTS,
            derived={"Patients": ["Share of patients"]},
        )
        tables.append(Table(f"by term, {window}", shown))
    grouped = group_table(
        store, card, protect, lambda f: adverse_cells(safety_view(store, f, day)[0])
    )
    if grouped is not None:
        tables.append(grouped)
    return content_for(
        store,
        card,
        tables=tuple(tables),
        methods=(ae.provenance.method,),
        provenance=ae.provenance,
    )


def deaths(store: Store, card: Card, protect: Protection) -> Content:
    dead = safety_view(store, card.view.filters, None)[2]
    if dead.deaths == 0:
        return content_for(store, card, withheld="No deaths among the patients in view.")
    frame = dead.to_frame()
    frame["Cause of death"] = [store.labels.value("DTHCAUS", c) for c in frame["Cause of death"]]
    frame["Share of deaths"] = [frames.percent(x) for x in frame["Share of deaths"]]
    total = pd.DataFrame(
        [("All causes", dead.deaths, dead.n - dead.deaths, dead.n)],
        columns=["Outcome", "Died", "Alive", "Patients"],
    )
    return content_for(
        store,
        card,
        tables=(
            Table(
                "whole follow-up",
                protect.frame(
                    frames.texts(total, total.columns),
                    ["Died", "Alive"],
                    column_totals=False,
                    row_parts=["Died", "Alive"],
                    row_total="Patients",
                ),
            ),
            Table(
                "by cause",
                protect.frame(
                    frames.texts(frame, frame.columns),
                    ["Patients"],
                    derived={"Patients": ["Share of deaths"]},
                ),
            ),
        ),
        methods=(dead.provenance.method,),
        provenance=dead.provenance,
    )
