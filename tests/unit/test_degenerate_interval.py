"""A degenerate interval (an estimate of 0 or 1, where the 95% CI has no width, or
limits that cannot be computed) reads "not estimable" in the page's text, the figure's
landmark mark and its hover, never "100.0% (95% CI 100.0-100.0)"."""

from __future__ import annotations

import math

import numpy as np
import pytest

from analytics.estimators.km import CI_TYPES, KaplanMeier
from charts.survival import km_figure
from ui import fmt


@pytest.mark.parametrize(
    ("lower", "upper", "estimable"),
    [(0.5, 0.7, True), (1.0, 1.0, False), (0.0, 0.0, False), (math.nan, 0.4, False),
     (0.2, math.inf, False), (0.99, 0.9900000001, False)],
)
def test_what_is_estimable(lower, upper, estimable):
    assert fmt.estimable(lower, upper) is estimable
    text = fmt.estimate_with_interval(1.0, lower, upper)
    assert text.endswith("(95% CI not estimable)") is not estimable
    assert ("not estimable" in fmt.ci_range(lower, upper)) is not estimable


@pytest.mark.parametrize("ci_type", CI_TYPES)
def test_no_event_by_the_landmark_reads_not_estimable_on_the_figure(ci_type):
    # ten patients, nobody has the event before day 200: S(183) = 1
    times = np.array([200, 210, 220, 230, 240, 250, 260, 270, 280, 290], dtype=float)
    events = np.array([1, 0, 1, 0, 0, 1, 0, 0, 0, 1])
    km = KaplanMeier(ci_type=ci_type).fit(times, events).result("AFS", "AFS", landmarks=(183,))
    lm = km.landmark(183)
    assert lm.estimate == 1.0
    assert not fmt.estimable(lm.lower, lm.upper)
    fig = km_figure(km, landmark_day=183).to_plotly_json()
    mark = next(t for t in fig["data"] if t.get("name") == "AFS landmark")
    assert "95% CI not estimable" in mark["hovertemplate"]
    assert mark["error_y"] == {"visible": False}
    # and a curve with events before the landmark keeps its interval
    early = KaplanMeier(ci_type=ci_type).fit(times - 40, events).result("AFS", "AFS", (183,))
    fig = km_figure(early, landmark_day=183).to_plotly_json()
    mark = next(t for t in fig["data"] if t.get("name") == "AFS landmark")
    assert "not estimable" not in mark["hovertemplate"]
