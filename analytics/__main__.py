"""``python -m analytics``: see analytics.report.cli.

The entry point is the command line's router, as app.py is the dashboard's: it hands
the pack command to the `pack` package, which draws figures and so sits above the
engine (the import contracts name this one exception). The drawing packages (Plotly,
Streamlit, Chromium's driver, python-pptx) take about a second to import, so only the
pack command imports them.
"""

import sys

from analytics.report.cli import main

if sys.argv[1:2] == ["pack"]:
    from pack.cli import run as write_pack

    raise SystemExit(main(pack=write_pack))
raise SystemExit(main())
