"""Layering and the promise about published figures, checked on the code itself
(the import contracts, lazy imports and where SQL is written: tests/unit/test_layers.py).

- `analytics/` never imports Streamlit or Plotly (the engine runs without a UI);
- no published PROMISE II result appears in the code that computes or shows numbers:
  those figures are calibration targets for the synthetic demo, read by tests only.
"""

from __future__ import annotations

import json
import pkgutil
import re
import subprocess
import sys

import pytest

import analytics
from tests.helpers import PUBLISHED, ROOT

CODE_DIRS = ("analytics", "charts", "pages", "ui")


@pytest.mark.slow
def test_analytics_never_imports_a_ui_library():
    modules = sorted(
        m.name
        for m in pkgutil.walk_packages(analytics.__path__, prefix="analytics.")
        if m.name != "analytics.__main__"  # runs the command line
    )
    assert len(modules) > 20
    code = (
        "import importlib, sys\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        "bad = sorted(m for m in ('streamlit', 'plotly') if m in sys.modules)\n"
        "assert not bad, bad\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=ROOT, check=False)
    assert done.returncode == 0, done.stderr


def _results(node: object, path: str = "") -> list[tuple[str, float]]:
    """Every non-integer number of the published results, with where it sits."""
    if isinstance(node, dict):
        return [r for k, v in node.items() for r in _results(v, f"{path}.{k}")]
    if isinstance(node, list):
        return [r for i, v in enumerate(node) for r in _results(v, f"{path}[{i}]")]
    if isinstance(node, float) and not node.is_integer():
        return [(path, node)]
    return []


def test_no_published_result_is_written_into_the_code():
    published = json.loads(PUBLISHED.read_text(encoding="utf-8"))
    figures = _results(published["outcomes_6_months"], "outcomes_6_months")
    assert len(figures) >= 5  # the check has something to look for
    files = [p for d in CODE_DIRS for p in (ROOT / d).rglob("*.py")] + [ROOT / "app.py"]
    text = {p: p.read_text(encoding="utf-8") for p in files}
    found = []
    for where, value in figures:
        # as written in the paper's tables: a proportion, or a percentage
        forms = {repr(value), f"{100 * value:.1f}"} if value < 1 else {repr(value)}
        for form in forms:
            pattern = re.compile(rf"(?<![\w.]){re.escape(form)}(?![\w.])")
            found += [f"{p.relative_to(ROOT)}: {form} ({where})"
                      for p, t in text.items() if pattern.search(t)]
    assert not found, found
