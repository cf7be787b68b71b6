"""A synthetic DVA registry of any size, for benchmarks, load tests and the tests of
the distributed engine. Every patient is invented; nothing is calibrated to a real
registry or trial.

N patients over K sites of uneven size (each site in one of the studies, sites joining
over the enrolment years), with a per-site case mix and a per-site frailty on the
amputation and death hazards (so that the Sites page shows a real but moderate spread),
dialysis, diabetes, Rutherford class 6 and age raising the hazards as in the demo, and
missing values as registries have them: BMI, smoking status and race not recorded,
patients lost to follow-up or withdrawn early, scheduled visits missed. Coherent as
data/README.md asks: amputation-free survival is the earlier of major amputation and
death, nothing is dated after the last contact or after death, every ADT is STARTDT +
AVAL.

The registry is a folder with one sub-folder per study (the layout the loader reads as
a registry), each holding the study's tables as Parquet or CSV, written chunk by chunk
so that memory stays bounded whatever N. `--model dashboard` writes the project's data
model (adsl, adtte, visits, adae); `--model adam` writes CDISC ADaM datasets (ADSL,
ADTTE, ADAE) with ADaM variables (TRT01A, SAFFL, ITTFL, PARAMN, CNSDTDSC, ...) and
ADaM's codes for EOSSTT and AEOUT, which the loader reads as they are. The same
arguments and seed give byte-identical files.

    python -m data.generate_registry --patients 1e6 --sites 60 --studies 3 \\
        --years 2016-2024 --seed 7 --out path/to/registry
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from data.registry_arrow import subject_ids
from data.registry_patients import Settings, Sites, make_patients, make_sites
from data.registry_tables import adam_tables, dashboard_tables

NOTICE = (
    "Synthetic registry for benchmarks and tests, not patient data. Every patient "
    "in it is invented."
)


def study_ids(studies: int) -> list[str]:
    return [f"SYNTH-REG-{k + 1:02d}" for k in range(studies)]


class StudyWriter:
    """The open files of one study folder: a table is appended chunk by chunk."""

    def __init__(self, folder: Path, fmt: str) -> None:
        self.folder, self.fmt = folder, fmt
        self.writers: dict[str, pq.ParquetWriter | pacsv.CSVWriter] = {}
        self.rows: dict[str, int] = {}
        folder.mkdir(parents=True)

    def write(self, name: str, table: pa.Table) -> None:
        w = self.writers.get(name)
        if w is None:
            path = self.folder / f"{name}.{self.fmt}"
            if self.fmt == "parquet":
                w = pq.ParquetWriter(path, table.schema)
            else:
                w = pacsv.CSVWriter(
                    path, table.schema, write_options=pacsv.WriteOptions(quoting_style="needed")
                )
            self.writers[name] = w
        w.write_table(table)
        self.rows[name] = self.rows.get(name, 0) + table.num_rows

    def close(self) -> None:
        for w in self.writers.values():
            w.close()


def generate(
    s: Settings, out: Path, fmt: str = "parquet", model: str = "dashboard", chunk: int = 250_000
) -> dict[str, object]:
    """Write the registry into the new (or empty) folder `out`; returns what it wrote."""
    if out.exists() and any(out.iterdir()):
        raise FileExistsError(f"{out} is not empty: a registry is written into a new folder")
    out.mkdir(parents=True, exist_ok=True)
    sites: Sites = make_sites(s)
    names = study_ids(s.studies)
    digits = len(str(s.patients))
    written: dict[str, dict[str, int]] = {}
    patients: dict[str, int] = {}
    first = 0
    for study, study_id in enumerate(names):
        n_study = int(sites.patients[sites.of_study(study)].sum())
        writer = StudyWriter(out / study_id, fmt)
        try:
            for c, lo in enumerate(range(0, n_study, chunk)):
                p = make_patients(s, sites, study, c, lo, min(lo + chunk, n_study), first)
                rng = np.random.default_rng([s.seed, 2, study, c])
                ids = subject_ids(study_id, sites, p, digits)
                if model == "adam":
                    tables = adam_tables(study_id, sites.ids, ids, p, rng)
                else:
                    tables = dashboard_tables(study_id, sites.ids, ids, p, rng, s.missing_visits)
                for name, table in tables:
                    writer.write(name, table)
                    del table  # freed before the next table is built
        finally:
            writer.close()
        written[study_id] = dict(writer.rows)
        patients[study_id] = n_study
        first += n_study
    manifest = {
        "name": f"Synthetic DVA registry ({s.patients:,} patients, {s.sites} sites)",
        "synthetic": True,
        "notice": NOTICE,
        "generator": "data/generate_registry.py",
        "settings": {**vars(s), "format": fmt, "model": model, "chunk": chunk},
        "patients": patients,
    }
    (out / "dataset.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return {"out": str(out), "rows": written}


def _count(text: str) -> int:
    value = float(text)
    if value != int(value) or value < 1:
        raise argparse.ArgumentTypeError(f"not a positive whole number: {text}")
    return int(value)


def _share(text: str) -> float:
    value = float(text)
    if not 0 <= value < 1:
        raise argparse.ArgumentTypeError(f"not a share from 0 to 1: {text}")
    return value


def _years(text: str) -> tuple[int, int]:
    first, _, last = text.partition("-")
    try:
        span = int(first), int(last or first)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected YEAR or FIRST-LAST: {text}") from None
    if span[0] > span[1] or span[0] < 1900:
        raise argparse.ArgumentTypeError(f"not a span of years: {text}")
    return span


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(
        prog="python -m data.generate_registry",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    ap.add_argument("--out", type=Path, required=True, help="new or empty folder to write")
    ap.add_argument("--patients", type=_count, default=100_000, help="N (1e6 is read as such)")
    ap.add_argument("--sites", type=_count, default=60, help="K sites")
    ap.add_argument("--studies", type=_count, default=3, help="studies (one folder each)")
    ap.add_argument(
        "--years",
        type=_years,
        default=(2016, 2024),
        help="enrolment years, FIRST-LAST (default 2016-2024)",
    )
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--format", choices=("parquet", "csv"), default="parquet")
    ap.add_argument(
        "--model",
        choices=("dashboard", "adam"),
        default="dashboard",
        help="the project's data model, or CDISC ADaM datasets",
    )
    ap.add_argument(
        "--chunk",
        type=_count,
        default=250_000,
        help="patients generated and written at a time (part of the arguments that make the files)",
    )
    d = Settings.__dataclass_fields__
    for name, what in (
        ("missing_bmi", "BMI not recorded"),
        ("missing_smoking", "smoking status not recorded"),
        ("missing_race", "race not recorded"),
        ("lost", "lost to follow-up"),
        ("withdrawn", "withdrawn"),
        ("missing_visits", "scheduled visits missed"),
    ):
        ap.add_argument(
            f"--{name.replace('_', '-')}",
            type=_share,
            default=d[name].default,
            help=f"share of patients (visits) {what} (default {d[name].default})",
        )
    ap.add_argument(
        "--site-sd",
        type=float,
        default=d["site_sd"].default,
        help="sd of the per-site log-hazard frailty (0: none)",
    )
    ap.add_argument(
        "--case-mix-sd",
        type=float,
        default=d["case_mix_sd"].default,
        help="sd of the per-site case-mix offsets (0: the same mix everywhere)",
    )
    return ap.parse_args(argv)


def settings_of(args: argparse.Namespace) -> Settings:
    return Settings(
        patients=args.patients,
        sites=args.sites,
        studies=args.studies,
        first_year=args.years[0],
        last_year=args.years[1],
        seed=args.seed,
        missing_bmi=args.missing_bmi,
        missing_smoking=args.missing_smoking,
        missing_race=args.missing_race,
        lost=args.lost,
        withdrawn=args.withdrawn,
        missing_visits=args.missing_visits,
        site_sd=args.site_sd,
        case_mix_sd=args.case_mix_sd,
    )


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    started = time.perf_counter()
    try:
        result = generate(settings_of(args), args.out, args.format, args.model, args.chunk)
    except (ValueError, FileExistsError) as exc:
        print(f"generate_registry: {exc}", file=sys.stderr)
        return 2
    result["seconds"] = round(time.perf_counter() - started, 1)
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
