"""Data: which extract is in use, its quality report (per file, rows read = rows used +
rows rejected; every problem with file, row, column, value, severity and why), the
report as JSON and the rejected rows as CSV, and the upload of another extract, with
an interactive mapping when its columns are not the data model's.

Reachable even when the data cannot be opened: it is then the only page.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pandas as pd
import streamlit as st

from analytics.extract import ExtractMapping, QualityReport
from analytics.extract import upload as uploads
from analytics.extract.limits import Limits
from ui import access, disclosure, mapping_form, sidebar, source, upload
from ui.context import published_view
from ui.errors import shown_plainly
from ui.notes import view_not_applied
from ui.tables import height

SEVERITIES = {"All": None, "Errors": "error", "Warnings": "warning"}
NOTICE = "_dva_upload_notice"
log = logging.getLogger("dva.data")


def files_table(rep: QualityReport) -> pd.DataFrame:
    frame = pd.DataFrame(
        [
            {
                "table": f.table,
                "file": f.file,
                "format": f.format,
                "rows read": f.rows_read,
                "rows used": f.rows_used,
                "rows rejected": f.rows_rejected,
                "read = used + rejected": f.rows_read == f.rows_used + f.rows_rejected,
            }
            for f in rep.files
        ],
        columns=[
            "table",
            "file",
            "format",
            "rows read",
            "rows used",
            "rows rejected",
            "read = used + rejected",
        ],
    )
    return frame


def issues_table(rep: QualityReport, severity: str | None) -> pd.DataFrame:
    rows = [i.as_dict() for i in rep.issues if severity is None or i.severity == severity]
    frame = pd.DataFrame(rows, columns=["file", "row", "column", "value", "severity", "message"])
    frame["row"] = frame["row"].astype("Int64")
    return frame


def show_report(name: str, found: source.Report) -> None:
    """The quality report; `name` keeps its widgets apart from another report's. Under
    small-cell protection the cells' values and the rejected rows, which are a patient's
    data, are not shown."""
    protected = disclosure.active().on
    rep = found.report.without_values() if protected else found.report
    read = sum(f.rows_read for f in rep.files)
    used = sum(f.rows_used for f in rep.files)
    rejected = sum(f.rows_rejected for f in rep.files)
    cols = st.columns(5)
    cols[0].metric("Rows read", f"{read:,}")
    cols[1].metric("Rows used", f"{used:,}")
    cols[2].metric("Rows rejected", f"{rejected:,}")
    cols[3].metric("Errors", f"{rep.errors:,}")
    cols[4].metric("Warnings", f"{rep.warnings:,}")
    if rep.files:
        st.markdown("**Files**: every row read is either used or rejected.")
        frame = files_table(rep)
        st.dataframe(frame, hide_index=True, height=height(len(frame)), key=f"{name}_files")
    if rep.issues:
        st.markdown("**Problems**: an error rejects its row, a warning keeps it as read.")
        choice = st.radio(
            "Show",
            list(SEVERITIES),
            horizontal=True,
            key=f"{name}_severity",
            label_visibility="collapsed",
        )
        shown = issues_table(rep, SEVERITIES[choice])
        st.dataframe(shown, hide_index=True, height=height(len(shown)), key=f"{name}_issues")
    else:
        st.success("No problems found.")
    left, right = st.columns(2)
    left.download_button(
        "Download the report (JSON)",
        rep.to_json(),
        file_name="data-quality.json",
        mime="application/json",
        on_click="ignore",
        key=f"{name}_json",
        help="The same document as `python -m analytics validate` prints.",
    )
    if protected and found.database is not None:
        right.caption(
            "Under small-cell protection the rejected rows and the values of the problems "
            "are not shown: they are a patient's data. Whoever holds the extract reads "
            "them with `python -m analytics validate`."
        )
    elif found.database is not None:
        with right:
            for table in source.rejected_tables(found.database):
                st.download_button(
                    f"Download rejected rows: {table} (CSV)",
                    _rejected(found, table),
                    file_name=f"rejected-{table}.csv",
                    mime="text/csv",
                    on_click="ignore",
                    key=f"{name}_rejected_{table}",
                )


def _rejected(found: source.Report, table: str) -> Callable[[], bytes]:
    def make() -> bytes:
        assert found.database is not None
        return source.rejected_csv(found.database, table)

    return make


def in_use(loaded: source.Loaded) -> None:
    src = loaded.source
    if loaded.store is None:
        st.markdown(f"Data asked for: {src.describe()}.")
        return
    about = source.summary(loaded.store)
    st.markdown(
        f"**{about['name']}**, from {src.describe()}: {about['patients']:,} patients.  \n"
        f"Fingerprint of the files: `{about['fingerprint'][:16]}`"
    )
    if about["synthetic"]:
        st.caption("Synthetic data, not patient data.")
    up = upload.current(st.session_state)
    if src.kind == "upload" and up is not None:
        st.caption(f"Uploaded: {', '.join(up.files)} ({up.size / uploads.MB:.1f} MB).")
        st.button("Back to the configured data", key="upload_back", on_click=_discard)


# Buttons act in callbacks, which run before the next script run: the router then
# already opens the data the user chose, and a click is never lost to a rerun.


def _new_data() -> None:
    # The range filters hold the last data's full range, which would filter other data;
    # a range the user set is still in the URL and comes back from there.
    for key in (sidebar.AGE, sidebar.ENROL):
        st.session_state.pop(key, None)


def _discard() -> None:
    upload.discard(st.session_state)
    _new_data()


def _open_upload() -> None:
    with _noted("The upload"):
        if upload.accept_logged(st.session_state, st.session_state.get("upload_files") or []):
            _new_data()


def _apply(chosen: ExtractMapping) -> None:
    with _noted("The mapping"):
        if upload.apply_mapping(st.session_state, chosen).opened:
            _new_data()


@contextmanager
def _noted(what: str) -> Iterator[None]:
    """A callback's failure kept for the page to show (a callback cannot draw)."""
    try:
        yield
    except uploads.UploadError as exc:
        st.session_state[NOTICE] = str(exc)
    except Exception:
        log.exception("%s failed", what)
        st.session_state[NOTICE] = f"{what} could not be saved; try again, or report it."


def upload_form() -> None:
    limits = Limits.from_environ()
    st.caption(
        f"Table files ({', '.join('.' + t for t in uploads.DATA_TYPES)}) named adsl, adtte, "
        "visits, adae or wide, with a mapping.toml or mapping.yaml if you have one, or a "
        f".zip of the extract or registry folder; at most {limits.upload_mb} MB in all "
        f"(a zip may unpack to {limits.unpacked_mb} MB), and per table file at most "
        f"{limits.max_rows:,} rows, {limits.max_columns:,} columns and lines of "
        f"{limits.max_line_kb:,} KB. The files are kept in this session's own temporary "
        "storage, removed when you replace them or leave; the configured data are never "
        "changed."
    )
    files = st.file_uploader(
        "Extract files",
        type=list(uploads.ACCEPTED),
        accept_multiple_files=True,
        max_upload_size=limits.upload_mb,
        key="upload_files",
    )
    st.button(
        "Open the uploaded files", disabled=not files, key="upload_open", on_click=_open_upload
    )
    notice = st.session_state.pop(NOTICE, None)
    if notice:
        st.error(notice)


def mapping(up: upload.Upload) -> None:
    sources = mapping_form.inspected(up)
    mapping_form.show(up.key, sources, uploads.existing_mapping(up.root), on_apply=_apply)


def pending(up: upload.Upload) -> None:
    """An upload that did not open: why, its report, and the mapping form."""
    st.error(f"The upload could not be opened: {up.error}")
    show_report("upload", source.report(source.Loaded(up.source(), None, up.error)))
    st.markdown("##### Match the upload's columns to the data model")
    if upload.needs_mapping(up):
        st.info(
            "Some tables or columns were not recognised by name. Choose which of your "
            "columns holds each column of the data model (suggestions are filled in), and "
            "what your codes mean; then apply."
        )
    mapping(up)
    st.button("Discard the upload", key="upload_discard", on_click=_discard)


def main() -> None:
    st.title("Data")
    loaded = source.current()
    with shown_plainly("the data in use"):
        view_not_applied(published_view(), "the checks are of the whole extract")
        in_use(loaded)
        show_report("data", source.report(loaded))
    st.subheader("Upload an extract")
    if not access.may("upload"):
        access.refuse("upload")
        return
    with shown_plainly("the upload"):
        upload_form()
        up = upload.current(st.session_state)
        if up is not None and not up.opened:
            pending(up)
        elif up is not None and loaded.source.kind == "upload":
            with st.expander("Rename columns or recode values of the upload"):
                mapping(up)


main()
