"""The layering, checked on the code itself.

- the import contracts in pyproject.toml ([tool.importlinter]): pages -> ui -> charts ->
  analytics, and inside analytics report -> analyses -> estimators | store -> extract ->
  model, with no Streamlit or Plotly in analytics; imports inside functions count;
- no project module is imported inside a function (a lazy import would only hide a cycle);
  third-party lazy imports (numba, openpyxl...) are fine;
- SQL text is written only in analytics/store/ and analytics/extract/.

Each checker is also fed a small source with a violation, to show that it can fail.
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers import ROOT

LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")
PROJECT_PACKAGES = frozenset({"analytics", "pack", "ui", "charts", "pages", "data", "app"})
CODE = ("analytics", "pack", "ui", "charts", "pages", "data", "app.py")
SQL_HOMES = ("analytics/store/", "analytics/extract/")

# Upper-case keywords only, so that prose ("select a site from the list") never matches.
SQL_PATTERNS = tuple(
    re.compile(p, re.DOTALL)
    for p in (
        r"\bSELECT\b.*\bFROM\b",
        r"^\s*SELECT\s",
        r"\bINSERT\s+INTO\b",
        r"\bCREATE\s+(?:OR\s+REPLACE\s+)?(?:TEMP(?:ORARY)?\s+)?(?:TABLE|VIEW|INDEX)\b",
        r"\bWITH\s+\w+\s+AS\s*\(",
        r"\bDELETE\s+FROM\b",
        r"\bUPDATE\s+\w+\s+SET\b",
        r"\bDROP\s+(?:TABLE|VIEW)\b",
        r"\b(?:GROUP|ORDER)\s+BY\b",
        r"\bIS\s+(?:NOT\s+)?NULL\b",
        r"\bNOT\s+IN\s*\(",
        r"\bIN\s*\(\s*(?:\?|\{\}|SELECT\b)",
        r"\bCAST\s*\(.*\bAS\s+[A-Z]+",
        r"(?:\b[A-Z][A-Z0-9_]*\b|\{\}|\")\s*(?:=|<>|!=|<=|>=|<|>)\s*\?",
    )
)


def code_files() -> Iterator[Path]:
    for name in CODE:
        path = ROOT / name
        yield from sorted(path.rglob("*.py")) if path.is_dir() else [path]


def where(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


# --- import contracts --------------------------------------------------------------------


def lint_imports(cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", "--config", str(ROOT / "pyproject.toml")],
        cwd=cwd, capture_output=True, text=True, check=False,
    )


def broken_part(report: str) -> str:
    """The contracts and what broke them, without the banner."""
    start = report.find("Contracts")
    return report[start:] if start >= 0 else report


def test_import_contracts_hold():
    done = lint_imports(ROOT)
    assert "Contracts:" in done.stdout, done.stdout + done.stderr  # the contracts ran
    assert done.returncode == 0, broken_part(done.stdout) + done.stderr


def test_import_contracts_catch_an_upward_import_inside_a_function(tmp_path):
    """The same contracts on a toy tree of the project's packages where a lower layer
    imports a higher one inside a function: both are reported."""
    packages = ["pages", "data", "pack", "ui", "charts", "analytics"] + [
        f"analytics/{step}"
        for step in ("report", "analyses", "estimators", "store", "extract", "model")
    ]
    for package in packages:
        (tmp_path / package).mkdir(parents=True)
        (tmp_path / package / "__init__.py").write_text("", encoding="utf-8")
    # the entry point's one allowed upward import (the pack command), as in the project
    (tmp_path / "analytics" / "__main__.py").write_text("import pack.cli\n", encoding="utf-8")
    (tmp_path / "pack" / "cli.py").write_text("", encoding="utf-8")
    (tmp_path / "ui" / "context.py").write_text("def run():\n    import pages\n")
    (tmp_path / "analytics" / "model" / "schema.py").write_text(
        "def columns():\n    from analytics.estimators import km\n", encoding="utf-8"
    )
    (tmp_path / "analytics" / "estimators" / "km.py").write_text("", encoding="utf-8")
    done = lint_imports(tmp_path)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "ui.context -> pages" in done.stdout
    assert "analytics.model.schema -> analytics.estimators.km" in done.stdout


# --- no project import inside a function ---------------------------------------------------


def _is_project(module: str | None, level: int = 0) -> bool:
    return level > 0 or (module or "").split(".")[0] in PROJECT_PACKAGES


def inner_project_imports(source: str, filename: str = "<source>") -> list[str]:
    """Imports of a project module inside a function or method, and project modules
    imported by name at run time (importlib.import_module, __import__), anywhere."""
    tree = ast.parse(source, filename)
    found: list[tuple[int, str]] = []
    seen: set[int] = set()
    for function in ast.walk(tree):
        if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        for node in ast.walk(function):
            if id(node) in seen:
                continue
            seen.add(id(node))
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names if _is_project(a.name)]
            elif isinstance(node, ast.ImportFrom) and _is_project(node.module, node.level):
                names = ["." * node.level + (node.module or "")]
            else:
                continue
            found += [(node.lineno, f"{function.name}() imports {n}") for n in names]
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and (getattr(node.func, "attr", None) or getattr(node.func, "id", None))
            in ("import_module", "__import__")
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
            and _is_project(node.args[0].value)
        ):
            found.append((node.lineno, f"imports {node.args[0].value} by name"))
    return [f"{filename}:{line}: {what}" for line, what in sorted(found)]


def test_no_project_module_is_imported_inside_a_function():
    found = [
        hit
        for path in code_files()
        for hit in inner_project_imports(path.read_text(encoding="utf-8"), where(path))
    ]
    assert not found, "\n".join(found)


def test_inner_import_checker_finds_a_lazy_project_import():
    source = (
        "import numpy\n"
        "from analytics.model import schema\n"
        "def fit():\n"
        "    import numba\n"
        "    from openpyxl import load_workbook\n"
        "    return numba, load_workbook\n"
        "class Page:\n"
        "    def draw(self):\n"
        "        from analytics.store.queries import cohort_rows\n"
        "        def inner():\n"
        "            import ui.fmt, json\n"
        "            from . import sibling\n"
        "def load(name):\n"
        "    return importlib.import_module('charts.survival')\n"
    )
    assert inner_project_imports(source, "x.py") == [
        "x.py:9: draw() imports analytics.store.queries",
        "x.py:11: draw() imports ui.fmt",
        "x.py:12: draw() imports .",
        "x.py:14: imports charts.survival by name",
    ]


# --- SQL only in the store and the extract reader -----------------------------------------


def _docstrings(tree: ast.AST) -> set[int]:
    return {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }


def _text(node: ast.AST) -> str | None:
    """The text of a string literal, an f-string (each field as {}) or a + of them."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(
            v.value if isinstance(v, ast.Constant) else "{}" for v in node.values
        )
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = _text(node.left), _text(node.right)
        if left is not None and right is not None:
            return left + right
    return None


def sql_text(source: str, filename: str = "<source>") -> list[str]:
    """Every string in `source` (docstrings aside) that reads as SQL, with its line."""
    tree = ast.parse(source, filename)
    skip = _docstrings(tree)
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr | ast.BinOp):
            skip.update(id(child) for child in ast.walk(node) if child is not node)
    found = []
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        text = _text(node)
        if text is not None and any(p.search(text) for p in SQL_PATTERNS):
            found.append((node.lineno, " ".join(text.split())[:80]))
    return [f"{filename}:{line}: {sql}" for line, sql in sorted(found)]


def test_sql_is_written_only_in_the_store_and_the_extract_reader():
    found = [
        hit
        for path in code_files()
        if not where(path).startswith(SQL_HOMES)
        for hit in sql_text(path.read_text(encoding="utf-8"), where(path))
    ]
    assert not found, "\n".join(found)


@pytest.mark.parametrize(
    "statement",
    [
        '"SELECT count(*) AS n FROM adsl"',
        'f"SELECT {cols} FROM adsl WHERE {where} "',
        '"SELECT AVAL, CNSR " + "FROM adtte"',
        '("SELECT PARAM FROM adtte WHERE PARAMCD = ? AND USUBJID IN "\n'
        ' f"(SELECT USUBJID FROM adsl WHERE {where})")',
        'f"WITH s AS (SELECT 1) SELECT * FROM s"',
        '"INSERT INTO adsl VALUES (?)"',
        '"CREATE OR REPLACE VIEW tte_wide AS SELECT 1"',
        'f"{ident} IN ({marks})"',
        'f"({ident} IS NULL OR {ident} NOT IN ({marks}))"',
        'f"CAST({ident} AS VARCHAR)"',
        '"PARAMCD = ?"',
        '"GROUP BY ALL ORDER BY ALL"',
    ],
)
def test_sql_checker_finds_sql(statement):
    assert len(sql_text(f"def q(store):\n    return {statement}\n", "x.py")) == 1


@pytest.mark.parametrize(
    "prose",
    [
        '"Select a site from the list"',
        '"""A docstring about SELECT ... FROM adsl."""',
        '"Patients with events (n = ?)"',
        '"AFS in (days)"',
        'f"{n} of {total} patients"',
    ],
)
def test_sql_checker_leaves_prose_alone(prose):
    assert sql_text(f"{prose}\nLABEL = 'x'\n", "x.py") == []


def imported_test_modules(path: Path) -> list[str]:
    """Test modules (or conftest) that `path` imports: shared code belongs in
    tests/helpers.py or tests/serving.py, never in another test file."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names: list[str] = []
        if isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module]
        elif isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        for name in names:
            last = name.rsplit(".", 1)[-1]
            if last.startswith("test_") or last == "conftest":
                found.append(name)
    return found


def test_no_test_file_imports_another():
    offenders = {
        str(path.relative_to(ROOT)): imported_test_modules(path)
        for path in sorted((ROOT / "tests").rglob("*.py"))
        if imported_test_modules(path)
    }
    assert not offenders, offenders


def test_the_test_import_checker_finds_one(tmp_path):
    sample = tmp_path / "test_x.py"
    sample.write_text("from test_data_page import small_extract\nimport tests.app.conftest\n")
    assert imported_test_modules(sample) == ["test_data_page", "tests.app.conftest"]
