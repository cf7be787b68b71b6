"""The access log (AppTest): the data a session opened, each page and view, every upload
accepted or refused, one JSON object per line; nothing in it is a patient's value."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from analytics.extract.upload import UploadError
from tests.helpers import ROOT, Uploaded, demo_file, small_extract
from ui import upload

APP = str(ROOT / "app.py")


@pytest.fixture
def log(tmp_path, monkeypatch):
    path = tmp_path / "access.jsonl"
    monkeypatch.setenv("DVA_AUDIT_LOG", str(path))
    monkeypatch.delenv("DVA_DATA_DIR", raising=False)
    return path


def records(path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


@pytest.mark.slow
def test_a_session_logs_its_data_pages_and_views_once(log, demo_store):
    at = AppTest.from_file(APP, default_timeout=120)
    at.query_params["DIALFL"] = "N"
    at.run()
    at.run()  # a rerun of the same view logs nothing new
    at.switch_page("pages/afs.py").run()
    assert not at.exception
    found = records(log)
    kinds = [r["event"] for r in found]
    assert kinds == ["open", "view", "view"]
    opened = found[0]
    assert opened["fingerprint"] == demo_store.fingerprint
    assert opened["small_cell_protection"] is False
    assert [r["page"] for r in found[1:]] == ["Overview", "Amputation-free survival"]
    assert {r["view"] for r in found[1:]} == {"DIALFL=N"}
    assert {r["user"] for r in found} == {"anonymous"}
    assert len({r["session"] for r in found}) == 1
    text = log.read_text()
    ids = pd.read_csv(demo_file("adsl"), dtype=str)["USUBJID"]
    assert not [i for i in ids if i in text]


def test_uploads_are_logged_accepted_or_refused(log, tmp_path):
    state: dict = {}
    folder = small_extract(tmp_path / "x", 12)
    files = [Uploaded(p.name, p.read_bytes()) for p in sorted(folder.iterdir())]
    assert upload.accept_logged(state, files)
    with pytest.raises(UploadError):
        upload.accept_logged(state, [Uploaded("notes.docx", b"x")])
    bad = Uploaded("adsl.csv", b"USUBJID,AGE\nP-SECRET-1,not-an-age\n")
    assert not upload.accept_logged(state, [bad])
    accepted, refused, unusable = records(log)
    assert accepted["accepted"] is True
    assert [f["name"] for f in accepted["files"]] == ["adsl.csv", "adtte.csv"]
    assert accepted["bytes"] == sum(len(f.data) for f in files)
    assert len(accepted["fingerprint"]) == 64
    assert refused["accepted"] is False
    assert "notes.docx: not a file the dashboard reads" in refused["reason"]
    assert unusable["reason"] == "the extract cannot be analysed"
    assert "P-SECRET-1" not in log.read_text()  # a data error's cell stays out
    upload.discard(state)
