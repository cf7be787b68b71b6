"""Load test: many sessions on one server while one sends a pathological link and
another uploads a large extract.

    .venv/bin/python bench/sessions.py                 # 10 sessions, 120 s, upload
    .venv/bin/python bench/sessions.py --quick         # 3 sessions, 15 s, no upload

The server is started as `make run` starts it, on the bundled demo (or `--data`). Each
session is a websocket client speaking Streamlit's own protocol (no browser, so the
machine's cores serve the server): it changes its filters in a loop, one rerun at a
time with `--think` seconds (default 2) between, and the time to a settled page is
from the request to the server's "script finished". Every answer is checked against
the patients its own filter selects (the sidebar's "N of M", computed here from the
analytics): a session shown another's filters or data is cross-talk. Meanwhile:

- an attacker sends links of 100,000 spaces, 50,000 parameters and a million commas;
- an uploader (one headless Chromium) uploads a zip of a CSV registry that the server
  builds in its worker, then a zip of duplicated rows that its limits refuse;
- the health check is polled every 250 ms, and the server's memory (with its workers)
  is sampled every second.

Prints one Markdown table.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import httpx
import websockets
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from analytics.model.view import View  # noqa: E402
from analytics.store import DEMO_DIR, Store  # noqa: E402
from bench.registry import make_registry  # noqa: E402

N_OF_M = re.compile(r"\*\*([\d,<*\\]+) of ([\d,]+) patients")
VIEWS = ("DIALFL=N", "DIALFL=Y", "SEX=F", "SEX=M", "DIABFL=Y", "RUTHCAT=6", "compare=SEX")
ATTACKS = (
    "where=" + " " * 100_000,
    "&".join(f"X{i}=1" for i in range(50_000)),
    "SEX=" + "," * 1_000_000,
)
TIMEOUT = 60.0


@dataclass
class Tally:
    settle: list[float] = field(default_factory=list)
    first: list[float] = field(default_factory=list)  # each session's first page
    attack: list[float] = field(default_factory=list)
    health: list[float] = field(default_factory=list)
    rss: list[tuple[float, float]] = field(default_factory=list)  # (seconds, MB)
    errors: list[str] = field(default_factory=list)
    crosstalk: list[str] = field(default_factory=list)
    upload: dict[str, float | str] = field(default_factory=dict)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("localhost", 0))
        return int(s.getsockname()[1])


def resident_mb(pid: int) -> float:
    """The server's resident memory and that of every process under it (its workers)."""
    total = 0.0
    pids = [pid]
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if Path(f"/proc/{entry}/stat").read_text().split()[3] == str(pid):
                    pids.append(int(entry))
            except (OSError, IndexError):
                continue
    for p in pids:
        try:
            pages = int(Path(f"/proc/{p}/statm").read_text().split()[1])
        except (OSError, IndexError, ValueError):
            continue
        total += pages * os.sysconf("SC_PAGE_SIZE") / (1 << 20)
    return total


async def rerun(ws: websockets.ClientConnection, query: str) -> tuple[float, str, bool]:
    """One rerun with `query`: seconds to "script finished", the text, an exception."""
    msg = BackMsg()
    msg.rerun_script.query_string = query
    started = time.perf_counter()
    await ws.send(msg.SerializeToString())
    texts: list[str] = []
    failed = False
    while True:
        raw = await asyncio.wait_for(ws.recv(), TIMEOUT)
        fm = ForwardMsg()
        fm.ParseFromString(raw)
        kind = fm.WhichOneof("type")
        if kind == "delta":
            element = fm.delta.new_element
            failed |= element.WhichOneof("type") == "exception"
            texts.append(str(fm.delta))
        elif kind == "script_finished":
            return time.perf_counter() - started, "".join(texts), failed


async def session(
    url: str, expected: dict[str, int], until: float, tally: Tally, i: int, think: float
) -> None:
    ws_url = url.replace("http", "ws") + "/_stcore/stream"
    async with websockets.connect(ws_url, subprotocols=["streamlit"], max_size=None) as ws:
        k = i
        while time.monotonic() < until:
            query = VIEWS[k % len(VIEWS)]
            k += 1
            try:
                seconds, text, failed = await rerun(ws, query)
            except (TimeoutError, websockets.WebSocketException) as exc:
                tally.errors.append(f"session {i}: {query}: {type(exc).__name__}")
                return
            (tally.first if k == i + 1 else tally.settle).append(seconds)
            if failed:
                tally.errors.append(f"session {i}: {query}: an exception on the page")
            shown = N_OF_M.findall(text)
            want = f"{expected[query]:,}"
            if not shown or shown[-1][0] != want:
                tally.crosstalk.append(f"session {i}: {query} showed {shown[-1:]}, not {want}")
            await asyncio.sleep(think)  # a person reads the page before the next change


async def attacker(url: str, until: float, tally: Tally) -> None:
    ws_url = url.replace("http", "ws") + "/_stcore/stream"
    async with websockets.connect(ws_url, subprotocols=["streamlit"], max_size=None) as ws:
        k = 0
        while time.monotonic() < until:
            try:
                seconds, _, failed = await rerun(ws, ATTACKS[k % len(ATTACKS)])
            except (TimeoutError, websockets.WebSocketException) as exc:
                tally.errors.append(f"attacker: {type(exc).__name__}")
                return
            k += 1
            tally.attack.append(seconds)
            if failed:
                tally.errors.append("attacker: an exception on the page")


async def health(url: str, until: float, tally: Tally) -> None:
    async with httpx.AsyncClient() as client:
        while time.monotonic() < until:
            started = time.perf_counter()
            try:
                r = await client.get(f"{url}/_stcore/health", timeout=30)
                r.raise_for_status()
            except httpx.HTTPError as exc:
                tally.errors.append(f"health: {type(exc).__name__}")
            tally.health.append(time.perf_counter() - started)
            await asyncio.sleep(0.25)


async def memory(pid: int, until: float, tally: Tally) -> None:
    started = time.monotonic()
    while time.monotonic() < until:
        tally.rss.append((time.monotonic() - started, resident_mb(pid)))
        await asyncio.sleep(1)


def upload_files(n: int, workdir: Path) -> tuple[Path, Path]:
    """A zip of a CSV registry of `n` patients (built by the server's worker), and a zip
    of the demo with its time-to-event rows duplicated past the row limit."""
    parquet = make_registry(n, workdir / "parquet")
    big = workdir / "registry.zip"
    with zipfile.ZipFile(big, "w", zipfile.ZIP_DEFLATED) as z:
        for table in ("adsl", "adtte"):
            buf = io.BytesIO()
            frame = duckdb.sql(f"SELECT * FROM '{parquet / (table + '.parquet')}'").df()
            frame.to_csv(buf, index=False)
            z.writestr(f"registry/{table}.csv", buf.getvalue())
    adtte = (DEMO_DIR / "adtte.csv").read_bytes()
    head, body = adtte.split(b"\n", 1)
    copies = 2_100_000 // max(body.count(b"\n"), 1) + 1
    dup = workdir / "duplicated.zip"
    with zipfile.ZipFile(dup, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("dup/adsl.csv", (DEMO_DIR / "adsl.csv").read_bytes())
        z.writestr("dup/adtte.csv", head + b"\n" + body * copies)
    return big, dup


def uploader(url: str, files: tuple[Path, Path], tally: Tally) -> None:
    """In a thread: one browser uploads the registry, waits for it to open, then the zip
    of duplicated rows, and waits for the refusal."""
    from playwright.sync_api import sync_playwright

    args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync"]  # fmt: skip
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=args)
        page = browser.new_page()
        for name, path, done in (
            ("registry", files[0], "uploaded in this session"),
            ("duplicated rows", files[1], "DVA_MAX_ROWS"),
        ):
            page.goto(f"{url}/data")
            page.get_by_text("Extract files").wait_for(timeout=60_000)
            started = time.perf_counter()
            page.locator("input[type=file]").set_input_files(str(path))
            page.get_by_role("button", name="Open the uploaded files").click(timeout=120_000)
            try:
                page.get_by_text(done).first.wait_for(timeout=600_000)
                tally.upload[name] = time.perf_counter() - started
            except Exception as exc:  # what the page showed instead is the finding
                tally.errors.append(f"upload of {name}: {type(exc).__name__}")
        browser.close()


def start(port: int, data: Path | None, log: Path) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if k != "DVA_DATA_DIR"}
    if data is not None:
        env["DVA_DATA_DIR"] = str(data)
    cmd = [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port),
           "--server.address", "localhost", "--server.headless", "true"]  # fmt: skip
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)  # fmt: skip
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://localhost:{port}/_stcore/health", timeout=2).is_success:
                return proc
        except httpx.HTTPError:
            pass
        time.sleep(0.25)
    raise SystemExit(f"the server did not start:\n{log.read_text()[-2000:]}")


def pct(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[q - 1] if len(values) > 1 else values[0]


async def run(args: argparse.Namespace, url: str, pid: int, files: tuple[Path, Path] | None):
    store = Store.open(args.data or DEMO_DIR)
    expected = {q: store.count(View.from_text(q).filters) for q in VIEWS}
    store.close()
    tally = Tally()
    until = time.monotonic() + args.seconds
    tasks = [session(url, expected, until, tally, i, args.think) for i in range(args.sessions)]
    tasks += [attacker(url, until, tally), health(url, until, tally), memory(pid, until, tally)]
    if files is not None:
        tasks.append(asyncio.to_thread(uploader, url, files, tally))
    await asyncio.gather(*tasks)
    return tally


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sessions", type=int, default=10)
    parser.add_argument("--seconds", type=float, default=120)
    parser.add_argument("--think", type=float, default=2.0, help="seconds between changes")
    parser.add_argument("--upload-n", type=int, default=300_000, help="patients uploaded")
    parser.add_argument("--no-upload", action="store_true")
    parser.add_argument("--data", type=Path, default=None)
    parser.add_argument("--quick", action="store_true", help="3 sessions, 15 s, no upload")
    args = parser.parse_args()
    if args.quick:
        args.sessions, args.seconds, args.no_upload = 3, 15, True
    with tempfile.TemporaryDirectory(prefix="dva-sessions-") as tmp:
        work = Path(tmp)
        files = None if args.no_upload else upload_files(args.upload_n, work)
        port = free_port()
        proc = start(port, args.data, work / "server.log")
        url = f"http://localhost:{port}"
        try:
            httpx.get(url, timeout=60)  # the first page load warms nothing: sessions do
            tally = asyncio.run(run(args, url, proc.pid, files))
        finally:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=30)
    report(args, tally)
    if tally.errors or tally.crosstalk:
        sys.exit(1)


def report(args: argparse.Namespace, tally: Tally) -> None:
    rss = [mb for _, mb in tally.rss]
    print(f"{args.sessions} sessions changing filters every {args.think:g} s for {args.seconds:g} s"
          f"{'' if args.no_upload else ', one upload'}, one attacker\n")  # fmt: skip
    print("| measure | value |")
    print("|---|---|")
    s, f = tally.settle, tally.first
    print(f"| filter changes | {len(s)} |")
    print(f"| time to a settled page, p50 / p95 (s) | {pct(s, 50):.3f} / {pct(s, 95):.3f} |")
    print(f"| a session's first page, p50 / max (s) | {pct(f, 50):.3f} / {max(f):.3f} |")
    if tally.attack:
        a = tally.attack
        print(f"| pathological links answered, p50 / max (s) | {pct(a, 50):.3f} / {max(a):.3f} |")
    h = tally.health
    print(f"| health check, p50 / p95 / max (s) | {pct(h, 50):.3f} / {pct(h, 95):.3f} / "
          f"{max(h):.3f} |")  # fmt: skip
    for name, seconds in tally.upload.items():
        print(f"| upload of {name}, to the answer (s) | {seconds:.1f} |")
    print(f"| server memory with its workers: start / max / end (MB) | {rss[0]:.0f} / "
          f"{max(rss):.0f} / {rss[-1]:.0f} |")  # fmt: skip
    # the highest of each tenth of the run: where the peaks fell
    step = max(len(rss) // 10, 1)
    tenths = [max(rss[i : i + step]) for i in range(0, len(rss), step)][:10]
    print(f"| memory over the run, highest of each tenth (MB) | "
          f"{', '.join(f'{mb:.0f}' for mb in tenths)} |")  # fmt: skip
    print(f"| errors | {len(tally.errors)} |")
    print(f"| cross-talk (a session shown another's view) | {len(tally.crosstalk)} |")
    for line in (tally.errors + tally.crosstalk)[:10]:
        print(f"\n- {line}")


if __name__ == "__main__":
    main()
