"""``python -m analytics``: see analytics.report.cli."""

from analytics.report.cli import main

raise SystemExit(main())
