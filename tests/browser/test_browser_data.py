"""Uploading an extract through the served app in headless Chromium: the session
switches to it and back, the files and their database live in the server's temporary
folder (never under the project folder), the demo is unchanged, and an upload with a
registry's own column names opens once its suggested mapping is applied.

The server is started as in tests/browser/test_browser.py, with its own temporary folder so
that the test can see where the upload went.
"""

from __future__ import annotations

import hashlib
import os
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from analytics.store import DEMO_DIR, PROJECT_ROOT
from tests.helpers import renamed_extract, small_extract
from tests.serving import RENDER_TIMEOUT, no_failure, serve

pytestmark = pytest.mark.browser

EXTRACT = "browser-upload-extract"  # a name found nowhere else, to look for afterwards
SKIP = {".git", ".venv", "node_modules"}


@pytest.fixture(scope="module")
def server_tmp(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("server-tmp")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, server_tmp: Path) -> Iterator[str]:
    # its own temporary folder, where tempfile.mkdtemp puts uploads
    log = tmp_path_factory.mktemp("data-server") / "streamlit.log"
    with serve(log, {"TMPDIR": str(server_tmp)}) as url:
        yield url


def project_files() -> set[Path]:
    out: set[Path] = set()
    for folder, dirs, files in os.walk(PROJECT_ROOT):
        dirs[:] = [d for d in dirs if d not in SKIP]
        out.update(Path(folder) / f for f in files)
    return out


def demo_hashes() -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in DEMO_DIR.iterdir()}


def zip_folder(folder: Path, dest: Path) -> Path:
    with zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED) as z:
        for p in sorted(folder.iterdir()):
            z.write(p, f"{EXTRACT}/{p.name}")
    return dest


def open_data_page(page: Page, server: str) -> None:
    page.goto(f"{server}/data")
    expect(page.locator("h1").filter(has_text="Data")).to_be_visible(timeout=RENDER_TIMEOUT)
    expect(page.get_by_test_id("stSidebar")).to_contain_text(
        "105 of 105 patients", timeout=RENDER_TIMEOUT
    )


def upload(page: Page, files: list[Path]) -> None:
    page.get_by_test_id("stFileUploaderDropzoneInput").set_input_files([str(f) for f in files])
    button = page.get_by_role("button", name="Open the uploaded files")
    expect(button).to_be_enabled(timeout=RENDER_TIMEOUT)
    button.click()


def test_upload_switches_the_session_and_stays_out_of_the_project(
    server, page, server_tmp, tmp_path
):
    demo = demo_hashes()
    before = project_files()
    extract = small_extract(tmp_path / "extract", 40)
    open_data_page(page, server)
    upload(page, [zip_folder(extract, tmp_path / "extract.zip")])
    sidebar = page.get_by_test_id("stSidebar")
    expect(sidebar).to_contain_text("40 of 40 patients", timeout=RENDER_TIMEOUT)
    expect(page.get_by_text("from files uploaded in this session")).to_be_visible()
    no_failure(page)

    # the upload and its database are in the server's temporary folder
    folders = list(server_tmp.glob("dva-upload-*"))
    assert len(folders) == 1
    assert sorted(p.name for p in (folders[0] / "files" / EXTRACT).iterdir()) == [
        "adsl.csv",
        "adtte.csv",
    ]
    assert [p.name.startswith(EXTRACT) for p in (folders[0] / "db").glob("*.duckdb")] == [True]

    # another page uses the upload too
    page.get_by_role("link", name="Amputation-free survival").click()
    expect(sidebar).to_contain_text("40 of 40 patients", timeout=RENDER_TIMEOUT)
    page.get_by_role("link", name="Data").click()

    page.get_by_role("button", name="Back to the configured data").click()
    expect(sidebar).to_contain_text("105 of 105 patients", timeout=RENDER_TIMEOUT)
    expect(page.get_by_text("from the bundled demo extract")).to_be_visible()
    assert not folders[0].exists()

    new = project_files() - before
    assert not [p for p in new if EXTRACT in str(p) or "dva-upload" in str(p)], new
    assert demo_hashes() == demo


def test_upload_needing_a_mapping_opens_once_applied(server, page, tmp_path):
    extract = renamed_extract(tmp_path / "registry")
    open_data_page(page, server)
    upload(page, sorted(extract.iterdir()))
    expect(page.get_by_text("The upload could not be opened")).to_be_visible(timeout=RENDER_TIMEOUT)
    expect(page.get_by_text("Some tables or columns were not recognised")).to_be_visible()
    # the session still shows the configured data
    expect(page.get_by_test_id("stSidebar")).to_contain_text("105 of 105 patients")
    page.get_by_role("button", name="Apply the mapping and open the upload").click()
    expect(page.get_by_text("from files uploaded in this session")).to_be_visible(
        timeout=RENDER_TIMEOUT
    )
    expect(page.get_by_test_id("stSidebar")).to_contain_text(
        "105 of 105 patients", timeout=RENDER_TIMEOUT
    )
    no_failure(page)
