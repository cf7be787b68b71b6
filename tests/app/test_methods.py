"""The method text once per page: an expandable "Methods" at the foot of the page, with
the CI type and the definitions of the page's words; figures and tables keep one
footnote line each, and no caption repeats the method."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from analytics.estimators.km import CI_LABELS
from tests.helpers import ROOT, open_page
from ui.glossary import TERMS


@pytest.mark.parametrize(
    ("page", "term"),
    [
        ("pages/overview.py", "Amputation-free survival (AFS)"),
        ("pages/afs.py", "Competing risk"),
        ("pages/primary_endpoint.py", "Bayesian primary endpoint"),
    ],
)
def test_one_methods_section_per_page(page, term):
    at = open_page(AppTest.from_file(str(ROOT / "app.py"), default_timeout=90), page, ci="log")
    found = [e for e in at.main.expander if e.label == "Methods"]
    assert len(found) == 1
    text = " ".join(m.value for m in found[0].markdown)
    assert TERMS[term] in text
    if page != "pages/primary_endpoint.py":  # the posterior has no Kaplan-Meier interval
        assert CI_LABELS["log"] in text
    assert not [c.value for c in at.main.caption if c.value.startswith("Method:")]
