"""What leaves the dashboard: every download of the figure and table pages (SVG figures,
which hold the same text as their PNG, CSV of the numbers, CSV, Word and Excel tables)
is fetched as a user would, with filters and a comparison active, and read for column
names and capitalised codes; each exported figure is opened in the browser and its text
boxes compared, so that no label of a slide prints over another."""

from __future__ import annotations

import csv
import io
import xml.etree.ElementTree as ET
import zipfile

import pytest
from docx import Document
from openpyxl import load_workbook
from playwright.sync_api import expect

from tests.helpers import codes_in
from tests.serving import OVERLAPS, RENDER_TIMEOUT, serve, settle

pytestmark = pytest.mark.browser

VIEW = "DIALFL=N&where=RUTHCAT%3D5%2C6&compare=SEX"
PAGES = {
    "afs": "Amputation-free survival",
    "primary_endpoint": "Primary endpoint",
    "subgroups": "Subgroups",
    "wounds": "Wounds and Rutherford class",
    "patients": None,
    "sites": "Sites",
}
# the PNG is drawn from the same figure as the SVG, whose text can be read
UNREAD = ".png"


def text_of(name: str, body: bytes) -> str:
    """What a person reads in a downloaded file."""
    if name.endswith(".svg"):
        root = ET.fromstring(body)
        return "\n".join(t for e in root.iter() for t in (e.text, e.tail) if t and t.strip())
    if name.endswith(".csv"):
        rows = csv.reader(io.StringIO(body.decode("utf-8-sig")))
        return "\n".join(" | ".join(r) for r in rows)
    if name.endswith(".docx"):
        doc = Document(io.BytesIO(body))
        cells = [c.text for t in doc.tables for row in t.rows for c in row.cells]
        return "\n".join([p.text for p in doc.paragraphs] + cells)
    if name.endswith(".xlsx"):
        book = load_workbook(io.BytesIO(body))
        return "\n".join(
            str(v)
            for sheet in book
            for row in sheet.iter_rows(values_only=True)
            for v in row
            if v is not None
        )
    raise AssertionError(f"a download of an unexpected kind: {name}")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with serve(tmp_path_factory.mktemp("exports") / "streamlit.log") as url:
        yield url


@pytest.mark.parametrize("path", PAGES)
def test_no_code_in_any_download(server, browser, path):
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
    leaks: dict[str, list[str]] = {}
    overlaps: dict[str, list[list[str]]] = {}
    fetched = []
    try:
        page = context.new_page()
        page.goto(f"{server}/{path}?{VIEW}")
        settle(page, PAGES[path])
        buttons = page.get_by_test_id("stDownloadButton").locator("button")
        expect(buttons.first).to_be_visible(timeout=RENDER_TIMEOUT)
        settle(page, PAGES[path])
        for k in range(buttons.count()):
            button = buttons.nth(k)
            if not button.is_visible():  # in a closed expander: its twin is in view
                continue
            button.scroll_into_view_if_needed()
            with page.expect_download(timeout=60_000) as info:
                button.click()
            download = info.value
            name = download.suggested_filename
            if name.endswith(UNREAD):
                continue
            body = download.path().read_bytes()
            if name.endswith(".docx") or name.endswith(".xlsx"):
                assert zipfile.is_zipfile(io.BytesIO(body)), name
            fetched.append(name)
            found = codes_in(text_of(name, body))
            if found:
                leaks[name] = sorted(found)
            if name.endswith(".svg"):
                hits = _overlaps(context, body)
                if hits:
                    overlaps[name] = hits[:3]
    finally:
        context.close()
    assert fetched, f"no download on {path}"
    assert not leaks, leaks
    assert not overlaps, overlaps


def _overlaps(context, svg: bytes) -> list[list[str]]:
    """Pairs of texts of an exported figure printed over one another."""
    view = context.new_page()
    try:
        view.set_content(svg.decode("utf-8"))
        return view.evaluate(f"({OVERLAPS.strip()})(document.body)")
    finally:
        view.close()
