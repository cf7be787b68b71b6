"""The committee pack: the basket's URL form, the PowerPoint deck's slides, tables, native
charts and notes against the analytics for the same view, the PDF's pages, and the
command line.

The deck's numbers are checked against results computed here from the analytics, not
against the pack's own tables."""

from __future__ import annotations

import io
import shutil
import subprocess
import sys

import numpy as np
import pytest
from pptx import Presentation
from pptx.enum.shapes import MSO_SHAPE_TYPE

from analytics.analyses import views
from analytics.analyses.sites import compare_sites
from analytics.analyses.tables import row_text, table1_view
from analytics.analyses.visits import visit_cohort, wound_course
from analytics.model.basket import KINDS, MAX_CARDS, STANDARD, Basket, Card
from analytics.model.schema import DAYS_PER_MONTH
from analytics.model.view import View
from analytics.report.protect import Protection
from pack import build_pack, write_pdf, write_pptx
from pack.cards import build_card
from tests.helpers import ROOT, codes_in
from ui import fmt

VIEW = View.from_text("DIALFL=N&landmark=183")


# --- the basket ---------------------------------------------------------------------------


def test_a_basket_survives_its_url_form():
    basket = Basket(
        (
            Card("afs", VIEW, title="AFS without dialysis", note="As discussed: = no risk"),
            Card("table1", View.from_text("SEX=F&compare=DIABFL")),
        )
    )
    back = Basket.from_query(basket.to_query())
    assert back == basket
    assert back.problems == ()


def test_a_card_the_basket_cannot_use_is_named_not_dropped_silently():
    basket = Basket.from_query(["kind=afs", "kind=nonsense", "kind=sites&compare=NOPE!"])
    assert [c.kind for c in basket.cards] == ["afs", "sites"]
    assert any("'nonsense'" in p for p in basket.problems)
    assert any("compare" in p for p in basket.problems)


def test_a_basket_link_is_bounded():
    basket = Basket.from_query(["kind=afs"] * (MAX_CARDS + 5) + ["kind=afs&title=" + "x" * 10**6])
    assert len(basket.cards) == MAX_CARDS
    assert basket.problems


def test_cards_move_rename_and_go():
    basket = Basket.standard(VIEW, ("afs", "table1", "sites"))
    moved = basket.move(2, -1).edit(0, title="  Survival   ", note="note").remove(2)
    assert [c.kind for c in moved.cards] == ["afs", "sites"]
    assert moved.cards[0].heading == "Survival"
    assert moved.cards[0].note == "note"
    assert basket.move(0, -1) == basket


# --- the deck -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def pack(demo_store):
    basket = Basket(
        (
            *Basket.standard(VIEW).cards[:1],
            Card("afs", VIEW, note="Committee asked for the no-dialysis view"),
            *Basket.standard(VIEW).cards[2:],
        )
    )
    return build_pack(demo_store, basket, render=False)


@pytest.fixture(scope="module")
def deck(pack):
    return Presentation(io.BytesIO(write_pptx(pack)))


def slide_texts(slide) -> list[str]:
    return [s.text_frame.text for s in slide.shapes if s.has_text_frame and s.text_frame.text]


def slides_titled(deck, start: str) -> list:
    return [s for s in deck.slides if slide_texts(s) and slide_texts(s)[0].startswith(start)]


def cells(table) -> list[list[str]]:
    return [[c.text for c in row.cells] for row in table.rows]


def table_rows(slide) -> list[list[str]]:
    tables = [s.table for s in slide.shapes if s.has_table]
    assert tables, "no native table on the slide"
    return cells(tables[0])


def test_every_card_of_the_standard_pack_has_its_slides(deck):
    titles = [slide_texts(s)[0] for s in deck.slides if slide_texts(s)]
    assert titles[0] == "Synthetic PROMISE II-like demo cohort"
    assert titles[-1] == "Provenance"
    for heading in (KINDS[k] for k in STANDARD):
        assert any(t.startswith(heading) for t in titles), heading


def test_the_title_slide_says_what_the_data_are(deck, demo_store):
    text = "\n".join(slide_texts(deck.slides[0]))
    assert "Synthetic data" in text
    n = demo_store.count(VIEW.filters)
    assert f"{n:,} of {demo_store.count():,} patients" in text
    assert "On dialysis" in text  # the view in words, not DIALFL


def test_survival_table_numbers_are_the_analytics(deck, demo_store):
    found = views.survival_view(demo_store, VIEW.filters, ("AFS", "LS", "OS"), landmarks=(183,))
    rows = table_rows(
        slides_titled(deck, "Amputation-free survival, limb salvage and survival:")[0]
    )
    header, body = rows[0], rows[1:]
    assert header[:3] == ["Curve", "Patients", "Events"]
    for code, row in zip(("AFS", "LS", "OS"), body, strict=True):
        km = found.endpoints[code]
        lm = km.landmark(183)
        assert row[0] == km.label
        assert row[1] == f"{km.n:.0f}"
        assert row[2] == f"{km.events:.0f}"
        assert row[3] == fmt.pct(lm.estimate)
        assert row[4] == fmt.ci_range(lm.lower, lm.upper)
        assert row[5] == f"{lm.at_risk:.0f}"


def test_table1_cells_are_the_analytics(deck, demo_store):
    expected = table1_view(demo_store, VIEW.filters)
    shown = [r for s in slides_titled(deck, "Table 1: baseline") for r in table_rows(s)[1:]]
    assert len(shown) == len(expected.rows)
    for row, cells in zip(expected.rows, shown, strict=True):
        assert cells == [row.section, row.label, row_text(row)]


def test_sites_table_counts_are_the_analytics(deck, demo_store):
    res = compare_sites(demo_store, VIEW.filters, "afs", day=183)
    shown = [
        r
        for s in slides_titled(deck, "Sites: amputation-free survival at the landmark:")
        for r in table_rows(s)[1:]
    ]
    assert [(r[0], r[1], r[3]) for r in shown] == [
        (s.label, str(s.n), str(s.events)) for s in res.sites
    ]


def test_survival_curves_are_native_editable_charts_with_the_estimates_points(deck, demo_store):
    days = (30, 91, 183, 300)
    found = views.survival_view(demo_store, VIEW.filters, ("AFS",), landmarks=days)
    km = found.endpoints["AFS"]
    slide = slides_titled(deck, "Amputation-free survival, limb salvage and survival (editable")[0]
    charts = [s.chart for s in slide.shapes if s.has_chart]
    assert len(charts) == 1
    series = {s.name: s for s in charts[0].plots[0].series}
    assert set(series) == {
        found.endpoints["AFS"].label,
        "Limb salvage (freedom from above-ankle amputation)",
        "Overall survival",
    }
    afs = series[km.label]
    x = np.array([float(v.text) for v in afs._element.xpath("./c:xVal//c:v")])
    y = np.array(afs.values)
    assert x.size == y.size > 10
    # the step's value just after each event time is the estimate there (within the
    # 0.5-point thinning of an editable chart)
    for day in days:  # x is in months to 3 decimals: look 0.001 month later
        at = np.searchsorted(x, day / DAYS_PER_MONTH + 1e-3, side="right") - 1
        assert abs(y[at] - 100 * km.landmark(day).estimate) <= 0.5 + 1e-9
    risk = [s for s in slide.shapes if s.has_table]
    assert risk, "the number at risk is a native table under the chart"
    assert cells(risk[0].table)[0][0] == "Months"


def test_notes_carry_the_method_and_the_comment(deck):
    slide = slides_titled(deck, "Amputation-free survival, limb salvage and survival")[0]
    notes = slide.notes_slide.notes_text_frame.text
    assert "Kaplan-Meier with Greenwood" in notes
    assert "Committee asked for the no-dialysis view" in notes


def test_the_provenance_slide_reproduces_the_pack(deck, demo_store):
    text = "\n".join(slide_texts(deck.slides[-1]))
    assert demo_store.fingerprint in text
    assert "duckdb" in text
    assert "/report?card=kind%3Doverview%26DIALFL%3DN" in text
    assert "Small-cell protection off" in text


def test_no_slide_prints_a_column_code(deck):
    for slide in deck.slides:
        texts = slide_texts(slide) + [
            " ".join(c for row in cells(shape.table) for c in row)
            for shape in slide.shapes
            if shape.has_table
        ]
        if slide is deck.slides[-1]:
            continue  # the provenance slide's link holds the view's codes, as a URL does
        for text in texts:
            assert not codes_in(text), text


def test_pictures_are_left_out_without_a_browser(deck):
    kinds = {s.shape_type for slide in deck.slides for s in slide.shapes}
    assert MSO_SHAPE_TYPE.PICTURE not in kinds


# --- images and PDF (one browser) ---------------------------------------------------------


@pytest.fixture(scope="module")
def rendered(demo_store, chromium):
    return build_pack(demo_store, Basket.standard(VIEW, ("afs", "primary", "table2")))


@pytest.mark.browser
def test_figures_are_pictures_in_the_deck(rendered):
    deck = Presentation(io.BytesIO(write_pptx(rendered)))
    pictures = [
        s for slide in deck.slides for s in slide.shapes if s.shape_type == MSO_SHAPE_TYPE.PICTURE
    ]
    assert len(pictures) == 2  # the survival figure and the posterior


@pytest.mark.browser
def test_the_pdf_renders_to_pages_that_are_not_blank(rendered, tmp_path):
    pdf = tmp_path / "pack.pdf"
    pdf.write_bytes(write_pdf(rendered))
    pdftoppm = shutil.which("pdftoppm")
    assert pdftoppm, "poppler's pdftoppm is installed by make test"
    subprocess.run([pdftoppm, "-r", "30", "-png", str(pdf), str(tmp_path / "page")], check=True)
    from PIL import Image

    pages = sorted(tmp_path.glob("page-*.png"))
    assert len(pages) >= 2 + 3
    for page in pages:
        grey = np.asarray(Image.open(page).convert("L"))
        assert (grey < 128).mean() > 0.002, f"{page.name} is blank"


# --- the command line ---------------------------------------------------------------------


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "analytics", "pack", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )


@pytest.mark.slow
def test_the_command_line_writes_the_cards_it_is_given(tmp_path):
    out = tmp_path / "two.pptx"
    done = run_cli(
        "--card", "kind=table1&DIALFL=N", "--card", "kind=audit&title=Audit", "--out", str(out)
    )
    assert done.returncode == 0, done.stderr
    deck = Presentation(str(out))
    titles = [slide_texts(s)[0] for s in deck.slides]
    assert titles[1].startswith("Table 1: baseline characteristics")
    assert titles[-2].startswith("Audit")
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (("--out", "pack.txt"), ".pptx or .pdf"),
        (("--card", "kind=nope", "--out", "x.pptx"), "not a kind of card"),
        (("--view", "compare=" + "X" * 40, "--out", "x.pptx"), "compare"),
    ],
)
def test_the_command_line_refuses_what_it_cannot_use(args, said, tmp_path):
    done = run_cli(*[str(tmp_path / a) if a.endswith((".txt", ".pptx")) else a for a in args])
    assert done.returncode == 2
    assert said in done.stderr
    assert "Traceback" not in done.stderr


def test_cards_beyond_the_standard_pack_hold_the_analytics(demo_store):
    view = View()
    made = {
        kind: build_card(demo_store, Card(kind, view), Protection())
        for kind in ("competing", "reintervention", "wound_area", "all_healed")
    }
    assert not [k for k, c in made.items() if c.withheld or c.figure is None]
    aj = views.competing_view(demo_store, view.filters, "LS").aalen_johansen.landmark(183)
    first = made["competing"].tables[0].frame.iloc[0]
    assert (first["Estimate"], first["95% CI"]) == (
        fmt.pct(aj.estimate),
        fmt.ci_range(aj.lower, aj.upper),
    )
    course = wound_course(visit_cohort(demo_store, view.filters))
    healed = made["all_healed"].tables[0].frame
    expected = [(str(v.all_assessed), str(v.all_healed)) for v in course.visits if v.all_assessed]
    assert list(zip(healed["Assessed"], healed["All wounds healed"], strict=True)) == expected
    area = made["wound_area"].tables[0].frame
    assert area["Area measured"].tolist() == [str(v.measured) for v in course.visits]
    assert made["reintervention"].chart is not None


def test_a_compared_view_adds_the_table_by_group(demo_store):
    view = View.from_text("compare=SEX")
    card = build_card(demo_store, Card("overview", view), Protection())
    table = card.tables[-1]
    assert table.caption == "by sex"
    rows = table.frame.set_index("Sex")
    for level, name in (("M", "Male"), ("F", "Female")):
        f = views.level_filter(view.filters, "SEX", level)
        head = views.headline_view(demo_store, f, day=183)
        lm = head.estimate("AFS").landmark
        assert rows.loc[name, "Patients"] == str(demo_store.count(f))
        assert rows.loc[name, "Amputation-free survival"] == (
            f"{fmt.pct(lm.estimate)} ({fmt.ci_range(lm.lower, lm.upper)})"
        )
