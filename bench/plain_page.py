"""The survival page written the plain way, for `bench/scale.py` only: the registry in
`DVA_DATA_DIR` read by pandas once per process, a dialysis filter as a boolean mask, and
on every rerun lifelines' Kaplan-Meier for the three endpoints (curves with CI, drawn
with Plotly, with estimates and numbers at risk at 6 months) and its Aalen-Johansen
estimate of major amputation with death as a competing risk, as the dashboard's page
shows them. No data check, no filter state, no caching of results."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st
from lifelines import AalenJohansenFitter, KaplanMeierFitter

ENDPOINTS = {"AFS": "Amputation-free survival", "LS": "Limb salvage", "OS": "Survival"}
LANDMARK = 183.0


@st.cache_resource
def frames(folder: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    src = Path(folder)
    return pd.read_parquet(src / "adsl.parquet"), pd.read_parquet(src / "adtte.parquet")


adsl, adtte = frames(os.environ["DVA_DATA_DIR"])
chosen = st.sidebar.multiselect("Dialysis", ["Y", "N"], default=["Y", "N"], key="DIALFL")
ids = adsl.loc[adsl["DIALFL"].isin(chosen), "USUBJID"]
rows = adtte[adtte["USUBJID"].isin(ids)]
st.write(f"**{len(ids):,} of {len(adsl):,} patients**")

figure = go.Figure()
table = []
for code, label in ENDPOINTS.items():
    part = rows[rows["PARAMCD"] == code]
    km = KaplanMeierFitter(label=label).fit(part["AVAL"], 1 - part["CNSR"])
    curve = km.survival_function_
    band = km.confidence_interval_
    x = curve.index.to_numpy() / 30.4375
    figure.add_scatter(x=x, y=curve.iloc[:, 0], name=label, line_shape="hv")
    figure.add_scatter(x=x, y=band.iloc[:, 0], line_shape="hv", showlegend=False)
    figure.add_scatter(x=x, y=band.iloc[:, 1], line_shape="hv", fill="tonexty", showlegend=False)
    at = km.survival_function_at_times(LANDMARK).iloc[0]
    at_risk = int((part["AVAL"] >= LANDMARK).sum())
    table.append({"endpoint": label, "at 6 months": at, "at risk": at_risk})
st.plotly_chart(figure)
st.dataframe(pd.DataFrame(table))

limb = rows[rows["PARAMCD"] == "LS"].set_index("USUBJID")
death = rows[rows["PARAMCD"] == "OS"].set_index("USUBJID").reindex(limb.index)
kind = np.where(
    limb["CNSR"] == 0, 1, np.where((death["CNSR"] == 0) & (death["AVAL"] <= limb["AVAL"]), 2, 0)
)
aj = AalenJohansenFitter(calculate_variance=True).fit(
    limb["AVAL"].to_numpy(), kind, event_of_interest=1
)
incidence = aj.cumulative_density_
st.metric("Major amputation by 6 months", f"{incidence.loc[:LANDMARK].iloc[-1, 0]:.1%}")
st.plotly_chart(go.Figure(go.Scatter(x=incidence.index / 30.4375, y=incidence.iloc[:, 0])))
