"""The invented patients of a synthetic registry: sites, baseline characteristics and
outcomes (amputation, death, patency, follow-up), as numpy arrays in days from the
procedure. Used by `data.generate_registry`; every patient is invented.

Each chunk of a study's patients is drawn from its own generator, seeded by the registry's
seed, the study and the chunk, so that the output does not depend on what ran before it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from data.generate_demo import OTHER_DEATH_CAUSES

RACES = ("WHITE", "BLACK OR AFRICAN AMERICAN", "ASIAN", "UNKNOWN")
SMOKING = ("CURRENT", "FORMER", "NEVER")
# Disposition codes of the data model, in the order of `Patients.dispo`.
DISPO = ("COMPLETED", "ONGOING", "DEATH", "LOST TO FOLLOW-UP", "WITHDRAWN")
COMPLETED, ONGOING, DEATH, LOST, WITHDRAWN = range(5)
NEVER = np.inf  # an event that did not happen (or was not observed)


@dataclass(frozen=True)
class Settings:
    patients: int
    sites: int
    studies: int
    first_year: int
    last_year: int
    seed: int
    missing_bmi: float = 0.08
    missing_smoking: float = 0.05
    missing_race: float = 0.04
    lost: float = 0.06
    withdrawn: float = 0.02
    missing_visits: float = 0.08
    # sd of the per-site log-hazard frailty and of the per-site case-mix offsets (logit)
    site_sd: float = 0.2
    case_mix_sd: float = 0.35
    follow_up_days: int = 1096  # planned follow-up: three years

    def __post_init__(self) -> None:
        if self.patients < self.sites:
            raise ValueError("every site needs a patient: --patients must be >= --sites")
        if not 1 <= self.studies <= self.sites:
            raise ValueError("each study holds whole sites: 1 <= --studies <= --sites")
        if self.first_year > self.last_year:
            raise ValueError("the first enrolment year is after the last")
        for name in (
            "missing_bmi",
            "missing_smoking",
            "missing_race",
            "lost",
            "withdrawn",
            "missing_visits",
        ):
            if not 0 <= getattr(self, name) < 1:
                raise ValueError(f"{name.replace('_', '-')} must be a share from 0 to 1")

    @property
    def window(self) -> tuple[int, int, int]:
        """First and last enrolment day and the data cut-off, in days since 1970."""
        start = int(np.datetime64(f"{self.first_year}-01-01", "D").astype(np.int64))
        end = int(np.datetime64(f"{self.last_year}-12-31", "D").astype(np.int64))
        # the data are cut a year after enrolment closes: the last patients are ongoing
        return start, end, end + 365


@dataclass(frozen=True)
class Sites:
    ids: tuple[str, ...]
    study: np.ndarray  # study index of each site
    patients: np.ndarray  # patients per site
    opened: np.ndarray  # first enrolment day (days since 1970)
    frailty_amp: np.ndarray  # log-hazard multipliers
    frailty_death: np.ndarray
    mix: dict[str, np.ndarray]  # logit offsets of the case mix, and the age shift
    races: np.ndarray  # (sites, 4) cumulative race probabilities

    def of_study(self, study: int) -> np.ndarray:
        return np.flatnonzero(self.study == study)


def make_sites(s: Settings) -> Sites:
    rng = np.random.default_rng([s.seed, 0])
    k = s.sites
    width = max(3, len(str(k)))
    # uneven site sizes, as registries have: a few large centres, many small ones
    weight = rng.gamma(1.2, 1.0, k)
    counts = 1 + rng.multinomial(s.patients - k, weight / weight.sum())
    start, end, _ = s.window
    # sites join over the first two thirds of the enrolment window
    opened = start + (rng.random(k) ** 1.5 * (end - start) * 2 / 3).astype(np.int64)
    opened[0] = start
    shared = rng.normal(0.0, s.site_sd, k)
    mix = {
        name: rng.normal(0.0, s.case_mix_sd, k)
        for name in ("dial", "diab", "ruth6", "ckd", "tech", "hisp")
    }
    mix["age"] = rng.normal(0.0, 8 * s.case_mix_sd, k)
    base = np.array([0.72, 0.17, 0.04, 0.07])
    races = rng.dirichlet(base * (30 / max(s.case_mix_sd, 0.05)), k)
    return Sites(
        ids=tuple(f"S{i + 1:0{width}d}" for i in range(k)),
        study=np.arange(k) % s.studies,
        patients=counts,
        opened=opened,
        frailty_amp=shared + rng.normal(0.0, s.site_sd / 2, k),
        frailty_death=shared / 2 + rng.normal(0.0, s.site_sd / 2, k),
        mix=mix,
        races=np.cumsum(races, axis=1),
    )


@dataclass
class Patients:
    """One chunk of one study's patients; times in days from the procedure."""

    number: np.ndarray  # registry-wide patient number (makes USUBJID)
    site: np.ndarray  # site index
    arrays: dict[str, np.ndarray]  # baseline and procedure columns (see make_patients)
    enrl: np.ndarray  # days since 1970
    proc: np.ndarray
    amp: np.ndarray  # day of major amputation, NEVER if none observed
    death: np.ndarray  # day of death, NEVER if none observed
    last: np.ndarray  # day of last contact
    dispo: np.ndarray  # index into DISPO
    cause: np.ndarray  # index into CAUSES, -1 when alive
    patency: dict[str, np.ndarray]  # PP, PAP, SP, REINT event days (NEVER: none)
    planned: np.ndarray  # the first reintervention was planned

    @property
    def n(self) -> int:
        return int(self.number.size)


CAUSES = OTHER_DEATH_CAUSES  # the demo's causes of death


def _expit(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _logit(p: float) -> float:
    return float(np.log(p / (1 - p)))


def _weibull_days(rng: np.random.Generator, year_hazard: np.ndarray, shape: float) -> np.ndarray:
    """Whole days to an event whose cumulative hazard is year_hazard * (t / 365)**shape."""
    e = rng.standard_exponential(year_hazard.size)
    return np.ceil(365.0 * (e / year_hazard) ** (1.0 / shape))


def make_patients(
    s: Settings, sites: Sites, study: int, chunk: int, lo: int, hi: int, first_number: int
) -> Patients:
    """Patients lo..hi-1 of `study` (in site order), numbered from first_number + lo + 1."""
    rng = np.random.default_rng([s.seed, 1, study, chunk])
    own = sites.of_study(study)
    site = own[np.searchsorted(np.cumsum(sites.patients[own]), np.arange(lo, hi), "right")]
    n = site.size
    _start, end, cutoff = s.window
    enrl = sites.opened[site] + (rng.random(n) * (end - sites.opened[site] + 1)).astype(np.int64)
    # within a site, patients are numbered in order of enrolment
    order = np.lexsort((enrl, site))
    site, enrl = site[order], enrl[order]
    proc = enrl + rng.integers(0, 15, n)
    mix = {k: v[site] for k, v in sites.mix.items()}

    a: dict[str, np.ndarray] = {}
    age = np.clip(np.round(rng.normal(70 + mix["age"], 10)), 35, 95).astype(np.int32)
    a["AGE"] = age
    a["MALE"] = rng.random(n) < 0.68
    a["RACE"] = (rng.random(n)[:, None] > sites.races[site]).sum(axis=1).clip(0, 3)
    a["RACE_MISSING"] = rng.random(n) < s.missing_race
    a["HISP"] = rng.random(n) < _expit(_logit(0.12) + mix["hisp"])
    bmi = np.clip(np.round(rng.lognormal(3.27, 0.18, n), 1), 14.0, 60.0)
    a["BMI"] = np.where(rng.random(n) < s.missing_bmi, np.nan, bmi)
    a["SMOK"] = np.searchsorted([0.25, 0.70], rng.random(n), "right")
    a["SMOK_MISSING"] = rng.random(n) < s.missing_smoking
    a["HTN"] = rng.random(n) < 0.85
    a["DLP"] = rng.random(n) < 0.68
    diab = rng.random(n) < _expit(_logit(0.72) + mix["diab"])
    a["DIAB"] = diab
    a["TYPE1"] = diab & (rng.random(n) < 0.06)
    dial = rng.random(n) < _expit(_logit(0.18) + mix["dial"])
    a["DIAL"] = dial
    # dialysis is kidney disease at its last stage
    a["CKD"] = dial | (rng.random(n) < _expit(_logit(0.22) + mix["ckd"]))
    a["STROKE"] = rng.random(n) < 0.12
    a["MI"] = rng.random(n) < 0.22
    ruth6 = rng.random(n) < _expit(_logit(0.32) + mix["ruth6"])
    a["RUTH6"] = ruth6
    a["PRIOR"] = rng.random(n) < 0.6
    a["NOCONDUIT"] = rng.random(n) < 0.1
    tech = rng.random(n) < _expit(_logit(0.95) + mix["tech"])
    a["TECH"] = tech
    a["XARTERY"] = np.searchsorted([0.3, 0.85], rng.random(n), "right")
    a["XVEIN"] = (rng.random(n) < 0.75).astype(np.int8)
    a["PROCMIN"] = np.where(rng.random(n) < 0.03, np.nan, np.round(rng.gamma(6.0, 35.0, n)))
    a["RADMGY"] = np.where(rng.random(n) < 0.05, np.nan, np.round(rng.lognormal(5.0, 0.7, n)))
    a["CONTRML"] = np.where(rng.random(n) < 0.04, np.nan, np.round(rng.gamma(4.0, 30.0, n)))
    a["CIN"] = rng.random(n) < 0.03
    ac = np.array([30.0, 90.0, 180.0, 365.0])[rng.integers(0, 4, n)]
    a["ACDURD"] = np.where(rng.random(n) < 0.1, np.nan, ac)

    # outcomes: Weibull hazards (amputation early, death steadier), with the demo's
    # directions: dialysis, diabetes and Rutherford 6 raise amputation; age and
    # dialysis raise death; each site's frailty multiplies both
    lp_amp = 0.55 * ruth6 + 0.45 * dial + 0.3 * diab + 0.7 * ~tech + sites.frailty_amp[site]
    lp_death = (
        0.035 * (age - 70)
        + 0.9 * dial
        + 0.2 * diab
        + 0.25 * (a["CKD"] & ~dial)
        + 0.3 * ruth6
        + sites.frailty_death[site]
    )
    amp = _weibull_days(rng, 0.22 * np.exp(lp_amp), 0.55)
    death = _weibull_days(rng, 0.13 * np.exp(lp_death), 0.9)

    # the horizon of follow-up: the planned end, or the data cut-off for patients still
    # followed then (last seen up to six weeks before it)
    to_cut = cutoff - proc
    ongoing = to_cut < s.follow_up_days
    horizon = np.where(
        ongoing,
        np.maximum(to_cut - rng.integers(0, 43, n), 1),
        s.follow_up_days + rng.integers(-7, 8, n),
    ).astype(float)
    dispo = np.where(ongoing, ONGOING, COMPLETED)
    # lost and withdrawn patients leave before their horizon and before death, drawn
    # among those who could leave after a month so that the shares are as asked
    for code, share, shape in ((LOST, s.lost, 2.5), (WITHDRAWN, s.withdrawn, 1.5)):
        room = np.minimum(horizon, death)
        can = (room > 45) & (dispo != LOST)
        p = min(1.0, share * n / max(int(can.sum()), 1))
        leave = can & (rng.random(n) < p)
        when = 30 + np.floor((room - 31) * rng.beta(1.0, shape, n))
        horizon = np.where(leave, when, horizon)
        dispo = np.where(leave, code, dispo)

    died = death <= horizon
    death = np.where(died, death, NEVER)
    amp = np.where((amp <= horizon) & (amp <= death), amp, NEVER)
    last = np.where(died, death, horizon)
    dispo = np.where(died, DEATH, dispo)
    cause = np.where(died, rng.integers(0, len(CAUSES), n), -1)
    patency, planned = _patency(
        rng, tech, dial, diab, sites.frailty_amp[site], np.minimum(np.minimum(amp, death), last)
    )
    return Patients(
        number=first_number + lo + 1 + np.arange(n),
        site=site,
        arrays=a,
        enrl=enrl,
        proc=proc,
        amp=amp,
        death=death,
        last=last,
        dispo=dispo,
        cause=cause,
        patency=patency,
        planned=planned,
    )


def _patency(
    rng: np.random.Generator,
    tech: np.ndarray,
    dial: np.ndarray,
    diab: np.ndarray,
    frailty: np.ndarray,
    end: np.ndarray,
) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Event days of the patency tiers and of the first reintervention (NEVER: not
    observed by `end`, the first of amputation, death and last contact); nested by
    construction: primary is lost at the first occlusion or reintervention, primary-
    assisted at the first occlusion, secondary when an occlusion is not restored."""
    n = tech.size
    lp = 0.3 * dial + 0.2 * diab + frailty / 2
    occ = _weibull_days(rng, 0.9 * np.exp(lp), 0.7)
    assist = _weibull_days(rng, 0.25 * np.exp(lp), 0.8)
    planned_day = np.where(rng.random(n) < 0.08, rng.integers(7, 31, n), NEVER)
    restored = rng.random(n) < 0.5
    restore = occ + rng.integers(1, 15, n)
    again = restore + _weibull_days(rng, 0.6 * np.exp(lp), 0.8)
    restore = np.where(restored, restore, NEVER)
    sp = np.where(restored, again, occ)
    first_reint = np.minimum(np.minimum(planned_day, assist), restore)
    days = {
        "PP": np.minimum(np.minimum(occ, assist), planned_day),
        "PAP": occ,
        "SP": sp,
        "REINT": first_reint,
    }
    seen = {k: np.where(tech & (v <= end), v, NEVER) for k, v in days.items()}
    return seen, (planned_day < NEVER) & (planned_day <= np.minimum(assist, restore))
