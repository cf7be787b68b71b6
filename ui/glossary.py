"""The words of this field as the pages use them, for the Glossary page and the
"Methods" notes: one definition per term, written for a committee, not a statistician."""

from __future__ import annotations

TERMS: dict[str, str] = {
    "Amputation-free survival (AFS)": (
        "Alive without a major (above-ankle) amputation of the treated limb. The event is "
        "whichever comes first, death or major amputation; PROMISE II's primary endpoint "
        "is AFS at 6 months."
    ),
    "Limb salvage": (
        "Freedom from major (above-ankle) amputation of the treated limb. A patient who "
        "dies with the limb is censored at death on the limb-salvage curve."
    ),
    "Overall survival": "Alive, whatever happened to the limb.",
    "Major and minor amputation": (
        "Major: above the ankle (below- or above-knee); it ends limb salvage. Minor: toes "
        "or forefoot, often part of healing a wound; it does not."
    ),
    "Rutherford class": (
        "The clinical grade of limb ischaemia: 4 rest pain, 5 minor tissue loss (a wound "
        "that has not healed, focal gangrene), 6 major tissue loss (extending above the "
        "forefoot). Chronic limb-threatening ischaemia is class 4 to 6; PROMISE II "
        "enrolled classes 5 and 6. A fall in class after treatment is improvement."
    ),
    "Deep vein arterialization (DVA)": (
        "A transcatheter connection from a tibial artery to a deep calf vein, whose valves "
        "are disabled so that arterial blood reaches the foot through the veins; for "
        "patients with no option of revascularising the arteries (NICE IPG773)."
    ),
    "Primary patency": (
        "The circuit stays open with no procedure on it: the first reintervention or "
        "occlusion ends it."
    ),
    "Primary-assisted patency": (
        "The circuit never occludes, reinterventions made while it is still open (to keep "
        "it open) allowed."
    ),
    "Secondary patency": (
        "The circuit is open, even after it occluded and was reopened: only a circuit "
        "lost for good ends it."
    ),
    "Kaplan-Meier estimate": (
        "The share of patients free of the event at a time, counting each patient for as "
        "long as they were followed: a patient followed for less is not counted as free "
        "of the event nor as having had it."
    ),
    "95% confidence interval": (
        "The range of values compatible with the data. Log-log (the default, as SAS) keeps "
        "it between 0 and 100%; log is R's default; plain is the simple symmetric one. "
        "With no event, or everyone having one, there is no interval: it reads "
        '"not estimable".'
    ),
    "Competing risk": (
        "An event that prevents the one of interest: a patient who dies can no longer lose "
        "the limb. The cumulative incidence (Aalen-Johansen) accounts for it; one minus "
        "Kaplan-Meier, which treats the dead as if they could still lose the limb, "
        "overstates the risk when many die."
    ),
    "Performance goal": (
        "The AFS rate at 6 months the trial had to exceed (54% in PROMISE II), set from "
        "what patients with no option usually reach."
    ),
    "Bayesian primary endpoint": (
        "The probability that the true AFS rate at 6 months exceeds the performance goal, "
        "given the outcomes seen and a flat prior. The trial succeeds when it exceeds the "
        "threshold (0.977). A patient followed for less than 6 months has an unknown "
        "outcome, imputed from how the others fared."
    ),
    "Log-rank test and hazard ratio": (
        "The log-rank test asks whether the groups' curves differ at all; the hazard "
        "ratio says how much higher the rate of the event is in one group than in the "
        "reference group (1: no difference)."
    ),
    "Baseline and post-baseline": (
        "A baseline characteristic is known before the procedure; only those define groups "
        "to compare. A post-baseline one (technical success, death) defines groups by what "
        "happened after day 0, so a group holds only patients who lived long enough to "
        "show it (immortal-time bias): such a comparison is descriptive only."
    ),
    "Day 0 and the landmark": (
        "Follow-up counts from the procedure (day 0). The landmark is the day of the "
        "headline numbers, 183 days (6 months) by default; a month is 30.4 days."
    ),
}
