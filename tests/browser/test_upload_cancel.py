"""A build nobody waits for is stopped: the browser that uploaded a large extract goes
away while the server builds its database in a worker, and the worker is gone within
seconds (not left running to its time limit for a page nobody reads)."""

from __future__ import annotations

import io
import time
import zipfile
from pathlib import Path

import duckdb
import pytest

from bench.registry import make_registry
from tests.helpers import worker_processes
from tests.serving import serve

pytestmark = pytest.mark.browser


def registry_zip(n: int, folder: Path) -> Path:
    parquet = make_registry(n, folder / "parquet")
    out = folder / "registry.zip"
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for table in ("adsl", "adtte"):
            buf = io.BytesIO()
            duckdb.sql(f"SELECT * FROM '{parquet / (table + '.parquet')}'").df().to_csv(
                buf, index=False
            )
            z.writestr(f"registry/{table}.csv", buf.getvalue())
    return out


def test_leaving_during_a_build_stops_its_worker(tmp_path, browser):
    upload = registry_zip(1_000_000, tmp_path)  # a build of about ten seconds
    # its 3,000,000 time-to-event rows within this server's row limit
    with serve(tmp_path / "streamlit.log", {"DVA_MAX_ROWS": "5000000"}) as url:
        context = browser.new_context()
        page = context.new_page()
        page.goto(f"{url}/data")
        page.get_by_text("Extract files").wait_for(timeout=60_000)
        page.locator("input[type=file]").set_input_files(str(upload))
        page.get_by_role("button", name="Open the uploaded files").click()
        deadline = time.monotonic() + 60
        while not worker_processes():
            assert time.monotonic() < deadline, "no worker started"
            time.sleep(0.2)
        context.close()  # the user leaves
        # the build alone takes longer than this: its worker must have been stopped
        deadline = time.monotonic() + 4
        while worker_processes():
            assert time.monotonic() < deadline, "the worker kept running"
            time.sleep(0.2)
