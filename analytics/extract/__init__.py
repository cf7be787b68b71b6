"""Reading and checking an extract.

Enters: a folder or file of a trial or registry extract (CSV, Parquet, SAS XPORT or
SAS7BDAT, Excel; long, wide or CDISC ADaM; a registry folder of such folders) and an
optional mapping file. Leaves: the extract staged as text-faithful tables, typed,
checked row by row and across tables, with one quality report that accounts for every
row read (used or rejected, each problem with file, row and column). Only this step
and the store write SQL.

The steps, in the order a load runs them: discovery (which files hold which table),
stage (each file read into DuckDB as text, by the readers read_*.py), typed (SQL
casts and recodes), check_rows and check_tables (the rules of rules.py, run by
validate.py, and the checks across tables), tables (what the app reads) and report
(the quality report); loader runs them, loading holds what they share. An upload
from the browser is made safe in upload.py.
"""

from analytics.extract.discovery import DATA_SUFFIXES, Layout, Source, discover
from analytics.extract.issues import DataError, DataIssue, FileReport, Severity
from analytics.extract.loader import LoadResult, load, load_extract
from analytics.extract.loading import REQUIRED_COLUMNS
from analytics.extract.mapping import (
    MAPPING_NAMES,
    TABLE_NAMES,
    ExtractMapping,
    build_mapping,
    find_mapping,
    load_mapping,
)
from analytics.extract.mapping_suggest import apply_mapping, suggest_mapping, suggest_values
from analytics.extract.report import QualityReport
from analytics.extract.stage import stage
from analytics.extract.validate import check_frame

__all__ = [
    "DATA_SUFFIXES",
    "MAPPING_NAMES",
    "REQUIRED_COLUMNS",
    "TABLE_NAMES",
    "DataError",
    "DataIssue",
    "ExtractMapping",
    "FileReport",
    "Layout",
    "LoadResult",
    "QualityReport",
    "Severity",
    "Source",
    "apply_mapping",
    "build_mapping",
    "check_frame",
    "discover",
    "find_mapping",
    "load",
    "load_extract",
    "load_mapping",
    "stage",
    "suggest_mapping",
    "suggest_values",
]
