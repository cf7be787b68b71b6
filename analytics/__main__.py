"""``python -m analytics``: see analytics.report.cli.

The entry point is the command line's router, as app.py is the dashboard's: it hands
the pack command to the `pack` package, which draws figures and so sits above the
engine (the import contracts name this one exception).
"""

from analytics.report.cli import main
from pack.cli import run as write_pack

raise SystemExit(main(pack=write_pack))
