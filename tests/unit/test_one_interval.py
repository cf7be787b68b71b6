"""One estimate, one interval: 1 - Kaplan-Meier of limb salvage at the landmark has the
same 95% CI on the AFS page's competing-risks panel, on the NICE audit and as the
complement of the limb-salvage curve's own interval, for every CI type."""

from __future__ import annotations

import pytest

from analytics.analyses import views
from analytics.analyses.audit import audit_view
from analytics.model.filters import FilterState
from analytics.model.view import CI_TYPES

DAY = 183.0


@pytest.mark.parametrize("ci_type", CI_TYPES)
@pytest.mark.parametrize("filters", [[], ["DIALFL=N"]])
def test_the_same_quantity_has_the_same_interval_everywhere(demo_store, ci_type, filters):
    state = FilterState.parse(filters)
    curve = views.survival_view(demo_store, state, ["LS"], landmarks=(DAY,), ci_type=ci_type)
    ls = curve.endpoints["LS"].landmark(DAY)
    panel = views.competing_view(demo_store, state, "LS", landmarks=(DAY,), ci_type=ci_type)
    assert panel is not None
    one_minus = panel.one_minus_km.landmark(DAY)
    audit = audit_view(demo_store, state, DAY, ci_type)
    row = next(e for e in audit.amputation if "1 - Kaplan-Meier" in e.label)
    # the complement of the limb-salvage interval, computed here by hand
    expected = (1 - ls.estimate, 1 - ls.upper, 1 - ls.lower)
    assert (one_minus.estimate, one_minus.lower, one_minus.upper) == pytest.approx(expected,
                                                                                  abs=1e-12)
    assert (row.estimate, row.lower, row.upper) == pytest.approx(expected, abs=1e-12)
