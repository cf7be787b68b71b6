"""The estimators: Kaplan-Meier, competing risks (Aalen-Johansen), log-rank and Cox
comparisons, the Bayesian binary endpoint and its imputation, descriptive statistics.

Enters: time, event and weight arrays (a patient row is weight 1, an aggregated count
is its number of patients), optionally a group. Leaves: frozen result objects whose
fitted values end in an underscore and which carry their method and provenance.
Estimators know nothing of the store, the extract or the view.
"""
