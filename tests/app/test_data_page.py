"""The Data page and what it stands on: where the data come from (upload > secrets >
DVA_DATA_DIR > demo), the quality report (rows read = used + rejected, per file), the
rejected rows download, uploads (saved outside the project, zips unpacked safely) and
the interactive mapping of an upload whose columns are not the data model's.

Expected counts are read from the test's own files with the csv module, never from
the loader; AppTest cannot drive st.file_uploader, so uploads are made with the
functions the page calls and handed to the app through the session state, and
tests/browser/test_browser_data.py uploads through a real browser.
"""

from __future__ import annotations

import csv
import hashlib
import io
import tomllib
import zipfile
from collections import Counter
from pathlib import Path

import pandas as pd
import pytest
from streamlit import config as st_config
from streamlit.runtime.secrets import Secrets
from streamlit.testing.v1 import AppTest

from analytics.extract import upload as uploads
from analytics.extract.mapping import load_mapping
from analytics.model.schema import ADSL
from analytics.store import DEMO_DIR, PROJECT_ROOT, Store
from analytics.store.validation import validate_extract
from tests.helpers import (
    Uploaded,
    read_rows,
    renamed_extract,
    small_extract,
    write_rows,
    zipped,
)
from ui import mapping_form, source, upload

pytestmark = pytest.mark.slow  # runs the app on uploads and configured folders

APP = str(PROJECT_ROOT / "app.py")
DATA = "pages/data.py"
SECRETS_LOCATION = "data_dir in .streamlit/secrets.toml"


def demo_hashes() -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in DEMO_DIR.iterdir()}


@pytest.fixture(scope="module")
def demo_before() -> dict[str, str]:
    return demo_hashes()


def as_uploads(folder: Path) -> list[Uploaded]:
    return [Uploaded(p.name, p.read_bytes()) for p in sorted(folder.iterdir()) if p.is_file()]


@pytest.fixture
def at(monkeypatch: pytest.MonkeyPatch) -> AppTest:
    monkeypatch.delenv(source.ENV_KEY, raising=False)
    return AppTest.from_file(APP, default_timeout=90)


@pytest.fixture
def state():
    """A session state of the upload functions' own; the upload removed afterwards."""
    s: dict[str, object] = {}
    yield s
    upload.discard(s)


def table_with(at: AppTest, column: str) -> pd.DataFrame:
    """The first table on the page with `column` (AppTest does not expose a table's key)."""
    return next(d.value for d in at.dataframe if column in d.value.columns)


def files_table(at: AppTest) -> pd.DataFrame:
    return table_with(at, "rows read")


def issues_table(at: AppTest) -> pd.DataFrame:
    return table_with(at, "severity")


def page_text(at: AppTest) -> str:
    return " ".join(m.value for m in (*at.markdown, *at.caption, *at.error, *at.info))


def patients_line(at: AppTest) -> str:
    return " ".join(m.value for m in at.sidebar.markdown)


# --- where the data come from --------------------------------------------------------------


def no_secret() -> tuple[object, str]:
    return None, ""


def test_nothing_configured_means_the_demo():
    src = source.configured(no_secret, {})
    assert (src.kind, src.path, src.problem) == ("demo", DEMO_DIR, "")


def test_environment_variable_is_used(tmp_path):
    src = source.configured(no_secret, {source.ENV_KEY: str(tmp_path)})
    assert (src.kind, src.path, src.problem) == ("env", tmp_path, "")


def test_secrets_win_over_the_environment(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    src = source.configured(
        lambda: (str(tmp_path / "a"), ""), {source.ENV_KEY: str(tmp_path / "b")}
    )
    assert (src.kind, src.path, src.setting) == ("secrets", tmp_path / "a", SECRETS_LOCATION)


def test_relative_path_is_read_from_the_project_folder():
    src = source.configured(lambda: ("data/demo", ""), {})
    assert src.path == PROJECT_ROOT / "data" / "demo"
    assert src.problem == ""


def test_missing_configured_folder_is_named(tmp_path):
    gone = tmp_path / "no-such-extract"
    src = source.configured(no_secret, {source.ENV_KEY: str(gone)})
    assert str(gone) in src.problem
    assert "does not exist" in src.problem
    assert source.ENV_KEY in src.problem
    loaded = source.open_source(src)
    assert loaded.store is None
    assert loaded.error == src.problem


def test_secret_that_is_not_a_path_is_refused():
    src = source.configured(lambda: (42, ""), {})
    assert src.problem == f"{SECRETS_LOCATION} must be a folder path in quotes, not 42."


@pytest.fixture
def secrets_file(monkeypatch):
    """st.secrets reading only the file this test names (none by default)."""

    def use(path: Path) -> None:
        st_config.set_option("secrets.files", [str(path)])
        monkeypatch.setattr(source.st, "secrets", Secrets())

    saved = st_config.get_option("secrets.files")
    yield use
    st_config.set_option("secrets.files", saved)


def test_missing_secrets_file_is_not_an_error(secrets_file, tmp_path):
    secrets_file(tmp_path / "absent" / "secrets.toml")
    assert source._secret() == (None, "")
    assert source.configured(environ={}).kind == "demo"


def test_secrets_file_is_read(secrets_file, tmp_path):
    path = tmp_path / "secrets.toml"
    path.write_text(f'data_dir = "{tmp_path.as_posix()}"\n', encoding="utf-8")
    secrets_file(path)
    src = source.configured(environ={source.ENV_KEY: str(DEMO_DIR)})
    assert (src.kind, src.path) == ("secrets", tmp_path)


def test_broken_secrets_file_is_reported(secrets_file, tmp_path):
    path = tmp_path / "secrets.toml"
    path.write_text("data_dir = \n", encoding="utf-8")
    secrets_file(path)
    src = source.configured(environ={})
    assert src.problem.startswith("The secrets file could not be read")


# --- the app: precedence and a failing source --------------------------------------------------


def test_secrets_precede_the_environment_in_the_app(at, monkeypatch, tmp_path):
    small = small_extract(tmp_path / "small", 40)
    monkeypatch.setenv(source.ENV_KEY, str(DEMO_DIR))
    at.secrets["data_dir"] = str(small)
    at.switch_page(DATA).run()
    assert not at.exception
    assert "40 of 40 patients" in patients_line(at)
    assert f"from {small} ({SECRETS_LOCATION}): 40 patients" in page_text(at)


def test_environment_precedes_the_demo_in_the_app(at, monkeypatch, tmp_path):
    monkeypatch.setenv(source.ENV_KEY, str(small_extract(tmp_path / "small", 25)))
    at.secrets["unrelated"] = "x"  # a secrets file without data_dir
    at.run()
    assert not at.exception
    assert "25 of 25 patients" in patients_line(at)


def test_missing_folder_leaves_only_the_data_page(at, tmp_path):
    gone = tmp_path / "gone"
    at.secrets["data_dir"] = str(gone)
    at.run()
    assert not at.exception
    assert any(str(gone) in e.value and "does not exist" in e.value for e in at.error)
    assert [t.value for t in at.title] == ["Data"]
    assert not at.sidebar.multiselect  # no filters without data
    # the report lists the problem, naming the folder
    issues = issues_table(at)
    assert list(issues["severity"]) == ["error"]
    assert str(gone) in issues["message"].iloc[0]


# --- the report ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def flawed(tmp_path_factory) -> Path:
    """The demo with one adtte row that cannot be used and one adsl value out of range."""
    folder = tmp_path_factory.mktemp("flawed")
    for name in ("adsl.csv", "adtte.csv", "visits.csv", "adae.csv", "dataset.json"):
        (folder / name).write_bytes((DEMO_DIR / name).read_bytes())
    tte = read_rows(folder / "adtte.csv")
    tte[2]["AVAL"] = "soon"  # row 3: no time, the row cannot be analysed
    write_rows(folder / "adtte.csv", tte)
    return folder


def csv_rows(path: Path) -> int:
    with path.open(newline="", encoding="utf-8") as f:
        return sum(1 for _ in csv.reader(f)) - 1


def test_report_reconciles_in_the_app(at, flawed):
    at.secrets["data_dir"] = str(flawed)
    at.switch_page(DATA).run()
    assert not at.exception
    files = files_table(at).set_index("file")
    for name in ("adsl.csv", "adtte.csv", "visits.csv", "adae.csv"):
        assert files.loc[name, "rows read"] == csv_rows(flawed / name)
    assert files.loc["adtte.csv", "rows rejected"] == 1
    assert files.loc["adtte.csv", "rows used"] == csv_rows(flawed / "adtte.csv") - 1
    assert (files["rows read"] == files["rows used"] + files["rows rejected"]).all()
    assert files["read = used + rejected"].all()
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Rows read"] == f"{sum(csv_rows(flawed / n) for n in files.index):,}"
    assert metrics["Rows rejected"] == "1"
    issues = issues_table(at)
    hit = issues[(issues["file"] == "adtte.csv") & (issues["severity"] == "error")]
    assert list(hit["row"]) == [3]
    assert list(hit["column"]) == ["AVAL"]
    assert list(hit["value"]) == ["soon"]


def test_issues_filter_by_severity(at, tmp_path):
    folder = small_extract(tmp_path / "mixed", 30)
    adsl = read_rows(folder / "adsl.csv")
    adsl[4]["BMI"] = "heavy"  # optional column: kept as missing, a warning
    write_rows(folder / "adsl.csv", adsl)
    tte = read_rows(folder / "adtte.csv")
    tte[0]["CNSR"] = "maybe"  # required: the row is rejected, an error
    write_rows(folder / "adtte.csv", tte)
    at.secrets["data_dir"] = str(folder)
    at.switch_page(DATA).run()
    everything = issues_table(at)
    assert {"error", "warning"} <= set(everything["severity"])
    at.radio(key="data_severity").set_value("Errors").run()
    errors = issues_table(at)
    assert set(errors["severity"]) == {"error"}
    assert len(errors) == (everything["severity"] == "error").sum()
    at.radio(key="data_severity").set_value("Warnings").run()
    warnings = issues_table(at)
    assert set(warnings["severity"]) == {"warning"}
    assert ((warnings["column"] == "BMI") & (warnings["row"] == 5)).any()


def test_rejected_rows_download(at, flawed):
    store = Store.open(flawed)
    try:
        csv_bytes = source.rejected_csv(store.path, "adtte")
        assert source.rejected_tables(store.path) == ["adtte"]
    finally:
        store.close()
    got = pd.read_csv(io.BytesIO(csv_bytes), dtype=str, keep_default_na=False)
    original = read_rows(flawed / "adtte.csv")[2]
    assert len(got) == 1
    row = got.iloc[0]
    assert (row["file"], row["row"]) == ("adtte.csv", "3")
    assert row["reasons"] == "time to event is missing or not a number"
    for column, value in original.items():
        assert row[column] == value
    at.secrets["data_dir"] = str(flawed)
    at.switch_page(DATA).run()
    labels = [b.proto.label for b in at.get("download_button")]
    assert "Download rejected rows: adtte (CSV)" in labels
    assert "Download the report (JSON)" in labels


def test_report_json_is_the_validate_commands(flawed):
    loaded = source.open_source(source.DataSource("env", flawed, "test"))
    assert loaded.store is not None
    shown = source.report(loaded).report.to_json()
    printed = validate_extract(flawed).to_json()
    assert shown == printed


# --- uploads -----------------------------------------------------------------------------------


def test_good_upload_opens_outside_the_project(state, tmp_path, demo_before):
    folder = small_extract(tmp_path / "good", 30)
    up = upload.accept(state, as_uploads(folder))
    assert up.opened, up.error
    assert not up.folder.path.resolve().is_relative_to(PROJECT_ROOT)
    assert sorted(p.name for p in (up.folder.path / "files").iterdir()) == ["adsl.csv", "adtte.csv"]
    loaded = source.open_source(up.source())
    assert loaded.store is not None
    assert loaded.store.path.resolve().is_relative_to(up.folder.path.resolve())
    assert loaded.store.count() == 30
    assert upload.active_source(state) == up.source()
    path = up.folder.path
    upload.discard(state)
    assert not path.exists()
    assert upload.current(state) is None
    assert demo_hashes() == demo_before


def test_replacing_an_upload_removes_the_earlier_one(state, tmp_path):
    first = upload.accept(state, as_uploads(small_extract(tmp_path / "a", 10)))
    second = upload.accept(state, as_uploads(small_extract(tmp_path / "b", 20)))
    assert not first.folder.path.exists()
    assert second.folder.path.exists()
    assert upload.current(state) is second


def test_upload_used_by_every_page_and_back(at, state, tmp_path, demo_before):
    up = upload.accept(state, as_uploads(small_extract(tmp_path / "up", 35)))
    at.session_state["_dva_upload"] = up
    at.run()
    assert not at.exception
    assert "35 of 35 patients" in patients_line(at)
    at.switch_page(DATA).run()
    assert "from files uploaded in this session: 35 patients" in page_text(at)
    at.button(key="upload_back").click().run()
    assert not at.exception
    assert "105 of 105 patients" in patients_line(at)
    assert not up.folder.path.exists()
    assert demo_hashes() == demo_before


def test_upload_file_names_cannot_leave_the_folder(state, tmp_path):
    files = as_uploads(small_extract(tmp_path / "x", 5))
    files = [Uploaded("../../" + f.name, f.data) for f in files]
    up = upload.accept(state, files)
    assert sorted(p.name for p in (up.folder.path / "files").iterdir()) == ["adsl.csv", "adtte.csv"]
    assert up.opened
    with pytest.raises(uploads.UploadError, match="not a usable file name"):
        uploads.save([Uploaded("..", b"x")], tmp_path)


def test_upload_refuses_other_formats_and_size(monkeypatch, tmp_path):
    parent = tmp_path / "tmp"
    parent.mkdir()
    with pytest.raises(uploads.UploadError, match=r"notes\.docx: not a file the dashboard reads"):
        uploads.save([Uploaded("notes.docx", b"x")], parent)
    monkeypatch.setenv("DVA_UPLOAD_MB", "1")
    big = Uploaded("adsl.csv", b"x" * (uploads.MB + 1))
    with pytest.raises(uploads.UploadError, match="larger than 1 MB"):
        uploads.save([big], parent)
    assert list(parent.iterdir()) == []  # nothing left behind


def test_zip_of_a_folder_opens(state, tmp_path):
    folder = small_extract(tmp_path / "myextract", 12)
    data = zipped(
        {f"myextract/{p.name}": p.read_bytes() for p in folder.iterdir()}
        | {"__MACOSX/myextract/._adsl.csv": b"junk"}
    )
    up = upload.accept(state, [Uploaded("myextract.zip", data)])
    assert up.root.name == "myextract"
    assert up.opened, up.error
    store = source.open_source(up.source()).store
    assert store is not None
    assert store.count() == 12


def test_zip_slip_is_refused(tmp_path):
    parent = tmp_path / "tmp"
    parent.mkdir()
    for evil in ("../evil.csv", "/etc/evil.csv", "a/../../evil.csv", "C:/evil.csv"):
        with pytest.raises(uploads.UploadError, match="points outside"):
            uploads.save([Uploaded("x.zip", zipped({"adsl.csv": b"a", evil: b"b"}))], parent)
    assert not (tmp_path / "evil.csv").exists()
    assert list(parent.iterdir()) == []


def test_zip_link_is_refused(tmp_path):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        info = zipfile.ZipInfo("adsl.csv")
        info.external_attr = 0o120777 << 16  # a symbolic link
        z.writestr(info, "/etc/passwd")
    with pytest.raises(uploads.UploadError, match="is a link"):
        uploads.save([Uploaded("x.zip", buf.getvalue())], tmp_path)


def test_zip_bomb_is_stopped(monkeypatch, tmp_path):
    monkeypatch.setenv("DVA_UNPACKED_MB", "1")
    bomb = zipped({"adsl.csv": b"0" * (2 * uploads.MB)})  # 2 MB of zeros: a few kB zipped
    assert len(bomb) < 20_000
    with pytest.raises(uploads.UploadError, match="unpacks to more than 1 MB"):
        uploads.save([Uploaded("bomb.zip", bomb)], tmp_path)
    # a zip whose header understates the size is stopped while unpacking
    lying = bytearray(bomb)
    declared = (2 * uploads.MB).to_bytes(4, "little")
    small = (1000).to_bytes(4, "little")
    lying = bytes(lying).replace(declared, small)
    with pytest.raises(uploads.UploadError, match=r"unpacks to more than 1 MB|cannot be unpacked"):
        uploads.save([Uploaded("lying.zip", lying)], tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_bad_zip_is_named(tmp_path):
    with pytest.raises(uploads.UploadError, match=r"broken\.zip: not a valid zip file"):
        uploads.save([Uploaded("broken.zip", b"PK no zip")], tmp_path)


# --- the mapping ------------------------------------------------------------------------------


def test_upload_with_unknown_columns_needs_a_mapping(state, tmp_path):
    up = upload.accept(state, as_uploads(renamed_extract(tmp_path / "reg")))
    assert not up.opened
    assert upload.needs_mapping(up)
    assert "USUBJID" in up.error
    assert upload.active_source(state) is None  # the session keeps the configured data
    sources = {s.key: s for s in uploads.inspect(up.root)}
    assert sources["adsl"].values["GENDER"] == ("1", "2")
    assert sources["adsl"].values["DIALYSIS"] == ("No", "Yes")
    adsl = mapping_form.column_defaults("adsl", sources["adsl"].columns)
    assert adsl["USUBJID"] == "PATIENT_ID"
    assert adsl["SEX"] == "GENDER"
    assert adsl["DIALFL"] == "DIALYSIS"
    assert adsl["AGE"] == "AGE"
    flags = mapping_form.value_defaults(ADSL.column("DIALFL"), ["No", "Yes"])
    assert flags == {"No": "N", "Yes": "Y"}


def test_mapping_built_from_choices(tmp_path):
    mapping = mapping_form.build(
        {"patients": "adsl"},
        {
            "adsl": {"USUBJID": "PATIENT_ID", "SEX": "GENDER", "AGE": "AGE"},
            "adtte": {"USUBJID": "PATIENT_ID"},
        },
        {"SEX": {"1": "M", "2": "F", "9": ""}},
    )
    assert mapping.files == {"patients": "adsl"}
    assert mapping.renames("adsl") == {"PATIENT_ID": "USUBJID", "GENDER": "SEX"}
    assert mapping.renames("adtte") == {"PATIENT_ID": "USUBJID"}
    assert mapping.values == {"SEX": {"1": "M", "2": "F", "9": ""}}
    # the TOML written reads back as the same mapping
    path = tmp_path / "mapping.toml"
    path.write_text(mapping.to_toml(), encoding="utf-8")
    again = load_mapping(path)
    assert (again.files, again.table_columns, again.values) == (
        mapping.files,
        mapping.table_columns,
        mapping.values,
    )


def test_mapping_choices_the_loader_would_refuse():
    problems = mapping_form.clashes(
        {"adsl": {"USUBJID": "ID", "SITEID": "ID", "SEX": "GENDER"}},
        {"adsl": ["ID", "GENDER", "SEX"]},
    )
    assert problems == [
        "adsl: ID is chosen for both USUBJID and SITEID.",
        "adsl: GENDER is chosen for SEX, but the upload also has a column named SEX; "
        "choose that one, or rename it in the file.",
    ]
    with pytest.raises(Exception, match="is not an allowed value of SEX"):
        mapping_form.build({}, {}, {"SEX": {"1": "Male"}})


def test_applied_mapping_opens_the_upload(state, tmp_path):
    folder = renamed_extract(tmp_path / "reg")
    up = upload.accept(state, as_uploads(folder))
    mapping = mapping_form.build(
        {},
        {
            "adsl": {"USUBJID": "PATIENT_ID", "SEX": "GENDER", "DIALFL": "DIALYSIS"},
            "adtte": {"USUBJID": "PATIENT_ID"},
        },
        {"SEX": {"1": "M", "2": "F"}, "DIALFL": {"Yes": "Y", "No": "N"}},
    )
    up = upload.apply_mapping(state, mapping)
    assert up.opened, up.error
    assert up.revision == 1
    assert (up.root / "mapping.toml").read_text(encoding="utf-8") == mapping.to_toml()
    store = source.open_source(up.source()).store
    assert store is not None
    raw = read_rows(folder / "adsl.csv")
    assert store.group_sizes(None, "SEX") == dict(
        Counter({"1": "M", "2": "F"}[r["GENDER"]] for r in raw)
    )
    assert store.group_sizes(None, "DIALFL") == dict(
        Counter({"Yes": "Y", "No": "N"}[r["DIALYSIS"]] for r in raw)
    )


def selectbox(at: AppTest, key: str):
    return next(s for s in at.selectbox if s.key == key)


def test_mapping_form_in_the_app(at, state, tmp_path, demo_before):
    folder = renamed_extract(tmp_path / "reg")
    up = upload.accept(state, as_uploads(folder))
    at.session_state["_dva_upload"] = up
    at.switch_page(DATA).run()
    assert not at.exception
    assert any("The upload could not be opened" in e.value for e in at.error)
    assert "105 of 105 patients" in patients_line(at)  # still the configured data
    k = up.key
    assert selectbox(at, f"{k}:col:adsl:USUBJID").value == "PATIENT_ID"
    assert selectbox(at, f"{k}:col:adtte:USUBJID").value == "PATIENT_ID"
    assert selectbox(at, f"{k}:col:adsl:SEX").value == "GENDER"
    assert selectbox(at, f"{k}:val:DIALFL:Yes").value == "Y"
    assert selectbox(at, f"{k}:val:SEX:1").value == mapping_form.KEEP  # nothing to guess from
    selectbox(at, f"{k}:val:SEX:1").set_value("M")
    selectbox(at, f"{k}:val:SEX:2").set_value("F").run()
    toml = next(c.value for c in at.code if "[values.SEX]" in c.value)
    assert tomllib.loads(toml)["values"]["SEX"] == {"1": "M", "2": "F"}
    at.button(key=f"{k}:apply").click().run()
    assert not at.exception
    assert "105 of 105 patients" in patients_line(at)
    opened = upload.current(at.session_state)
    assert opened is not None
    assert opened.opened, opened.error
    assert opened.revision == 1
    assert "from files uploaded in this session" in page_text(at)
    store = source.open_source(opened.source()).store
    assert store is not None
    raw = read_rows(folder / "adsl.csv")
    assert store.group_sizes(None, "SEX") == dict(
        Counter({"1": "M", "2": "F"}[r["GENDER"]] for r in raw)
    )
    assert demo_hashes() == demo_before
