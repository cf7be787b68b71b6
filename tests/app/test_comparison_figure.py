"""An exported comparison figure stands alone on a slide: its caption states the
log-rank p and every hazard ratio the page shows, under one provenance line."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
from streamlit.testing.v1 import AppTest

from analytics.analyses.views import survival_view
from analytics.model.filters import FilterState
from analytics.model.labels import DEFAULT
from analytics.model.view import View
from charts import export
from tests.helpers import ROOT
from ui import fmt
from ui.context import Context
from ui.survival import comparison_text, curves_figure, group_name


@pytest.fixture
def compared(demo_store):
    state = FilterState.parse(["DIALFL=N"])
    view = survival_view(demo_store, state, ["AFS"], by="SEX")
    return view, view.comparison["AFS"]


def test_the_caption_states_the_test_and_every_hazard_ratio(demo_store, compared):
    _, cmp = compared
    text = comparison_text(cmp, DEFAULT)
    assert text.startswith(fmt.logrank(cmp.logrank_p))
    for level, (hr, lower, upper, _) in cmp.hazard_ratios.items():
        ref = DEFAULT.value("SEX", cmp.reference)
        assert f"HR {DEFAULT.value('SEX', level)} vs {ref} {fmt.ratio(hr, lower, upper)}" in text


def _figure(demo_store, compared):
    view, cmp = compared
    ctx = Context(demo_store, View(view.filters, compare="SEX"))
    results = {group_name(DEFAULT, "SEX", lv): km for lv, km in view.groups["AFS"].items()}
    return curves_figure(
        ctx, results, order=list(results), y_title="AFS", theme="presentation",
        title="Amputation-free survival by sex", comparison=comparison_text(cmp, DEFAULT),
        footnote=view.provenance.footnote(),
    )


def test_one_provenance_line_not_one_per_group(demo_store, compared):
    fig = _figure(demo_store, compared)
    assert fig.layout.meta["footnote"] == compared[0].provenance.footnote()
    assert fig.layout.meta["footnote"].count("Data:") == 1


@pytest.mark.browser
def test_the_exported_svg_carries_the_test_shown_on_the_page(chromium, demo_store, compared):
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=90)
    at.query_params["DIALFL"] = "N"
    at.query_params["compare"] = "SEX"
    at.switch_page("pages/afs.py")
    at.run()
    shown = " ".join(m.value for m in at.markdown)
    _, cmp = compared
    assert fmt.logrank(cmp.logrank_p) in shown
    words = "".join(ET.fromstring(export.to_svg(_figure(demo_store, compared))).itertext())
    assert fmt.logrank(cmp.logrank_p) in words
    for level, (hr, lower, upper, _) in cmp.hazard_ratios.items():
        assert fmt.ratio(hr, lower, upper) in words
        assert fmt.ratio(hr, lower, upper) in " ".join(
            " ".join(map(str, row)) for t in at.table for row in t.value.to_numpy().tolist()
        ), level
