"""The cache of built databases: its folder, its size limit with least-recently-used
eviction, the lock that keeps a database in use, and `python -m analytics cache`."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time

import platformdirs
import pytest

from analytics.report.cli import main
from analytics.store import PROJECT_ROOT, Store, cache, cache_dir, database_for
from tests.helpers import ROOT, small_extract

HOUR = 3600.0


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """One small database, built once; tests copy it into their own cache folders."""
    folder = tmp_path_factory.mktemp("built")
    src = small_extract(folder / "clinic", 12)
    return database_for(src, cache=folder / "cache")


@pytest.fixture
def folder(tmp_path, monkeypatch):
    path = tmp_path / "cache"
    path.mkdir()
    monkeypatch.setenv(cache.CACHE_ENV, str(path))
    monkeypatch.delenv(cache.LIMIT_ENV, raising=False)
    return path


def put(built, folder, name, used):
    """A copy of the built database named `name`, last used at `used` (epoch seconds)."""
    path = folder / f"{name}.duckdb"
    shutil.copyfile(built, path)
    os.utime(path, (used, used))
    return path


def names(found):
    return [e.path.stem for e in found]


# --- the folder and the limit ----------------------------------------------------------


def test_the_folder_is_the_environment_variable_when_set(tmp_path, monkeypatch):
    monkeypatch.setenv(cache.CACHE_ENV, str(tmp_path / "mine"))
    assert cache_dir() == cache.cache_folder() == tmp_path / "mine"
    assert (tmp_path / "mine").is_dir()


def test_the_folder_is_the_users_cache_folder_otherwise(tmp_path, monkeypatch):
    monkeypatch.delenv(cache.CACHE_ENV)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "user-cache"))
    chosen = cache_dir()
    assert chosen == platformdirs.user_cache_path(cache.APP_NAME)
    assert chosen == tmp_path / "user-cache" / "dva-outcomes"
    assert not chosen.is_relative_to(PROJECT_ROOT)


def test_the_limit_comes_from_the_environment(monkeypatch):
    monkeypatch.delenv(cache.LIMIT_ENV, raising=False)
    assert cache.max_bytes() == cache.DEFAULT_MAX_BYTES == 2 * 1024**3
    monkeypatch.setenv(cache.LIMIT_ENV, "123456")
    assert cache.max_bytes() == 123456
    for bad in ("2GB", "-1", "1.5"):
        monkeypatch.setenv(cache.LIMIT_ENV, bad)
        with pytest.raises(ValueError, match=f"{cache.LIMIT_ENV}='{bad}'"):
            cache.max_bytes()


# --- entries and eviction ---------------------------------------------------------------


def test_entries_are_listed_least_recently_used_first(built, folder):
    now = time.time()
    put(built, folder, "middle", now - 2 * HOUR)
    put(built, folder, "newest", now - HOUR)
    put(built, folder, "oldest", now - 3 * HOUR)
    found = cache.entries()
    assert names(found) == ["oldest", "middle", "newest"]
    first = found[0]
    assert first.size == built.stat().st_size
    assert first.source == "clinic"  # the extract's name, from the database's meta
    assert not first.in_use
    assert abs(first.last_used.timestamp() - (now - 3 * HOUR)) < 1
    with pytest.raises(AttributeError):
        first.size = 0  # frozen


def test_prune_removes_least_recently_used_until_under_the_limit(built, folder):
    now = time.time()
    size = built.stat().st_size
    for name, hours in (("a", 5), ("b", 1), ("c", 3), ("d", 4), ("e", 2)):
        put(built, folder, name, now - hours * HOUR)
    (folder / "d.duckdb.wal").write_bytes(b"x" * 10)
    (folder / "d.duckdb.lock").write_bytes(b"")
    done = cache.prune(limit=2 * size + 5)
    assert names(done.removed) == ["a", "d", "c"]
    assert sorted(p.name for p in folder.iterdir()) == ["b.duckdb", "e.duckdb"]
    assert done.remaining_bytes == 2 * size <= 2 * size + 5
    assert done.freed_bytes == 3 * size + 10
    assert [e.source for e in done.removed] == ["clinic"] * 3
    # already under the limit: nothing more goes
    assert cache.prune(limit=2 * size).removed == ()


def test_prune_all_removes_every_database_not_in_use(built, folder):
    put(built, folder, "a", time.time() - HOUR)
    put(built, folder, "b", time.time())
    assert names(cache.prune(everything=True).removed) == ["a", "b"]
    assert list(folder.iterdir()) == []


def test_a_build_evicts_older_databases_but_never_itself(built, folder, tmp_path, monkeypatch):
    old = put(built, folder, "old", time.time() - HOUR)
    monkeypatch.setenv(cache.LIMIT_ENV, "1")  # smaller than any database
    fresh = database_for(small_extract(tmp_path / "fresh", 10))
    assert fresh.parent == folder
    assert fresh.exists()
    assert not old.exists()
    assert names(cache.entries()) == [fresh.stem]


def test_a_build_leaves_a_database_another_process_just_used(built, folder, tmp_path, monkeypatch):
    # built or opened a moment ago elsewhere: that process may be about to open it
    recent = put(built, folder, "recent", time.time() - 5)
    monkeypatch.setenv(cache.LIMIT_ENV, "1")
    database_for(small_extract(tmp_path / "fresh", 10))
    assert recent.exists()


def test_a_build_into_an_explicit_folder_evicts_nothing(built, folder, tmp_path, monkeypatch):
    old = put(built, folder, "old", time.time() - HOUR)
    monkeypatch.setenv(cache.LIMIT_ENV, "1")
    own = tmp_path / "upload-db"
    database_for(small_extract(tmp_path / "upload", 10), cache=own)
    assert old.exists()


def test_opening_a_database_records_its_use_and_holds_it(built, folder):
    path = put(built, folder, "a", time.time() - 3 * HOUR)
    store = Store(path)
    try:
        assert time.time() - path.stat().st_mtime < 60
        assert [e.in_use for e in cache.entries()] == [True]
        done = cache.prune(everything=True)
        assert done.removed == ()
        assert names(done.kept_in_use) == ["a"]
        assert path.exists()
    finally:
        store.close()
    assert [e.in_use for e in cache.entries()] == [False]
    assert names(cache.prune(everything=True).removed) == ["a"]


def test_finding_a_built_database_records_its_use(built, folder, tmp_path):
    src = small_extract(tmp_path / "again", 10)
    path = database_for(src)
    os.utime(path, (1_000_000, 1_000_000))
    assert database_for(src) == path
    assert time.time() - path.stat().st_mtime < 60


def test_files_of_crashed_builds_go_after_an_hour(built, folder):
    old = time.time() - 2 * HOUR
    crashed = [
        folder / "x-6.ab.duckdbq1w2e3.tmp",
        folder / "x-6.ab.duckdbq1w2e3.tmp.wal",
        folder / "gone.duckdb.lock",  # its database was removed by hand
    ]
    building = folder / "y-6.ab.duckdbr4t5y6.tmp"  # a build under way
    for path in [*crashed, building]:
        path.write_bytes(b"partial")
    spill = folder / "x-6.ab.duckdbq1w2e3.tmp.tmp"  # DuckDB's spill folder of that build
    spill.mkdir()
    (spill / "block").write_bytes(b"spilled")
    for path in [*crashed, spill]:
        os.utime(path, (old, old))
    kept = put(built, folder, "kept", time.time() - 3 * HOUR)
    done = cache.prune(limit=10**12)
    assert sorted(done.abandoned) == sorted([*crashed, spill])
    assert sorted(folder.iterdir()) == sorted([building, kept])


# --- another process holding a database open ---------------------------------------------

HOLDER = """
import sys
from pathlib import Path
from analytics.store import Store
store = Store(Path(sys.argv[1]))
print("open", flush=True)
sys.stdin.readline()
store.close()
"""


@pytest.fixture
def held_elsewhere(built, folder):
    """A database that another process has open (a running app), with a Store."""
    path = put(built, folder, "held", time.time() - 5 * HOUR)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=env,
        cwd=ROOT,
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "open"
        yield path
    finally:
        holder.communicate("\n", timeout=60)
    assert holder.returncode == 0


def test_prune_keeps_a_database_another_process_has_open(held_elsewhere, built, folder, capsys):
    free = put(built, folder, "free", time.time())
    found = {e.path.stem: e.in_use for e in cache.entries()}
    assert found == {"held": True, "free": False}
    assert main(["cache", "prune", "--all"]) == 0
    out = capsys.readouterr().out
    assert held_elsewhere.exists()
    assert not free.exists()
    removed, kept = out.split("Kept")
    assert "free.duckdb" in removed
    assert "held.duckdb" not in removed
    assert "in use" in kept
    assert "held.duckdb" in kept
    # over the limit, the database in use is passed over and the next one goes
    other = put(built, folder, "other", time.time() - HOUR)
    done = cache.prune(limit=0)
    assert names(done.removed) == ["other"]
    assert names(done.kept_in_use) == ["held"]
    assert held_elsewhere.exists()
    assert not other.exists()


# --- the command line -------------------------------------------------------------------


def test_cache_list_prints_a_table(built, folder, capsys):
    put(built, folder, "a", time.time() - HOUR)
    store = Store(put(built, folder, "b", time.time() - 2 * HOUR))
    try:
        assert main(["cache", "list"]) == 0
    finally:
        store.close()
    lines = capsys.readouterr().out.splitlines()
    assert f"Cache folder {folder}: 2 database(s)" in lines[0]
    assert lines[2].split() == ["source", "size", "last", "used", "in", "use", "file"]
    rows = [line.split() for line in lines[3:]]
    # least recently used first: opening b made it the newest, and it is in use
    assert [(r[0], r[-2], r[-1]) for r in rows] == [
        ("clinic", "no", "a.duckdb"),
        ("clinic", "yes", "b.duckdb"),
    ]


def test_cache_list_of_an_empty_folder(folder, capsys):
    assert main(["cache", "list"]) == 0
    assert capsys.readouterr().out.startswith(f"Cache folder {folder}: 0 database(s), 0 B")


def test_cache_prune_to_a_given_size(built, folder, capsys):
    size = built.stat().st_size
    put(built, folder, "a", time.time() - 2 * HOUR)
    put(built, folder, "b", time.time() - HOUR)
    assert main(["cache", "prune", "--max-bytes", str(size)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Removed 1 database(s)")
    assert "a.duckdb" in out
    assert "b.duckdb" not in out
    assert [p.name for p in folder.iterdir()] == ["b.duckdb"]
    assert main(["cache", "prune"]) == 0  # the default limit: nothing to do
    assert capsys.readouterr().out.startswith("Removed no database.")


@pytest.mark.parametrize(
    "argv", [["cache"], ["cache", "tidy"], ["cache", "prune", "--all", "--max-bytes", "5"]]
)
def test_cache_command_refuses_bad_options(argv, folder, capsys):
    with pytest.raises(SystemExit) as stop:
        main(argv)
    assert stop.value.code == 2
    assert "Run with --help" in capsys.readouterr().err


def test_cache_command_names_a_bad_limit(folder, monkeypatch, capsys):
    monkeypatch.setenv(cache.LIMIT_ENV, "lots")
    assert main(["cache", "prune"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("python -m analytics cache: DVA_CACHE_MAX_BYTES='lots'")
