"""Small-cell protection on a registry with small sites: on by default for a registry,
no count from 1 to 10 in any count field of the command line's JSON, the pack's tables,
the pages' tables and their downloads, and no withheld value that its row and column
totals give back.

The registry is the demo cohort split into two study folders by site: twenty sites of 1
to 17 patients, most of them under 11."""

from __future__ import annotations

import io
import json
import re

import docx
import numpy as np
import openpyxl
import pandas as pd
import pytest

from analytics.analyses.sites import compare_sites
from analytics.estimators.suppression import Line, recoverable
from analytics.model.basket import Basket, Card
from analytics.model.disclosure import Disclosure, decide
from analytics.model.filters import FilterState
from analytics.model.view import View
from analytics.report import cli
from analytics.report.documents import table_docx, table_xlsx
from analytics.report.frames import table_csv
from analytics.report.protect import COMPLEMENT, Protection
from analytics.report.protected import summary_doc
from analytics.store import Store
from pack import build_pack
from pack.cards import build_card
from tests.helpers import demo_registry

MARK = "<11"


@pytest.fixture(scope="module")
def registry(tmp_path_factory):
    return demo_registry(tmp_path_factory.mktemp("registry") / "registry")


@pytest.fixture(scope="module")
def store(registry, monkeypatch_module):
    monkeypatch_module.delenv("DVA_SMALL_CELLS", raising=False)
    return Store.open(registry)


@pytest.fixture(scope="module")
def monkeypatch_module():
    with pytest.MonkeyPatch.context() as mp:
        yield mp


def small(value: object) -> bool:
    """A count from 1 to 10 as a cell or a JSON value shows it."""
    if isinstance(value, bool):
        return False
    if isinstance(value, (int, np.integer)):
        return 1 <= int(value) <= 10
    if isinstance(value, float) and value.is_integer():
        return 1 <= value <= 10
    if isinstance(value, str) and re.fullmatch(r"\d{1,2}", value.strip()):
        return 1 <= int(value) <= 10
    return False


def small_in_text(text: str) -> list[str]:
    """Counts in a Table 1 value ("3/40 (7.5%); missing 2")."""
    counts = re.findall(r"(?<![\d.])(\d+)/(\d+)", text) + [
        (m,) for m in re.findall(r"missing (\d+)", text)
    ]
    return [c for pair in counts for c in pair if 1 <= int(c) <= 10]


# --- the setting ---------------------------------------------------------------------------


def test_a_registry_is_protected_by_default_and_a_trial_is_not(store, demo_store):
    assert store.disclosure.on
    assert store.disclosure.why == "a registry extract"
    assert not demo_store.disclosure.on


def test_the_deployment_decides_not_the_data():
    assert not decide({}, registry=True, environ={"DVA_SMALL_CELLS": "off"}).on
    assert decide({}, registry=False, environ={"DVA_SMALL_CELLS": "on"}).on
    assert decide({"small_cell_protection": True}, registry=False, environ={}).on
    assert not decide({"small_cell_protection": "yes"}, registry=False, environ={}).on


# --- the command line ----------------------------------------------------------------------


def json_counts(value, path=""):
    if isinstance(value, dict):
        for k, v in value.items():
            yield from json_counts(v, f"{path}.{k}")
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from json_counts(v, f"{path}[{i}]")
    elif path.rsplit(".", 1)[-1] in {
        "n",
        "events",
        "at_risk",
        "successes",
        "failures",
        "missing",
        "not_compared",
    }:
        yield path, value


@pytest.mark.parametrize("by", [None, "SITEID", "STUDYID", "DIALFL"])
def test_the_summary_json_holds_no_small_count(registry, by, capsys):
    args = ["summary", "--data", str(registry)] + (["--by", by] if by else [])
    assert cli.main(args) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["small_cell_protection"].startswith("Small-cell protection on")
    found = [(p, v) for p, v in json_counts(doc) if small(v)]
    assert not found
    if by == "SITEID":
        withheld = [k for k, g in doc["groups"].items() if "withheld" in g]
        assert len(withheld) >= 17  # every site under 11, and the complements


def test_a_cohort_under_the_threshold_shows_nothing_but_that():
    doc = {"cohort": {"n": 7, "n_total": 105}, "endpoints": {"AFS": {"n": 7, "events": 3}}}
    out = summary_doc(Protection(Disclosure(True)), doc)
    assert out["cohort"]["n"] == MARK
    assert "endpoints" not in out


# --- the pack ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def pack(store):
    return build_pack(store, Basket.standard(View()), render=False)


COUNT_COLUMNS = {
    "Patients",
    "n",
    "Events",
    "Known status",
    "At risk",
    "Assessed",
    "Healed",
    "Healing",
    "Not healing",
    "Event-free",
    "Event",
    "Followed for less",
}


def test_no_table_of_the_pack_shows_a_small_count(pack):
    checked = 0
    for content in pack.contents:
        tables = [t.frame for t in content.tables]
        if content.chart is not None and content.chart.at_risk is not None:
            tables.append(content.chart.at_risk)
        for frame in tables:
            for col in frame.columns:
                values = frame[col].tolist()
                if col in COUNT_COLUMNS or re.fullmatch(r"\d+(\.\d+)?", str(col)):
                    checked += len(values)
                    assert not [v for v in values if small(v)], (content.title, col)
                if col == "Value":
                    assert not [v for v in values if small_in_text(str(v))], content.title
    assert checked > 100
    sites = next(c for c in pack.contents if c.card.kind == "sites")
    assert MARK in sites.tables[0].frame["Patients"].tolist()


def test_a_withheld_site_cannot_be_worked_out_from_the_totals(pack, store):
    sites = next(c for c in pack.contents if c.card.kind == "sites").tables[0].frame
    truth = store.query(
        "SELECT SITEID, count(*) AS n FROM adsl GROUP BY SITEID ORDER BY SITEID"
    ).set_index("SITEID")["n"]
    shown = sites["Patients"].tolist()
    assert len(shown) == len(truth)
    values = [int(v) for v in truth.tolist()] + [int(truth.sum())]
    withheld = [s in (MARK, COMPLEMENT) for s in shown] + [False]  # the total is known
    line = [Line(tuple(range(len(shown))), len(shown))]
    assert sum(withheld) >= 2
    assert recoverable(values, withheld, line) == []


def test_the_pack_says_protection_was_on(pack):
    assert pack.disclosure.on
    notes = " ".join(m for c in pack.contents for m in c.methods)
    assert "small-cell protection" in notes


# --- the pages and their downloads ---------------------------------------------------------


def test_tables_and_downloads_of_the_pages_hold_no_small_count(registry, store):
    protect = Protection(store.disclosure)
    frame = protect.table(compare_sites(store, FilterState(), "afs").to_frame())
    for col in ("n", "Known", "Unknown", "Events", "Numerator"):
        assert not [v for v in frame[col] if small(v)], col
    csv = pd.read_csv(io.BytesIO(table_csv(frame, "Sites", "Filters: none")), comment="#")
    assert not [v for v in csv["n"] if small(v)]
    doc = docx.Document(io.BytesIO(table_docx(frame, "Sites", "Filters: none")))
    cells = [c.text for row in doc.tables[0].rows[1:] for c in row.cells[1:2]]
    assert not [v for v in cells if small(v)]
    book = openpyxl.load_workbook(io.BytesIO(table_xlsx(frame, "Sites", "Filters: none")))
    column = [r[1].value for r in book.active.iter_rows(min_row=6)]
    assert not [v for v in column if small(v)]


SAFETY_COUNTS = {
    "With",
    "Without",
    "Died",
    "Alive",
    "Patients",
    "Events",
    "Any",
    "Serious",
    "Device-related",
    "Serious: patients",
    "Serious: events",
    "Device-related: patients",
    "Device-related: events",
    "Fatal events",
}


def test_the_safety_and_evidence_cards_hold_no_small_count(store):
    protect = Protection(store.disclosure)
    made = [
        build_card(store, card, protect)
        for card in (
            Card("adverse_events", View.from_text("compare=RACE")),
            Card("adverse_events", View(), options=(("window", "whole"),)),
            Card("deaths"),
        )
    ]
    checked = 0
    for content in made:
        assert not content.withheld
        for table in content.tables:
            for col in SAFETY_COUNTS & set(table.frame.columns):
                checked += len(table.frame)
                assert not [v for v in table.frame[col] if small(v)], (content.title, col)
    assert checked > 50
    # 98 of 105 had an adverse event: the 7 without are withheld, and so is the 98
    anyone = made[0].tables[0].frame.set_index("Adverse events").loc["Any adverse event"]
    assert (anyone["With"], anyone["Without"]) == (COMPLEMENT, MARK)
    by_race = made[0].tables[-1].frame
    assert MARK in by_race["Patients"].tolist() or COMPLEMENT in by_race["Patients"].tolist()
    evidence = build_card(store, Card("evidence", View.from_text("compare=RACE")), protect)
    assert "small-cell protection" in " ".join(evidence.methods)


def test_a_view_leaving_out_a_few_patients_is_withheld_like_a_small_one(registry, store, capsys):
    """Query-set-size control: 103 of 105 beside 105 would give away the two left out."""
    on = store.disclosure
    assert on.view_reason(5, 105) == on.reason
    assert "leaves out fewer than 11" in (on.view_reason(103, 105) or "")
    assert on.view_reason(94, 105) is None
    assert Disclosure().view_reason(103, 105) is None  # protection off
    view = View.from_text("where=RACE!=ASIAN")
    assert store.count(view.filters) == 103
    made = build_card(store, Card("table1", view), Protection(on))
    assert made.withheld == on.view_reason(103, 105)
    assert not made.tables
    pack = build_pack(store, Basket((Card("afs", view),)), render=False)
    assert dict(pack.in_view)[view.describe(store.labels)] == COMPLEMENT
    assert cli.main(["summary", "--data", str(registry), "--filter", "RACE!=ASIAN"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["cohort"]["n"] == COMPLEMENT
    assert "leaves out fewer than 11" in doc["withheld"]


def test_the_summary_json_of_a_protected_registry_holds_no_patient_value(tmp_path, capsys):
    registry = demo_registry(tmp_path / "registry")
    adsl = pd.read_csv(registry / "south" / "adsl.csv", dtype=str)
    adsl.loc[0, "AGE"] = "seventy"
    adsl.to_csv(registry / "south" / "adsl.csv", index=False)
    assert cli.main(["summary", "--data", str(registry)]) == 0
    issues = json.loads(capsys.readouterr().out)["data_quality"]["issues"]
    assert any(i["column"] == "AGE" for i in issues)
    assert all(i["value"] is None for i in issues)
