"""Exports of a figure: PNG and SVG through one shared Chromium, and the CSV behind it.

The image tests start Debian's Chromium through kaleido (marked ``browser``); one
browser serves every image of the module. The CSV tests need no browser.
"""

from __future__ import annotations

import io
import time
import xml.etree.ElementTree as ET

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest
from PIL import Image

from analytics.estimators.km import KaplanMeier, KMResult
from analytics.model.provenance import Provenance
from charts import export
from charts.survival import DAYS_PER_MONTH, km_figure, tick_days

PROV = Provenance(
    filters=("RUTHCAT=5,6",),
    data_fingerprint="feedfacecafebeef0000",
    data_source="synthetic export test",
)
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def result(n: int, scale: float, seed: int) -> KMResult:
    rng = np.random.default_rng(seed)
    t, c = np.ceil(rng.exponential(scale, n)), np.ceil(rng.uniform(20, 400, n))
    return (
        KaplanMeier()
        .fit(np.minimum(t, c), t <= c)
        .result(
            endpoint="AFS",
            label="Amputation-free survival",
            risk_days=tick_days(3, 400),
            provenance=PROV,
        )
    )


@pytest.fixture(scope="module")
def results() -> dict[str, KMResult]:
    return {"Rutherford 5": result(70, 500, 1), "Rutherford 6": result(50, 250, 2)}


@pytest.fixture(scope="module")
def slide(results):
    return km_figure(
        results,
        title="Amputation-free survival",
        landmark_day=183,
        goal=0.54,
        table_events=True,
        theme="presentation",
    )


def read_csv(data: bytes) -> pd.DataFrame:
    return pd.read_csv(io.BytesIO(data), comment="#")


# --- CSV ----------------------------------------------------------------------------------
def test_csv_round_trips_with_the_provenance_line(slide, results):
    data = export.to_csv(slide)
    text = data.decode("utf-8")
    footnote = next(iter(results.values())).provenance.footnote()
    comments = [line for line in text.splitlines() if line.startswith("#")]
    assert f"# {footnote}" in comments
    assert comments == text.splitlines()[: len(comments)]  # all at the top
    table = read_csv(data)
    assert {"section", "group", "series", "month", "percent", "day"} <= set(table.columns)
    assert set(table["section"]) >= {"curve", "censored", "risk table", "landmark"}
    assert set(table["group"].dropna()) == set(results)


def test_csv_holds_the_plotted_steps(slide, results):
    table = read_csv(export.to_csv(slide))
    for label in results:
        plotted = [
            tr
            for tr in slide.data
            if isinstance(tr.meta, dict)
            and tr.meta.get("csv", {}).get("section") == "curve"
            and tr.meta["csv"]["group"] == label
        ]
        rows = table[(table["section"] == "curve") & (table["group"] == label)]
        np.testing.assert_allclose(
            rows["percent"].to_numpy(),
            np.concatenate([np.asarray(t.y) for t in plotted]),
            rtol=1e-9,
        )
        np.testing.assert_allclose(
            rows["day"].to_numpy(),
            np.concatenate([np.asarray(t.customdata)[:, 0] for t in plotted]),
        )
        np.testing.assert_allclose(rows["month"].to_numpy(), rows["day"] / DAYS_PER_MONTH)


def test_csv_holds_the_risk_table(slide, results):
    table = read_csv(export.to_csv(slide))
    ticks = np.asarray(slide.layout.xaxis.tickvals, dtype=float)
    for label, res in results.items():
        days = np.asarray(res.risk_table.days)
        idx = np.searchsorted(days, ticks * DAYS_PER_MONTH)
        for series, col in (
            ("at risk", res.risk_table.at_risk),
            ("events", res.risk_table.cumulative_events),
            ("censored", res.risk_table.cumulative_censored),
        ):
            rows = table[
                (table["section"] == "risk table")
                & (table["group"] == label)
                & (table["series"] == series)
            ]
            np.testing.assert_allclose(rows["month"].to_numpy(), ticks)
            np.testing.assert_array_equal(rows["count"].to_numpy(), np.asarray(col)[idx])


def test_csv_of_a_figure_without_data_is_just_its_header():
    table = read_csv(export.to_csv(go.Figure()))
    assert list(table.columns) == ["section", "group", "series"]
    assert table.empty


# --- images (Chromium) --------------------------------------------------------------------
@pytest.mark.browser
def test_png_is_a_slide_sized_image(chromium, slide):
    png = export.to_png(slide)
    assert png[:8] == PNG_MAGIC
    with Image.open(io.BytesIO(png)) as img:
        img.load()
        assert img.format == "PNG"
        assert img.size == (2 * slide.layout.width, 2 * slide.layout.height)
        # not blank: the curves and text put many colours on the white page
        assert len(img.convert("RGB").getcolors(maxcolors=1_000_000) or []) > 50


@pytest.mark.browser
def test_png_of_a_responsive_figure_defaults_to_1600_by_900(chromium, results):
    fig = km_figure(results)  # normal theme: no fixed width
    png = export.to_png(fig, height=900, scale=1)
    with Image.open(io.BytesIO(png)) as img:
        assert img.size == (export.DEFAULT_WIDTH, 900)


@pytest.mark.browser
def test_svg_is_xml_with_the_svg_root(chromium, slide):
    svg = export.to_svg(slide)
    root = ET.fromstring(svg)
    assert root.tag.endswith("svg")
    assert b"<svg" in svg[:200]
    assert b"Number at risk" in svg


@pytest.mark.browser
def test_many_images_share_one_browser(chromium, slide):
    assert export.browser_running()
    start = time.perf_counter()
    for _ in range(3):
        assert export.to_svg(slide)[:4] == b"<svg"
    # a cold Chromium start alone takes about 4 s; three warm renders take far less
    assert time.perf_counter() - start < 10
    assert export.browser_running()
