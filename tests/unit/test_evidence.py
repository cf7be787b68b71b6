"""The published evidence: the project's copy of the shared file, its loader's checks,
the figure and table listing every study, and the page run through app.py.

The cohort's expected points are computed here with `analytics.analyses.survival.kaplan_meier`
on the filtered cohort's patient rows, independently of the page's cached aggregate
path. No published figure is typed in: bad files are made by editing a copy.
"""

from __future__ import annotations

import base64
import copy
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

import analytics.analyses.evidence_file
from analytics.analyses.evidence import evidence_frame, not_drawn, panels
from analytics.analyses.evidence_file import EVIDENCE_FILE, load_evidence, month_day
from analytics.analyses.survival import kaplan_meier
from analytics.model.filters import FilterState
from analytics.model.labels import DEFAULT as DEFAULT_LABELS
from analytics.model.view import View
from charts.evidence import evidence_figure
from tests.helpers import ROOT, SHARED
from ui.survival import SHORT

APP = str(ROOT / "app.py")
PAGE = "pages/evidence.py"
SHARED_FILE = SHARED / "reference" / "dva_literature.json"
AFS_6 = "Amputation-free survival at 6 months"
NEW_STUDY = {
    "id": "NEW-REGISTRY-2099",
    "kind": "registry",
    "design": "a study added to the file by hand",
    "year": 2099,
    "n": 12,
    "source": "Test A et al. Nowhere 2099",
    "outcomes": [
        {"endpoint": "AFS", "months": 6, "value": 0.5, "ci": [0.25, 0.75]},
        {"endpoint": "OS", "months": 18, "value": 0.5},
    ],
}


# --- helpers ----------------------------------------------------------------------------


def raw() -> dict[str, Any]:
    return json.loads(EVIDENCE_FILE.read_text(encoding="utf-8"))


def write(tmp_path: Path, doc: Any, name: str = "evidence.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(doc) if not isinstance(doc, str) else doc, encoding="utf-8")
    return path


def decoded(value: Any) -> Any:
    """Plotly's base64 typed arrays in a figure's JSON, as numpy arrays."""
    if isinstance(value, dict) and "bdata" in value:
        return np.frombuffer(base64.b64decode(value["bdata"]), dtype=value["dtype"])
    return value


def figure_words(fig: dict[str, Any]) -> str:
    """Every name and text of a figure's traces, tick labels and annotations."""
    words = []
    for trace in fig["data"]:
        words.append(str(trace.get("name", "")))
        words.extend(str(t) for t in decoded(trace.get("text", [])) if t is not None)
    words.extend(str(t) for t in fig["layout"]["yaxis"]["ticktext"])
    words.extend(a.get("text", "") for a in fig["layout"].get("annotations", []))
    return "\n".join(words)


def cohort_trace(fig: dict[str, Any], series: str, group: str | None = None) -> dict[str, Any]:
    for trace in fig["data"]:
        csv = trace["meta"]["csv"]
        if csv["section"] != "cohort" or csv["series"] != series:
            continue
        whole = trace["name"].startswith("This dashboard's cohort")
        if (group is None and whole) or (group is not None and trace["name"].endswith(group)):
            return trace
    raise AssertionError(f"no cohort point on {series!r} for {group or 'the whole cohort'}")


def point(trace: dict[str, Any]) -> tuple[float, float, float]:
    """(estimate, lower, upper) in percent, from the trace's x and error bars."""
    x = float(decoded(trace["x"])[0])
    plus = float(decoded(trace["error_x"]["array"])[0])
    minus = float(decoded(trace["error_x"]["arrayminus"])[0])
    return x, x - minus, x + plus


def expected(cohort, code: str = "AFS", day: float = 183, ci_type: str = "log-log"):
    lm = kaplan_meier(cohort, code, ci_type=ci_type, landmarks=(day,)).landmarks[0]
    return 100 * lm.estimate, 100 * lm.lower, 100 * lm.upper


# --- the file ---------------------------------------------------------------------------


def test_the_copy_equals_the_shared_file_byte_for_byte():
    if not SHARED_FILE.exists():
        pytest.fail(f"reference file missing: {SHARED_FILE} must sit beside the clone")
    assert EVIDENCE_FILE.read_bytes() == SHARED_FILE.read_bytes(), (
        "data/reference/dva_literature.json differs from ../shared/reference: copy it again"
    )


def test_every_entry_is_read_in_file_order():
    doc = raw()
    ev = load_evidence()
    assert ev.ids == tuple(e["id"] for e in (*doc["studies"], *doc["reference_rates"]))
    assert [len(s.outcomes) for s in ev.entries] == [
        len(e["outcomes"]) for e in (*doc["studies"], *doc["reference_rates"])
    ]
    assert all(s.reference for s in ev.reference_rates)
    assert not any(s.reference for s in ev.studies)


def test_months_are_the_days_the_dashboard_uses():
    assert (month_day(1), month_day(6), month_day(12), month_day(24)) == (30, 183, 365, 730)
    ev = load_evidence()
    shown = panels(ev)
    assert {(p.endpoint, p.months) for p in shown} >= {
        (code, m) for code in ("AFS", "LS", "OS") for m in (6.0, 12.0)
    }
    for s in ev.entries:
        for o in s.outcomes:
            if o.endpoint in ("AFS", "LS", "OS") and o.months is not None:
                assert any(p.endpoint == o.endpoint and p.months == o.months for p in shown)


def _edit(doc: dict[str, Any], change: str) -> None:
    first = doc["studies"][0]
    outcome = first["outcomes"][0]
    if change == "value above 1":
        outcome["value"] = 1.5
    elif change == "ci single":
        outcome["ci"] = [outcome["value"]]
    elif change == "ci not around":
        outcome["ci"] = [outcome["value"] + 0.01, outcome["value"] + 0.02]
    elif change == "no source":
        del first["source"]
    elif change == "unknown endpoint":
        outcome["endpoint"] = "AFX"
    elif change == "repeated id":
        doc["studies"][1]["id"] = first["id"]
    elif change == "mistyped field":
        outcome["CI"] = outcome.pop("ci", None)
    elif change == "n not whole":
        first["n"] = "many"
    elif change == "no months":
        del outcome["months"]
    elif change == "reference without what":
        del doc["reference_rates"][0]["what"]


@pytest.mark.parametrize(
    ("change", "where", "words"),
    [
        ("value above 1", "outcomes[0], field 'value'", "not a proportion between 0 and 1"),
        ("ci single", "outcomes[0], field 'ci'", "is not a pair [lower, upper]"),
        ("ci not around", "outcomes[0], field 'ci'", "does not enclose the value"),
        ("no source", "", "field 'source' is missing"),
        ("unknown endpoint", "outcomes[0], field 'endpoint'", "unknown endpoint code 'AFX'"),
        ("mistyped field", "outcomes[0]", "unknown field 'CI'"),
        ("n not whole", "field 'n'", "'many' is not a whole number"),
        ("no months", "outcomes[0]", "field 'months' is missing"),
    ],
)
def test_a_bad_study_is_named_with_its_file_position_id_and_field(tmp_path, change, where, words):
    doc = raw()
    _edit(doc, change)
    path = write(tmp_path, doc)
    study = f"studies[0] (id {doc['studies'][0]['id']!r})"
    with pytest.raises(ValueError, match=r"evidence\.json: ") as err:
        load_evidence(path)
    message = str(err.value)
    assert message.startswith(f"{path}: ")
    assert (f"{study}, {where}" if where else study) in message
    assert words in message


def test_a_repeated_id_names_both_places(tmp_path):
    doc = raw()
    _edit(doc, "repeated id")
    with pytest.raises(ValueError, match=r"studies\[1\] .* already used by studies\[0\]"):
        load_evidence(write(tmp_path, doc))


def test_a_bad_reference_rate_is_named(tmp_path):
    doc = raw()
    _edit(doc, "reference without what")
    ref = doc["reference_rates"][0]["id"]
    with pytest.raises(ValueError, match=rf"reference_rates\[0\] \(id '{ref}'\): field 'what'"):
        load_evidence(write(tmp_path, doc))


@pytest.mark.parametrize(
    ("content", "words"),
    [
        ("{ not json", "not valid JSON"),
        ("[1, 2]", "not a JSON object"),
        ('{"studies": []}', "field 'studies' is missing or not a list"),
        ('{"studies": [{"id": "X", "source": "s", "kind": "k", "outcomes": []}]}', "'outcomes'"),
    ],
)
def test_a_bad_file_is_named(tmp_path, content, words):
    path = write(tmp_path, content)
    with pytest.raises(ValueError, match=r"evidence\.json") as err:
        load_evidence(path)
    assert words in str(err.value)


def test_a_missing_file_is_named(tmp_path):
    with pytest.raises(ValueError, match=r"absent\.json: the evidence file cannot be read"):
        load_evidence(tmp_path / "absent.json")


# --- figure and table -------------------------------------------------------------------


def test_the_figure_and_table_list_every_study_in_the_file():
    ev = load_evidence()
    fig = evidence_figure(ev, labels=SHORT).to_plotly_json()
    words = figure_words(fig)
    frame = evidence_frame(ev, labels=SHORT)
    for study_id in ev.ids:
        assert study_id in words, study_id
        assert study_id in set(frame["Study"]), study_id
    assert len(frame) == sum(len(s.outcomes) for s in ev.entries)
    # what the panels cannot hold is named under the figure
    assert not_drawn(ev)
    assert "In the table only: " in words
    # clinical names, never the file's codes, on the panels
    ticks = fig["layout"]["yaxis"]["ticktext"]
    assert f"<b>{AFS_6}</b>" in ticks
    assert "<b>Limb salvage at 12 months</b>" in ticks
    assert not any(t.startswith("<b>AFS") for t in ticks)
    assert "AFS" not in set(frame["Endpoint"])


def test_a_study_added_to_the_file_shows_without_code_change(tmp_path):
    doc = raw()
    doc["studies"].append(copy.deepcopy(NEW_STUDY))
    ev = load_evidence(write(tmp_path, doc))
    fig = evidence_figure(ev).to_plotly_json()
    words = figure_words(fig)
    assert NEW_STUDY["id"] in words
    assert "Published: registry" in words  # a new kind of study gets its own legend entry
    assert "Overall survival at 18 months" in words  # and a new month its own panel
    assert NEW_STUDY["id"] in set(evidence_frame(ev)["Study"])


def test_the_goal_is_drawn_on_the_afs_panel_of_the_landmark_only():
    ev = load_evidence()
    goal = View().goal
    fig = evidence_figure(ev, goal=goal, goal_day=183).to_plotly_json()
    lines = [s for s in fig["layout"]["shapes"] if s.get("name") == "goal"]
    assert len(lines) == 1
    assert lines[0]["x0"] == lines[0]["x1"] == pytest.approx(100 * goal)
    ticks = fig["layout"]["yaxis"]["ticktext"]
    headers = [i for i, t in enumerate(ticks) if t.startswith("<b>")]
    top = ticks.index(f"<b>{AFS_6}</b>")
    following = min(i for i in headers if i > top)
    assert top < lines[0]["y0"] < lines[0]["y1"] < following
    at_365 = evidence_figure(ev, goal=goal, goal_day=365).to_plotly_json()
    assert [s["y0"] for s in at_365["layout"]["shapes"] if s.get("name") == "goal"] != [
        lines[0]["y0"]
    ]
    nowhere = evidence_figure(ev, goal=goal, goal_day=200).to_plotly_json()
    assert not [s for s in nowhere["layout"]["shapes"] if s.get("name") == "goal"]


# --- the page, through app.py -----------------------------------------------------------


@pytest.fixture
def at(monkeypatch: pytest.MonkeyPatch) -> AppTest:
    monkeypatch.delenv("DVA_DATA_DIR", raising=False)
    return AppTest.from_file(APP, default_timeout=90)


def open_page(at: AppTest, **query: str) -> dict[str, Any]:
    for key, value in query.items():
        at.query_params[key] = value
    at.switch_page(PAGE)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    charts = at.get("plotly_chart")
    assert len(charts) == 1
    return json.loads(charts[0].proto.spec)


def test_the_page_shows_every_study_and_the_cohort(at, demo_store, demo_cohort):
    fig = open_page(at)
    words = figure_words(fig)
    ev = load_evidence()
    for study_id in ev.ids:
        assert study_id in words
    n = demo_cohort.n
    name = f"This dashboard's cohort (n = {n:,}, synthetic demo data)"
    assert demo_store.synthetic
    assert name in words
    assert f"the {n:,} patients in view, synthetic demo data" in " ".join(
        c.value for c in at.main.caption
    )
    [table] = at.dataframe
    assert set(table.value["Study"]) == set(ev.ids)
    assert len(table.value) == sum(len(s.outcomes) for s in ev.entries)


@pytest.mark.parametrize(("ci", "code", "day"), [("log-log", "AFS", 183), ("log", "LS", 365)])
def test_the_cohort_point_is_the_kaplan_meier_estimate(at, demo_cohort, ci, code, day):
    fig = open_page(at, ci=ci)
    series = {
        ("AFS", 183): AFS_6,
        ("LS", 365): "Limb salvage at 12 months",
    }[(code, day)]
    got = point(cohort_trace(fig, series))
    assert got == pytest.approx(expected(demo_cohort, code, day, ci), abs=1e-9)


def test_the_cohort_point_follows_the_filters(at, demo_store):
    fig = open_page(at, DIALFL="Y")
    filtered = demo_store.cohort(FilterState.from_mapping({"DIALFL": ["Y"]}))
    assert f"(n = {filtered.n:,}, synthetic demo data)" in figure_words(fig)
    got = point(cohort_trace(fig, AFS_6))
    assert got == pytest.approx(expected(filtered), abs=1e-9)


def test_compared_groups_get_a_point_each(at, demo_store):
    open_page(at)
    at.selectbox(key="compare").set_value("DIALFL").run()
    assert not at.exception
    fig = json.loads(at.get("plotly_chart")[0].proto.spec)
    for level in ("Y", "N"):
        group = demo_store.cohort(FilterState.from_mapping({"DIALFL": [level]}))
        got = point(cohort_trace(fig, AFS_6, group=DEFAULT_LABELS.value("DIALFL", level)))
        assert got == pytest.approx(expected(group), abs=1e-9)


def test_an_empty_cohort_still_shows_the_evidence(at):
    fig = open_page(at, where="AGE>=200")
    assert not any(t["meta"]["csv"]["section"] == "cohort" for t in fig["data"])
    assert any("shown without the cohort" in i.value for i in at.info)


def test_the_page_reads_a_study_added_to_the_file(at, tmp_path, monkeypatch):
    doc = raw()
    doc["studies"].append(copy.deepcopy(NEW_STUDY))
    monkeypatch.setattr(analytics.analyses.evidence_file, "EVIDENCE_FILE", write(tmp_path, doc))
    fig = open_page(at)
    assert NEW_STUDY["id"] in figure_words(fig)
    assert NEW_STUDY["id"] in set(at.dataframe[0].value["Study"])


def test_a_bad_file_reads_as_plain_words_on_the_page(at, tmp_path, monkeypatch):
    doc = raw()
    _edit(doc, "value above 1")
    path = write(tmp_path, doc, "broken.json")
    monkeypatch.setattr(analytics.analyses.evidence_file, "EVIDENCE_FILE", path)
    at.switch_page(PAGE)
    at.run()
    assert not at.exception
    [error] = at.error
    assert "could not be read" in error.value
    assert "broken.json" in error.value
    assert "field 'value'" in error.value
