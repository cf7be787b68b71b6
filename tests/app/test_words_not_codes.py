"""Words, not codes: no column name of the data model and no code in capitals appears
in what a person reads on any page (text, metrics, tables, widget options, figures),
with filters and a comparison active. The URL keeps the codes."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from streamlit.testing.v1 import AppTest

from tests.helpers import ROOT, codes_in
from ui.navigation import PAGES

# figure keys that hold data or identifiers, not text a reader sees
HIDDEN = {"customdata", "meta", "x", "y", "legendgroup", "categoryarray", "tickvals", "uid"}


def _strings(value: object) -> Iterator[str]:
    if isinstance(value, dict):
        for key, item in value.items():
            if key not in HIDDEN:
                yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)
    elif isinstance(value, str):
        yield value


def readable(at: AppTest) -> Iterator[str]:
    for kind in (
        "markdown",
        "caption",
        "info",
        "warning",
        "error",
        "success",
        "title",
        "subheader",
        "header",
    ):
        for element in getattr(at, kind):
            yield element.value
    for m in at.metric:
        yield from (m.label, m.value, str(m.delta))
    for shown in [d.value for d in at.dataframe] + [t.value for t in at.table]:
        yield " | ".join(map(str, shown.columns))
        for row in shown.astype(str).to_numpy().tolist():
            yield " | ".join(row)
    for widget in [*at.selectbox, *at.multiselect, *at.radio]:
        yield widget.label
        yield from map(str, widget.options)  # as shown: after the widget's format_func
    for button in at.button:
        yield button.label
    for chart in at.get("plotly_chart"):
        yield from _strings(json.loads(chart.proto.spec))


@pytest.mark.slow
@pytest.mark.parametrize("page", [p for p, _, _ in PAGES if p != "pages/design.py"])
def test_no_code_on_any_page(page):
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.query_params["DIALFL"] = "N"
    at.query_params["where"] = "RUTHCAT=5,6"
    at.query_params["compare"] = "SEX"
    at.switch_page(page)
    at.run()
    assert not at.exception
    leaks = {text[:120]: sorted(codes_in(text)) for text in readable(at) if codes_in(text)}
    assert not leaks, leaks
