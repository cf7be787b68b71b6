"""An extract's own labels: SAS variable labels from a transport file and a mapping
file's ``labels`` section reach the store's codelist (the mapping's words win), and a
bad entry is refused naming file, line and key."""

from __future__ import annotations

import json

import pandas as pd
import pyreadstat
import pytest

from analytics.extract.issues import DataError
from analytics.extract.mapping import load_mapping
from analytics.store import Store
from tests.helpers import SHARED, demo

PILOT = SHARED / "data" / "cdiscpilot01"


def test_sas_variable_labels_of_a_real_transport_file(tmp_path):
    for name in ("adsl", "adtte"):
        (tmp_path / f"{name}.xpt").symlink_to(PILOT / f"{name}.xpt")
    _, meta = pyreadstat.read_xport(str(PILOT / "adsl.xpt"), metadataonly=True)
    written = meta.column_names_to_labels
    store = Store.open(tmp_path)
    try:
        for column in ("AGE", "SEX", "RACE", "SITEID"):
            assert store.labels.column(column) == written[column].strip()
        # codes keep the data model's words: a transport file has no value labels
        assert store.labels.value("SEX", "F") == "Female"
    finally:
        store.close()


def _extract(folder, mapping: str | None = None) -> None:
    folder.mkdir()
    adsl = demo("adsl")
    frame = adsl.assign(AGE=pd.to_numeric(adsl["AGE"]))[["STUDYID", "USUBJID", "SITEID", "AGE",
                                                        "SEX", "DIALFL", "RUTHCAT", "PROCDT",
                                                        "LSTCNTDT", "DTHFL"]]
    labels = ["Study", "Patient", "Centre", "Age, years", "Gender", "Dialysis flag",
              "Rutherford", "Procedure", "Last contact", "Died"]
    for col in ("RUTHCAT",):
        frame[col] = pd.to_numeric(frame[col])
    pyreadstat.write_xport(frame, str(folder / "adsl.xpt"), column_labels=labels,
                           table_name="ADSL")
    demo("adtte").to_csv(folder / "adtte.csv", index=False)
    if mapping:
        (folder / "mapping.toml").write_text(mapping)


def test_a_mapping_files_labels_win_over_the_sas_labels(tmp_path):
    _extract(tmp_path / "x", '[labels.columns]\nDIALFL = "Haemodialysis"\n'
                             '[labels.values.SEX]\nM = "Man"\nF = "Woman"\n')
    store = Store.open(tmp_path / "x")
    try:
        words = store.labels
        assert words.column("DIALFL") == "Haemodialysis"  # the mapping's
        assert words.column("SEX") == "Gender"  # the SAS label
        assert words.value("SEX", "F") == "Woman"
        assert words.value("DIALFL", "Y") == "Yes"  # unlabelled codes keep the model's words
        assert words.level("SEX", "M") == "Gender: Man"
    finally:
        store.close()


@pytest.mark.parametrize(
    ("text", "line", "key", "says"),
    [
        ('[labels]\nnames = {A = "b"}\n', 2, "labels.names", "unknown part of labels"),
        ('[labels.values.SEX]\nX = "Other"\n', 2, "labels.values.SEX.X", "not a code of SEX"),
        ('[labels.columns]\nDIALFL = ""\n', 2, "labels.columns.DIALFL", "not empty"),
        ('[labels.columns]\n"bad name" = "x"\n', 2, "labels.columns.bad name", "not a column"),
        (f'[labels.columns]\nSEX = "{"x" * 81}"\n', 2, "labels.columns.SEX", "at most 80"),
    ],
)
def test_a_bad_labels_entry_names_line_and_key(tmp_path, text, line, key, says):
    path = tmp_path / "mapping.toml"
    path.write_text(text)
    with pytest.raises(DataError) as caught:
        load_mapping(path)
    message = str(caught.value)
    assert f"mapping.toml: line {line}, key {key}:" in message
    assert says in message


def test_labels_survive_the_apps_saved_mapping(tmp_path):
    path = tmp_path / "mapping.toml"
    path.write_text(
        '[labels.columns]\nDIALFL = "Haemodialysis"\n[labels.values.SEX]\nF = "Woman"\n'
    )
    mapping = load_mapping(path)
    again = tmp_path / "again.toml"
    again.write_text(mapping.to_toml())
    assert load_mapping(again).column_labels == {"DIALFL": "Haemodialysis"}
    assert load_mapping(again).value_labels == {"SEX": {"F": "Woman"}}


def test_csv_extracts_read_with_the_models_words(demo_store):
    assert json.loads(demo_store.meta["labels"]) == {"columns": {}, "values": {}}
    assert demo_store.labels.column("DIALFL") == "On dialysis"
