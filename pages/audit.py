"""NICE audit: the outcomes NICE interventional procedures guidance IPG773 asks every
centre doing percutaneous deep venous arterialisation to audit, for the patients in
view, in the guidance's order, each number with its denominator."""

from __future__ import annotations

import streamlit as st

from analytics.analyses.audit import (
    AMPUTATION,
    ANTICOAGULATION,
    MORTALITY,
    QUALITY_OF_LIFE,
    REINTERVENTION,
    SELECTION,
    TECHNIQUE,
    Audit,
)
from analytics.report.protected import audit_frame
from ui import audit as cached
from ui import data, disclosure, fmt
from ui.context import current
from ui.errors import shown_plainly
from ui.notes import no_patients, small_group_caution
from ui.tables import show_table

PERCENT = st.column_config.NumberColumn(format="percent")


def notes(result: Audit) -> dict[str, str]:
    """What each section's numbers are counted among."""
    landmark = fmt.at_day(result.day)
    return {
        SELECTION: "Among patients with a recorded value; missing values are counted and shown.",
        TECHNIQUE: "Crossing artery and vein among patients with a recorded vessel.",
        ANTICOAGULATION: "Median with interquartile range and range (Hyndman-Fan "
        "definition 2, as SAS), among patients with a recorded duration.",
        REINTERVENTION: "Patients among technical successes (the denominator): any = "
        "patients with a reintervention; planned (staged) or unplanned = the kind of each "
        "patient's first reintervention, the only one the data model records (a later one "
        "of the other kind is not counted). Where the data do not say the kind (wide "
        'extracts, other wording) it reads "not recorded" with the number of patients '
        "of unknown kind, never 0.",
        AMPUTATION: "Above-ankle amputation. Crude counts among all patients in view "
        "(patients lost to follow-up count as free of amputation); at "
        f"{landmark} 1 - Kaplan-Meier of limb salvage treats deaths as censored and "
        "overstates the risk when patients die, the cumulative incidence (Aalen-Johansen) "
        "counts death as a competing event.",
        QUALITY_OF_LIFE: "VascuQoL-6 total score, 6 to 24 (higher is better), among "
        f"patients with a score at the visit; follow-up read at the visit nearest {landmark}.",
        MORTALITY: "Death from any cause: the event that competes with amputation.",
    }


def render() -> None:
    ctx = current()
    st.title("NICE audit")
    st.caption(
        "NICE interventional procedures guidance IPG773 (2023) allows percutaneous deep "
        "venous arterialisation only with special arrangements for audit or research, and "
        "asks for details of patient selection (including dialysis), the technique, the "
        "duration of anticoagulation, planned and unplanned reinterventions, the major "
        "amputation rate and quality of life (recommendation 1.4)."
    )
    n = data.count(ctx.store, ctx.filters)
    if no_patients(n, "there is nothing to audit"):
        return
    small_group_caution(n)
    result = cached.audit(ctx.store, ctx.view)
    if result.lacking:
        st.info(f"Not in this extract: {', '.join(result.lacking)}.")
    else:
        st.caption("The extract holds every item of the audit.")
    if ctx.compare_by:
        st.caption("The audit is of all patients in view; it is not split by group.")
    explain = notes(result)
    protect = disclosure.active()
    items = [it for _, section in result.sections for it in section]
    texts = iter(protect.rows(items, result.n))
    for section, section_items in result.sections:
        st.subheader(section)
        st.markdown("\n".join(f"- {it.label}: **{next(texts)}**" for it in section_items))
        st.caption(explain[section])
    st.subheader("The whole audit")
    show_table(
        # under protection the counts are read from the values' text, row by row
        audit_frame(protect, result) if protect.on else result.to_frame(),
        name="nice-audit",
        title="NICE IPG773 audit",
        view=ctx.view,
        provenance=result.provenance,
        column_config={c: PERCENT for c in ("Estimate", "Lower", "Upper")},
        card="audit",
    )
    st.caption(result.provenance.footnote())


with shown_plainly("the NICE audit"):
    render()
