"""The report basket in the app (AppTest): "Add to report" beside figures and tables puts
a card with its view and comment in the URL; the report page reorders, renames and
removes cards, and a link holding cards opens the same report."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from tests.helpers import ROOT, cards_in_url, demo_registry

APP = str(ROOT / "app.py")


@pytest.fixture
def at(monkeypatch: pytest.MonkeyPatch) -> AppTest:
    monkeypatch.delenv("DVA_DATA_DIR", raising=False)
    return AppTest.from_file(APP, default_timeout=120)


def add(at: AppTest, page: str, key: str, note: str = "") -> None:
    at.switch_page(page)
    at.run()
    if note:
        at.text_area(key=f"note_{key}").input(note).run()
    at.button(key=f"add_confirm_{key}").click().run()
    assert not at.exception


@pytest.mark.slow
def test_cards_keep_their_view_and_comment_and_travel_in_the_url(at):
    at.query_params["DIALFL"] = "N"
    add(at, "pages/afs.py", "fig_afs_ls_os", note="for the committee")
    assert [s.value for s in at.success] == ["Added: the report holds 1 card."]
    add(at, "pages/subgroups.py", "fig_subgroups-AFS")
    basket = cards_in_url(at)
    assert [c.kind for c in basket.cards] == ["afs", "subgroups"]
    assert basket.cards[0].note == "for the committee"
    assert all(c.view.to_query() == {"DIALFL": "N"} for c in basket.cards)


@pytest.mark.slow
def test_the_report_page_reorders_renames_and_removes(at):
    at.query_params["card"] = ["kind=afs&DIALFL=N", "kind=table1", "kind=sites"]
    at.switch_page("pages/report.py")
    at.run()
    assert not at.exception
    titles = [t.value for t in at.text_input if t.key and t.key.startswith("title_")]
    assert titles == [
        "Amputation-free survival, limb salvage and survival",
        "Table 1: baseline characteristics",
        "Sites: amputation-free survival at the landmark",
    ]
    [b for b in at.button if b.key and b.key.startswith("up_")][2].click().run()
    assert [c.kind for c in cards_in_url(at).cards] == ["afs", "sites", "table1"]
    next(t for t in at.text_input if t.key and t.key.startswith("title_")).input("AFS").run()
    [b for b in at.button if b.key and b.key.startswith("remove_")][2].click().run()
    basket = cards_in_url(at)
    assert [c.heading for c in basket.cards] == [
        "AFS",
        "Sites: amputation-free survival at the landmark",
    ]
    assert basket.cards[0].view.to_query() == {"DIALFL": "N"}


@pytest.mark.slow
def test_a_link_with_a_card_it_cannot_read_says_so(at):
    at.query_params["card"] = ["kind=afs", "kind=slides-of-everything"]
    at.switch_page("pages/report.py")
    at.run()
    assert not at.exception
    assert any("slides-of-everything" in w.value for w in at.warning)
    assert [c.kind for c in cards_in_url(at).cards] == ["afs"]


@pytest.mark.slow
def test_the_app_on_a_registry_withholds_small_counts(tmp_path, monkeypatch):
    """A registry is protected by default: the sites table of the page (and so its
    downloads) shows no count from 1 to 10."""
    registry = demo_registry(tmp_path / "registry")
    monkeypatch.setenv("DVA_DATA_DIR", str(registry))
    monkeypatch.delenv("DVA_SMALL_CELLS", raising=False)
    at = AppTest.from_file(APP, default_timeout=120)
    at.switch_page("pages/sites.py")
    at.run()
    assert not at.exception
    table = at.dataframe[0].value  # the page's one table: the sites
    for col in ("n", "Known", "Events"):
        shown = [v for v in table[col] if str(v).isdigit() and 1 <= int(v) <= 10]
        assert not shown, col
    assert "<11" in table["n"].tolist()
    assert any("small-cell protection" in c.value for c in at.caption)


@pytest.mark.slow
def test_a_view_under_eleven_patients_shows_only_that(tmp_path, monkeypatch):
    """Protection on (a registry): a filter leaving 5 patients shows the reason, not the
    patients' numbers, on every page; the sidebar's N reads "<11"."""
    registry = demo_registry(tmp_path / "registry")
    monkeypatch.setenv("DVA_DATA_DIR", str(registry))
    monkeypatch.delenv("DVA_SMALL_CELLS", raising=False)
    at = AppTest.from_file(APP, default_timeout=120)
    at.query_params["SITEID"] = "015"  # a site of 6 patients
    at.switch_page("pages/afs.py")
    at.run()
    assert not at.exception
    assert any("Fewer than 11 patients" in w.value for w in at.warning)
    assert not at.dataframe
    assert not [t for t in at.title if t.value == "Amputation-free survival"]
    assert any("<11 of 105" in m.value for m in at.sidebar.markdown)


@pytest.mark.slow
def test_a_viewer_may_switch_protection_only_when_the_deployment_allows(monkeypatch):
    monkeypatch.delenv("DVA_DATA_DIR", raising=False)
    monkeypatch.setenv("DVA_SMALL_CELLS", "off")
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    assert not [t for t in at.sidebar.toggle if t.key == "small_cells"]
    monkeypatch.setenv("DVA_SMALL_CELLS_VIEWER", "allow")
    at = AppTest.from_file(APP, default_timeout=120)
    at.query_params["SITEID"] = "003"  # one patient in the demo
    at.run()
    assert any(m.value.startswith("**1 of 105") for m in at.sidebar.markdown)
    at.sidebar.toggle(key="small_cells").set_value(True).run()
    assert any("<11 of 105" in m.value for m in at.sidebar.markdown)
