"""The JSON report, tables for download and the command line.

Enters: results of the analyses. Leaves: the JSON document of
``python -m analytics summary``, the design simulation of ``python -m analytics
design``, and results as plain tables for display and CSV download.
"""
