"""Reading and checking an extract.

Enters: a folder or file of a trial or registry extract (CSV, Parquet, SAS XPORT or
SAS7BDAT, Excel; long, wide or CDISC ADaM; a registry folder of such folders) and an
optional mapping file. Leaves: the extract staged as text-faithful tables, typed,
checked row by row and across tables, with one quality report that accounts for every
row read (used or rejected, each problem with file, row and column). Only this step
and the store write SQL.
"""
