"""The tables of one chunk of the synthetic registry, in the project's data model
(`adsl`, `adtte`, `visits`, `adae`, as `analytics/model/schema.py` defines them) or as
CDISC ADaM datasets (`ADSL`, `ADTTE`, `ADAE` with the ADaM variables a statistician
expects beside the data model's). Every patient is invented.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pyarrow as pa

from analytics.model.schema import ADSL, ADTTE, ENDPOINTS
from data.registry_arrow import codes, day, finite, flag, number, one, per_row, whole
from data.registry_events import TERMS, adae_table, visits_table
from data.registry_patients import (
    CAUSES,
    COMPLETED,
    DEATH,
    DISPO,
    LOST,
    ONGOING,
    RACES,
    SMOKING,
    WITHDRAWN,
    Patients,
)

ARTERIES = ("PERONEAL ARTERY", "POSTERIOR TIBIAL ARTERY", "TIBIOPERONEAL TRUNK")
VEINS = ("PERONEAL VEIN", "POSTERIOR TIBIAL VEIN")
DESCS = (
    "MAJOR AMPUTATION",
    "DEATH",
    "CENSORED AT LAST CONTACT",
    "LOST TO FOLLOW-UP",
    "WITHDRAWN",
    "LOSS OF PRIMARY PATENCY",
    "OCCLUSION",
    "PERMANENT LOSS OF PATENCY",
    "PLANNED REINTERVENTION",
    "UNPLANNED REINTERVENTION",
)
D_AMP, D_DEATH, D_LAST, D_LOST, D_WD, D_PP, D_PAP, D_SP, D_PLANNED, D_UNPLANNED = range(10)
PATENCY_DESC = {"PP": D_PP, "PAP": D_PAP, "SP": D_SP}
TREATMENT = "TRANSCATHETER DEEP VEIN ARTERIALIZATION"


def adsl_table(study_id: str, site_ids: tuple[str, ...], ids: pa.Array, p: Patients) -> pa.Table:
    a, n = p.arrays, p.n
    dead = finite(p.death)
    cols = {
        "STUDYID": one(study_id, n),
        "USUBJID": ids,
        "SITEID": codes(p.site, site_ids),
        "AGE": pa.array(a["AGE"]),
        "AGEGR1": codes(a["AGE"] > 70, ("<=70", ">70")),
        "SEX": codes(~a["MALE"], ("M", "F")),
        "RACE": codes(a["RACE"], RACES, a["RACE_MISSING"]),
        "ETHNIC": codes(~a["HISP"], ("HISPANIC OR LATINO", "NOT HISPANIC OR LATINO")),
        "BMI": number(a["BMI"]),
        "SMOKSTAT": codes(a["SMOK"], SMOKING, a["SMOK_MISSING"]),
        "HTNFL": flag(a["HTN"]),
        "DLPFL": flag(a["DLP"]),
        "DIABFL": flag(a["DIAB"]),
        "DIABTYP": codes(~a["TYPE1"], ("TYPE 1", "TYPE 2"), ~a["DIAB"]),
        "CKDFL": flag(a["CKD"]),
        "DIALFL": flag(a["DIAL"]),
        "STROKEFL": flag(a["STROKE"]),
        "MIFL": flag(a["MI"]),
        "RUTHCAT": pa.array(np.where(a["RUTH6"], 6, 5).astype(np.int32)),
        "PRIORFL": flag(a["PRIOR"]),
        "NOOPTRS": codes(a["NOCONDUIT"], ("NO PEDAL TARGET", "NO AUTOGENOUS CONDUIT")),
        "ENRLDT": day(p.enrl),
        "PROCDT": day(p.proc),
        "TECHSFL": flag(a["TECH"]),
        "XARTERY": codes(a["XARTERY"], ARTERIES),
        "XVEIN": codes(a["XVEIN"], VEINS),
        "PROCMIN": number(a["PROCMIN"]),
        "RADMGY": number(a["RADMGY"]),
        "CONTRML": number(a["CONTRML"]),
        "CINFL": flag(a["CIN"]),
        "ACDURD": whole(a["ACDURD"]),
        "LSTCNTDT": day(p.proc + p.last),
        "DTHFL": flag(dead),
        "DTHDT": day(p.proc + p.death),
        "DTHCAUS": codes(np.maximum(p.cause, 0), CAUSES, ~dead),
        "EOSSTT": codes(p.dispo, DISPO),
    }
    assert tuple(cols) == ADSL.names
    return pa.table(cols)


def _last_contact(p: Patients) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Censoring at last contact: day, CNSR (2 lost, 3 withdrawn, else 1), description."""
    cnsr = np.select([p.dispo == LOST, p.dispo == WITHDRAWN], [2, 3], 1)
    desc = np.select([p.dispo == LOST, p.dispo == WITHDRAWN], [D_LOST, D_WD], D_LAST)
    return p.last, cnsr, desc


def endpoint_rows(p: Patients) -> dict[str, tuple[np.ndarray, ...]]:
    """Per endpoint: patient rows, AVAL, CNSR and description index, as the data model
    codes them (data/README.md, Endpoints)."""
    last, cnsr_last, desc_last = _last_contact(p)
    amp, death = finite(p.amp), finite(p.death)
    everyone = np.arange(p.n)
    # on the same day amputation wins over death, as in the wide format
    afs_amp = amp & (p.amp <= p.death)
    afs_event = amp | death
    out = {
        "AFS": (
            everyone,
            np.where(afs_amp, p.amp, np.where(death, p.death, last)),
            np.where(afs_event, 0, cnsr_last),
            np.select([afs_amp, death], [D_AMP, D_DEATH], desc_last),
        ),
        "LS": (
            everyone,
            np.where(amp, p.amp, np.where(death, p.death, last)),
            np.select([amp, death], [0, 4], cnsr_last),
            np.select([amp, death], [D_AMP, D_DEATH], desc_last),
        ),
        "OS": (
            everyone,
            np.where(death, p.death, last),
            np.where(death, 0, cnsr_last),
            np.where(death, D_DEATH, desc_last),
        ),
    }
    # patency and reinterventions: technical successes, censored at the first of
    # amputation (CNSR 5, winning a tie), death (4) and last contact
    tech = np.flatnonzero(p.arrays["TECH"])
    end = np.minimum(np.minimum(p.amp, p.death), last)[tech]
    at_amp = p.amp[tech] == end
    at_death = ~at_amp & (p.death[tech] == end)
    c_cnsr = np.select([at_amp, at_death], [5, 4], cnsr_last[tech])
    c_desc = np.select([at_amp, at_death], [D_AMP, D_DEATH], desc_last[tech])
    for code in ("PP", "PAP", "SP", "REINT"):
        t = p.patency[code][tech]
        ev = finite(t)
        if code == "REINT":
            what = np.where(p.planned[tech], D_PLANNED, D_UNPLANNED)
        else:
            what = np.full(tech.size, PATENCY_DESC[code])
        out[code] = (
            tech,
            np.where(ev, t, end),
            np.where(ev, 0, c_cnsr),
            np.where(ev, what, c_desc),
        )
    return out


def adtte_table(study_id: str, ids: pa.Array, p: Patients) -> pa.Table:
    # one endpoint after another: a query for one endpoint reads its row groups only
    parts = endpoint_rows(p)
    rows = np.concatenate([v[0] for v in parts.values()])
    which = np.concatenate([np.full(v[0].size, k) for k, v in enumerate(parts.values())])
    aval = np.concatenate([v[1] for v in parts.values()])
    names = list(parts)
    cols = {
        "STUDYID": one(study_id, rows.size),
        "USUBJID": per_row(ids, rows),
        "PARAMCD": codes(which, names),
        "PARAM": codes(which, [ENDPOINTS[k] for k in names]),
        "AVAL": number(aval),
        "CNSR": pa.array(np.concatenate([v[2] for v in parts.values()]).astype(np.int32)),
        "EVNTDESC": codes(np.concatenate([v[3] for v in parts.values()]), DESCS),
        "STARTDT": day(p.proc[rows]),
        "ADT": day(p.proc[rows] + aval),
    }
    assert tuple(cols) == ADTTE.names
    return pa.table(cols)


def dashboard_tables(
    study_id: str,
    site_ids: tuple[str, ...],
    ids: pa.Array,
    p: Patients,
    rng: np.random.Generator,
    missing_visits: float,
) -> Iterator[tuple[str, pa.Table]]:
    # one table at a time: each is written and dropped before the next is made
    yield "adsl", adsl_table(study_id, site_ids, ids, p)
    yield "adtte", adtte_table(study_id, ids, p)
    yield "visits", visits_table(ids, p, rng, missing_visits)
    yield "adae", adae_table(ids, p, rng)


# ADaM's end-of-study status, and the reason for a discontinuation
ADAM_STATUS = {
    COMPLETED: "COMPLETED",
    ONGOING: "ONGOING",
    DEATH: "DISCONTINUED",
    LOST: "DISCONTINUED",
    WITHDRAWN: "DISCONTINUED",
}
ADAM_REASON = {DEATH: "DEATH", LOST: "LOST TO FOLLOW-UP", WITHDRAWN: "WITHDRAWAL BY SUBJECT"}
CENSOR_DATE = {
    D_AMP: "DATE OF MAJOR AMPUTATION",
    D_DEATH: "DATE OF DEATH",
    D_LAST: "DATE OF LAST CONTACT",
    D_LOST: "DATE OF LAST CONTACT",
    D_WD: "DATE OF LAST CONTACT",
}


def _index(table: pa.Table, name: str) -> np.ndarray:
    """The code indices of a dictionary column of a table made in one piece."""
    return table.column(name).chunk(0).indices.to_numpy()


def _insert(table: pa.Table, after: str, cols: dict[str, pa.Array]) -> pa.Table:
    at = table.schema.get_field_index(after) + 1
    for k, (name, col) in enumerate(cols.items()):
        table = table.add_column(at + k, name, col)
    return table


def adam_tables(
    study_id: str, site_ids: tuple[str, ...], ids: pa.Array, p: Patients, rng: np.random.Generator
) -> Iterator[tuple[str, pa.Table]]:
    """ADSL, ADTTE and ADAE: the data model's columns (which follow ADaM naming) with
    ADaM's own variables beside them, and ADaM's codes where ADaM has its own."""
    n = p.n
    treatment = {"TRT01P": one(TREATMENT, n), "TRT01A": one(TREATMENT, n)}
    adsl = adsl_table(study_id, site_ids, ids, p)
    words = ("COMPLETED", "DISCONTINUED", "ONGOING")
    status = np.array([words.index(ADAM_STATUS[k]) for k in range(len(DISPO))])[p.dispo]
    reason = [ADAM_REASON.get(k, DISPO[k]) for k in range(len(DISPO))]
    adsl = adsl.set_column(
        adsl.schema.get_field_index("EOSSTT"),
        "EOSSTT",
        codes(status, words),
    )
    adsl = adsl.append_column(
        "DCSREAS", codes(p.dispo, reason, np.isin(p.dispo, [COMPLETED, ONGOING]))
    )
    adsl = _insert(adsl, "USUBJID", {"SUBJID": pa.array(p.number.astype(str))})
    adsl = _insert(adsl, "AGE", {"AGEU": one("YEARS", n)})
    adsl = _insert(
        adsl,
        "ETHNIC",
        {
            "ARM": one("DVA", n),
            "ACTARM": one("DVA", n),
            **treatment,
            "TRTSDT": day(p.proc),
            "TRTEDT": day(p.proc),
            "ITTFL": flag(np.ones(n, bool)),
            "SAFFL": flag(np.ones(n, bool)),
        },
    )
    yield "ADSL", _insert(adsl, "LSTCNTDT", {"LSTALVDT": day(p.proc + p.last)})
    del adsl

    adtte = adtte_table(study_id, ids, p)
    rows, desc = _index(adtte, "USUBJID"), _index(adtte, "EVNTDESC")
    censored = adtte["CNSR"].to_numpy() > 0
    censor_words = [CENSOR_DATE.get(k, DESCS[k]) for k in range(len(DESCS))]
    paramn = _index(adtte, "PARAMCD") + 1
    adtte = _insert(
        adtte,
        "USUBJID",
        {
            "SITEID": codes(p.site[rows], site_ids),
            "TRTP": one(TREATMENT, rows.size),
            "TRTA": one(TREATMENT, rows.size),
            "ITTFL": flag(np.ones(rows.size, bool)),
        },
    )
    adtte = _insert(adtte, "PARAM", {"PARAMN": pa.array(paramn.astype(np.int32))})
    yield "ADTTE", adtte.append_column("CNSDTDSC", codes(desc, censor_words, ~censored))
    del adtte

    adae = adae_table(ids, p, rng)
    rows = _index(adae, "USUBJID")
    fatal = _index(adae, "AEOUT") == 0
    amputation = _index(adae, "AETERM") == TERMS.index("MAJOR AMPUTATION")
    outcome = np.select([fatal, amputation], [0, 1], 2)
    related = _index(adae, "AEDEVFL")
    adae = _insert(adae, "AETERM", {"AEDECOD": adae["AETERM"]})
    adae = _insert(adae, "AEDEVFL", {"AEREL": codes(related, ("RELATED", "NOT RELATED"))})
    adae = adae.set_column(
        adae.schema.get_field_index("AEOUT"),
        "AEOUT",
        codes(outcome, ("FATAL", "RECOVERED/RESOLVED WITH SEQUELAE", "RECOVERED/RESOLVED")),
    )
    adae = _insert(adae, "ASTDY", {"TRTEMFL": flag(np.ones(rows.size, bool))})
    # ASTDY stays the data model's days from the procedure, so ASTDT = TRTSDT + ASTDY
    adae = _insert(adae, "AESEQ", {"ASTDT": day(p.proc[rows] + adae["ASTDY"].to_numpy())})
    adae = adae.add_column(0, "STUDYID", one(study_id, rows.size))
    adae = _insert(
        adae,
        "USUBJID",
        {
            "SITEID": codes(p.site[rows], site_ids),
            "TRTA": one(TREATMENT, rows.size),
            "SAFFL": flag(np.ones(rows.size, bool)),
        },
    )
    yield "ADAE", adae
