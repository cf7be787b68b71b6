"""Every figure and table of the pages has "Add to report" (AppTest), and a card added
after the page's settings were changed carries them: the sites outcome, the Rutherford
visit, the primary endpoint's analysis, the adverse-event window, the simulated design.
A registry view that leaves out a few patients is withheld like a small one."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from tests.helpers import ROOT, cards_in_url, demo_registry

APP = str(ROOT / "app.py")


@pytest.fixture
def at(monkeypatch: pytest.MonkeyPatch) -> AppTest:
    monkeypatch.delenv("DVA_DATA_DIR", raising=False)
    return AppTest.from_file(APP, default_timeout=180)


def open_page(at: AppTest, page: str) -> None:
    at.switch_page(page)
    at.run()
    assert not at.exception


def add(at: AppTest, key: str) -> None:
    at.button(key=f"add_confirm_{key}").click().run()
    assert not at.exception


def offered(at: AppTest) -> set[str]:
    return {b.key.removeprefix("add_confirm_") for b in at.button if b.key.startswith("add_")}


@pytest.mark.slow
def test_the_patients_page_offers_its_safety_tables(at):
    at.query_params["compare"] = "SEX"
    open_page(at, "pages/patients.py")
    assert {
        "table_adverse-events",
        "table_adverse-events-by-group",
        "table_deaths-by-cause",
    } <= offered(at)
    at.radio(key="patients_ae_window").set_value("Whole follow-up").run()
    add(at, "table_adverse-events")
    add(at, "table_deaths-by-cause")
    cards = cards_in_url(at).cards
    assert [c.kind for c in cards] == ["adverse_events", "deaths"]
    assert cards[0].options == (("window", "whole"),)
    assert cards[0].view.compare == "SEX"


@pytest.mark.slow
def test_the_evidence_and_design_pages_offer_their_figures(at):
    open_page(at, "pages/evidence.py")
    assert {"fig_published_evidence", "table_evidence"} <= offered(at)
    add(at, "fig_published_evidence")
    open_page(at, "pages/design.py")
    assert {"fig_design_stopping", "fig_design_power", "table_design"} <= offered(at)
    at.number_input(key="design_rate").set_value(68).run()
    at.selectbox(key="design_simulations").set_value(1_000).run()
    add(at, "fig_design_stopping")
    cards = cards_in_url(at).cards
    assert [c.kind for c in cards] == ["evidence", "design"]
    assert dict(cards[1].options) == {"rate": "68", "simulations": "1000"}


@pytest.mark.slow
def test_cards_carry_the_settings_of_their_page(at):
    open_page(at, "pages/sites.py")
    at.selectbox(key="sites_outcome").set_value("amputation").run()
    add(at, "fig_sites-amputation")
    open_page(at, "pages/wounds.py")
    at.selectbox(key="wounds_visit").set_value("MONTH 12").run()
    add(at, "table_rutherford-change")
    open_page(at, "pages/primary_endpoint.py")
    at.selectbox(key="pe_missing").set_value("none").run()
    add(at, "fig_primary_endpoint")
    cards = cards_in_url(at).cards
    assert [c.kind for c in cards] == ["sites", "rutherford", "primary"]
    assert cards[0].option("outcome") == "amputation"
    assert cards[1].options == (("visit", "MONTH 12"),)
    assert cards[2].options == (("missing", "none"),)
    open_page(at, "pages/report.py")
    shown = " ".join(c.value for c in at.caption)
    assert "outcome: major amputation" in shown
    assert "visit: Month 12" in shown
    assert "missing outcomes: left out (complete cases)" in shown


@pytest.mark.slow
def test_a_registry_view_leaving_out_a_few_patients_shows_only_why(tmp_path, monkeypatch):
    monkeypatch.setenv("DVA_DATA_DIR", str(demo_registry(tmp_path / "registry")))
    monkeypatch.delenv("DVA_SMALL_CELLS", raising=False)
    at = AppTest.from_file(APP, default_timeout=180)
    at.query_params["where"] = "RACE!=ASIAN"  # 103 of 105: the 2 left out would be known
    open_page(at, "pages/overview.py")
    assert any("leaves out fewer than 11" in w.value for w in at.warning)
    assert not at.dataframe
    assert any("\\* of 105" in m.value for m in at.sidebar.markdown)


@pytest.mark.slow
@pytest.mark.parametrize("protection", ["auto", "off"])
def test_the_data_page_of_a_protected_registry_shows_no_patient_value(
    tmp_path, monkeypatch, protection
):
    registry = demo_registry(tmp_path / "registry")
    adtte = registry / "north" / "adtte.csv"
    lines = adtte.read_text().splitlines()
    header = lines[0].split(",")
    row = lines[1].split(",")
    row[header.index("AVAL")] = "ninety"
    adtte.write_text("\n".join([lines[0], ",".join(row), *lines[2:]]) + "\n")
    monkeypatch.setenv("DVA_DATA_DIR", str(registry))
    monkeypatch.setenv("DVA_SMALL_CELLS", protection)
    at = AppTest.from_file(APP, default_timeout=180)
    open_page(at, "pages/data.py")
    issues = next(d.value for d in at.dataframe if "value" in d.value.columns)
    rejected = [b for b in at.get("download_button") if "rejected rows" in str(b.proto.label)]
    if protection == "off":
        assert "ninety" in issues["value"].tolist()
        assert rejected
    else:
        assert issues["value"].isna().all()
        assert not rejected
        assert any("are a patient's data" in c.value for c in at.caption)
