"""What several test files share: where things are, a guard against hanging code, and
demo tables shaped as other extracts would give them. Fixtures live in conftest.py."""

from __future__ import annotations

import contextlib
import csv
import io
import os
import re
import signal
import time
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from streamlit.testing.v1 import AppTest

from analytics.extract.issues import DataError, DataIssue
from analytics.model.basket import Basket
from analytics.model.schema import ENDPOINTS, TABLES

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
PUBLISHED = SHARED / "reference" / "promise2_published.json"


class TooSlowError(Exception):
    """Raised by `watchdog` when the code under test runs past its time."""


@contextlib.contextmanager
def watchdog(seconds: int) -> Iterator[None]:
    """Fail instead of hanging (and filling the memory) when code loops or a fix is
    missing: SIGALRM interrupts Python code after `seconds`."""

    def expire(signum: int, frame: object) -> None:
        raise TooSlowError(f"took more than {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def demo_file(name: str) -> Path:
    """A bundled demo table's CSV file."""
    # Imported here, not above: conftest.py imports this module, and an engine that does
    # not import must fail its own tests, not the collection of every test.
    from analytics.store import DEMO_DIR

    return DEMO_DIR / f"{name}.csv"


def demo(name: str) -> pd.DataFrame:
    """A bundled demo table as text, as a CSV reader without type inference gives it."""
    return pd.read_csv(demo_file(name), dtype=str, keep_default_na=False)


def typed(name: str) -> pd.DataFrame:
    """The demo table with the types a registry's Parquet export would have."""
    frame = pd.read_csv(
        demo_file(name), keep_default_na=False, na_values=[""], dtype={"SITEID": str}
    )
    for col in frame.columns:
        if col.endswith("DT"):
            frame[col] = pd.to_datetime(frame[col]).dt.date
    return frame


def wide_frame() -> pd.DataFrame:
    """The demo extract as one wide table: one row a patient, an event date a column."""
    adsl, tte = demo("adsl"), demo("adtte")
    events = tte[tte["CNSR"] == "0"].pivot(index="USUBJID", columns="PARAMCD", values="ADT")
    wide = adsl.set_index("USUBJID")
    for code, col in (
        ("LS", "AMPDT"),
        ("PP", "PPLOSDT"),
        ("PAP", "PAPLOSDT"),
        ("SP", "SPLOSDT"),
        ("REINT", "REINTDT"),
    ):
        wide[col] = events[code].reindex(wide.index).fillna("")
    return wide.reset_index()


# --- small extracts written from the demo ------------------------------------------


def read_rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def write_rows(path: Path, rows: list[dict[str, str]], header: list[str] | None = None) -> None:
    header = header or list(rows[0])
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=header)
        w.writeheader()
        w.writerows(rows)


def small_extract(folder: Path, n: int) -> Path:
    """The first `n` demo patients (adsl and adtte), as a real registry extract would be."""
    folder.mkdir(parents=True, exist_ok=True)
    adsl = read_rows(demo_file("adsl"))[:n]
    ids = {r["USUBJID"] for r in adsl}
    write_rows(folder / "adsl.csv", adsl)
    write_rows(
        folder / "adtte.csv", [r for r in read_rows(demo_file("adtte")) if r["USUBJID"] in ids]
    )
    return folder


def renamed_extract(folder: Path) -> Path:
    """The demo's adsl and adtte with a registry's own names and codes."""
    folder.mkdir(parents=True, exist_ok=True)
    adsl = read_rows(demo_file("adsl"))
    out = []
    for r in adsl:
        r = dict(r)
        r["PATIENT_ID"] = r.pop("USUBJID")
        r["GENDER"] = {"M": "1", "F": "2"}[r.pop("SEX")]
        r["DIALYSIS"] = {"Y": "Yes", "N": "No"}[r.pop("DIALFL")]
        out.append(r)
    write_rows(folder / "adsl.csv", out)
    tte = [
        {("PATIENT_ID" if k == "USUBJID" else k): v for k, v in r.items()}
        for r in read_rows(demo_file("adtte"))
    ]
    write_rows(folder / "adtte.csv", tte)
    return folder


# --- the dashboard in AppTest ----------------------------------------------------------


def open_page(at: AppTest, page: str, **query: str | list[str]) -> AppTest:
    """`page` of the app run in `at` with the URL's `query`; no exception allowed."""
    for key, value in query.items():
        at.query_params[key] = value
    at.switch_page(page)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


# Words, not codes: what a person reads holds no column name of the data model and no
# code in capitals ("AFS" is the clinical abbreviation, spelled out where it is used).
ALLOWED_CAPITALS = {"AFS"}
COLUMN_NAMES = {c.name for t in TABLES.values() for c in t.columns} | set(ENDPOINTS)
CAPITAL_CODES = {
    v for t in TABLES.values() for c in t.columns for v in c.codes if re.search("[A-Z]{2}", v)
}


def codes_in(text: str) -> set[str]:
    """The column names and codes that `text` shows a reader."""
    found = {
        n for n in COLUMN_NAMES if re.search(rf"(?<![A-Za-z]){re.escape(n)}(?![A-Za-z])", text)
    }
    found |= {c for c in CAPITAL_CODES if c in text}
    found |= set(re.findall(r": [YNMF](?![A-Za-z])", text))
    return found - ALLOWED_CAPITALS


def demo_registry(root: Path) -> Path:
    """The demo cohort as a registry: two study folders (NORTH: sites 1-10, SOUTH: the
    rest) of twenty sites of 1 to 17 patients, most under 11."""
    adsl = pd.read_csv(demo_file("adsl"), dtype=str)
    adsl["STUDYID"] = ["NORTH" if int(s) <= 10 else "SOUTH" for s in adsl["SITEID"]]
    for study in ("NORTH", "SOUTH"):
        folder = root / study.lower()
        folder.mkdir(parents=True)
        ids = set(adsl.loc[adsl["STUDYID"] == study, "USUBJID"])
        for table in ("adsl", "adtte", "visits", "adae"):
            frame = adsl if table == "adsl" else pd.read_csv(demo_file(table), dtype=str)
            part = frame[frame["USUBJID"].isin(ids)].copy()
            if "STUDYID" in part:
                part["STUDYID"] = study
            part.to_csv(folder / f"{table}.csv", index=False)
    return root


def cards_in_url(at: AppTest) -> Basket:
    """The report basket the app's URL holds."""
    values = at.query_params.get("card", [])
    return Basket.from_query([values] if isinstance(values, str) else list(values))


def hold_memory(mb: int, seconds: float = 30.0) -> int:
    """For a worker process: take `mb` of memory and keep it (every page touched)."""
    block = bytearray(mb << 20)
    for i in range(0, len(block), 4096):
        block[i] = 1
    time.sleep(seconds)
    return len(block)


def refuse_data(message: str) -> None:
    """For a worker process: fail as bad data does."""
    raise DataError(message, [DataIssue("adsl.csv", 3, "AGE", None, "error", message)])


@dataclass
class Uploaded:
    """Stands for st.file_uploader's UploadedFile: a name and bytes."""

    name: str
    data: bytes

    def getvalue(self) -> bytes:
        return self.data


def zipped(members: dict[str, bytes]) -> bytes:
    """A zip holding `members` (name -> bytes), as an upload of one."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in members.items():
            z.writestr(name, data)
    return buf.getvalue()


def worker_processes(parent: int | None = None) -> list[int]:
    """The running worker processes (`analytics.store.worker`), of `parent` only when
    given."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text().split()
            cmdline = Path(f"/proc/{entry}/cmdline").read_bytes()
        except OSError:  # ended while being read
            continue
        mine = parent is None or stat[3] == str(parent)
        if mine and b"analytics.store.worker" in cmdline:
            found.append(int(entry))
    return found
