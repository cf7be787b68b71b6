"""Figures for the dashboard: Plotly drawings of the result objects in ``analytics``.

Plotting lives apart from estimation. Nothing here imports Streamlit or computes a
statistic: every number drawn comes from a result object (``KMResult``, ``BayesResult``,
a cumulative-incidence result, forest-plot rows). What this package does decide is how
things look: colours, step shapes, thinning of long curves, fonts and the footnote.

Modules: ``palette`` (colour-blind-safe colours, stable per group level), ``theme``
(normal and presentation modes), ``survival`` (Kaplan-Meier with the at-risk table),
``competing`` (cumulative incidence beside 1 - KM), ``posterior`` (Bayesian primary
endpoint), ``forest`` (subgroups), ``wounds`` and ``wound_trends`` (wound healing and
Rutherford class over the visits), ``funnel`` (sites), ``design`` (the trial design's
simulations), ``evidence`` (the cohort beside the published evidence), ``export`` (PNG,
SVG and CSV bytes). The underscored modules are their shared pieces: ``_curves`` (step
curves and censor marks), ``_draw`` (legend, caption, goal line, layout), ``_steps``
(thinning), ``_text`` (number formats), ``_risk_table`` and ``_km_marks`` (of the
Kaplan-Meier figure), ``_forest_rows``, ``_evidence_rows``, ``_wound_style``.
"""
