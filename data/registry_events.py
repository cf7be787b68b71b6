"""Scheduled visits (wounds, Rutherford class, quality of life) and adverse events of one
chunk of the synthetic registry, built without a loop over patients. Every patient is
invented.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from analytics.model.schema import ADAE, DAYS_PER_MONTH, VISIT_SCHEDULE, VISITS
from data.generate_demo import BACKGROUND_EVENTS
from data.registry_arrow import codes, flag, number, per_row, whole
from data.registry_patients import CAUSES, NEVER, Patients

WOUND = ("HEALED", "HEALING", "NOT HEALING")
QOL_VISITS = ("BASELINE", "MONTH 3", "MONTH 6", "MONTH 12")
# term, serious, device- or procedure-related; the first ones are made from outcomes
BACKGROUND = (*BACKGROUND_EVENTS, ("TOE AMPUTATION", "N", "N"))
FIXED = (
    ("MAJOR AMPUTATION", "Y", "N"),
    ("CIRCUIT OCCLUSION", "Y", "Y"),
    ("CONTRAST-INDUCED NEPHROPATHY", "N", "Y"),
    *((f"DEATH ({c})", "Y", "N") for c in CAUSES),
)
TERMS = tuple(t for t, _, _ in (*FIXED, *BACKGROUND))
_SERIOUS = np.array([s == "Y" for _, s, _ in (*FIXED, *BACKGROUND)])
_DEVICE = np.array([d == "Y" for _, _, d in (*FIXED, *BACKGROUND)])
_FIRST_DEATH = 3
# each visit on its month's day, within a window that keeps visits in schedule order
VISIT_DAY = np.round(np.array(list(VISIT_SCHEDULE.values())) * DAYS_PER_MONTH).astype(np.int64)
VISIT_WINDOW = np.minimum(14, np.round(VISIT_DAY * 0.1)).astype(np.int64)


def visits_table(ids: pa.Array, p: Patients, rng: np.random.Generator, missing: float) -> pa.Table:
    """A visit exists while the patient is followed (on or before the last contact,
    before death) and was not missed; wound fields are empty after a major amputation
    or when the wound was not assessed."""
    n, names = p.n, list(VISIT_SCHEDULE)
    k = len(names)
    days = VISIT_DAY + np.round((rng.random((n, k)) * 2 - 1) * VISIT_WINDOW).astype(np.int64)
    end = np.where(p.death < NEVER, p.death - 1, p.last)
    held = (days <= end[:, None]) & (rng.random((n, k)) >= missing)
    held[:, 0] = True
    i, j = np.nonzero(held)
    d = days[i, j].astype(np.float64)

    a = p.arrays
    base = np.clip(np.round(rng.lognormal(1.3, 1.0, n), 1), 0.2, 60.0)
    # days to healing of the target wound: slower with diabetes, dialysis and class 6
    slow = np.exp(-0.4 * a["DIAB"] - 0.3 * a["DIAL"] - 0.4 * a["RUTH6"])
    heal = np.ceil(365.0 * (rng.standard_exponential(n) / (1.3 * slow)) ** (1 / 1.4))
    others = heal + np.ceil(rng.exponential(45.0, n))  # the other wounds close later
    healed = d >= heal[i]
    shrink = np.clip(1 - d / heal[i], 0, 1) ** 0.7 * rng.lognormal(0.0, 0.12, i.size)
    area = np.where(healed, 0.0, np.maximum(np.round(base[i] * shrink, 1), 0.1))
    area[j == 0] = base[i[j == 0]]
    status = np.select([healed, area < base[i]], [0, 1], 2)
    amputated = p.amp[i] <= d
    unassessed = (rng.random(i.size) < 0.05) & (j > 0)
    no_wound = amputated | unassessed
    ruth0 = np.where(a["RUTH6"], 6, 5)[i]
    ruth = np.where(
        healed,
        3 + (rng.random(n) < 0.5)[i],
        np.where((ruth0 == 6) & (area < base[i] / 2), 5, ruth0),
    )
    q0 = np.clip(np.round(rng.normal(11.0, 3.0, n)), 6, 24)
    qol = np.clip(np.round(q0[i] + 6 * healed + rng.normal(0.0, 2.0, i.size)), 6, 24)
    qol_visit = np.isin(names, QOL_VISITS)[j] & (rng.random(i.size) >= 0.1)
    qol[j == 0] = q0[i[j == 0]]
    cols = {
        "USUBJID": per_row(ids, i),
        "AVISIT": codes(j, names),
        "AVISITN": pa.array(np.array(list(VISIT_SCHEDULE.values()), dtype=np.float64)[j]),
        "ADT": pa.array((p.proc[i] + d).astype(np.int32), pa.date32()),
        "ADY": pa.array(d.astype(np.int32)),
        "WNDAREA": number(np.where(no_wound, np.nan, area)),
        "WNDSTAT": codes(status, WOUND, no_wound | (j == 0)),
        "ALLHLFL": flag(d >= others[i], no_wound),
        "RUTHCAT": whole(np.where(amputated, np.nan, ruth)),
        "QOLSCORE": whole(np.where(qol_visit | (j == 0), qol, np.nan)),
    }
    assert tuple(cols) == VISITS.names
    return pa.table(cols)


def adae_table(ids: pa.Array, p: Patients, rng: np.random.Generator) -> pa.Table:
    """Major amputations, deaths, circuit occlusions and contrast nephropathy as they
    happened, and background events at any time while followed and alive."""
    n = p.n
    end = np.minimum(p.last, p.death)
    amp = np.flatnonzero(p.amp < NEVER)
    dead = np.flatnonzero(p.death < NEVER)
    occ = np.flatnonzero(p.patency["PAP"] < NEVER)
    cin = np.flatnonzero(p.arrays["CIN"])
    count = rng.poisson(0.8, n)
    bg = np.repeat(np.arange(n), count)
    who = np.concatenate([amp, occ, cin, dead, bg])
    when = np.concatenate(
        [
            p.amp[amp],
            p.patency["PAP"][occ],
            np.minimum(rng.integers(1, 4, cin.size), end[cin]),
            p.death[dead],
            np.floor(rng.random(bg.size) * (end[bg] + 1)),
        ]
    )
    term = np.concatenate(
        [
            np.full(amp.size, 0),
            np.full(occ.size, 1),
            np.full(cin.size, 2),
            _FIRST_DEATH + p.cause[dead],
            len(FIXED) + rng.integers(0, len(BACKGROUND), bg.size),
        ]
    )
    order = np.lexsort((term, when, who))
    who, when, term = who[order], when[order], term[order]
    seq = np.arange(who.size) - np.searchsorted(who, who, "left") + 1
    fatal = (term >= _FIRST_DEATH) & (term < len(FIXED))
    cols = {
        "USUBJID": per_row(ids, who),
        "AESEQ": pa.array(seq.astype(np.int32)),
        "AETERM": codes(term, TERMS),
        "AESER": flag(_SERIOUS[term]),
        "AEDEVFL": flag(_DEVICE[term]),
        "ASTDY": pa.array(when.astype(np.int32)),
        "AEOUT": codes(~fatal, ("FATAL", "NOT FATAL")),
    }
    assert tuple(cols) == ADAE.names
    return pa.table(cols)
