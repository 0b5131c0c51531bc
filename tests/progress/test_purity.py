"""The engine, the forecast and the ruleset language stay pure: checked on their own
source (AST), and by what importing them loads."""

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "pdtracker" / "progress"
STDLIB = frozenset(sys.stdlib_module_names)
CLOCK_CALLS = frozenset({"now", "today", "utcnow", "time", "monotonic", "perf_counter"})
FORBIDDEN = ("flask", "flask_", "sqlalchemy", "werkzeug", "pdtracker")


def impurities(source: str, allowed: frozenset[str]) -> list[str]:
    """Imports outside the stdlib and ``allowed``, and calls that read the clock."""
    found = []
    for node in ast.walk(ast.parse(source)):
        modules = []
        if isinstance(node, ast.Import):
            modules = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            # Relative imports keep their dot: only named sibling modules pass.
            modules = [f".{node.module}" if node.level else node.module or ""]
        for module in modules:
            top = module.split(".")[0] if not module.startswith(".") else module
            if top.startswith(FORBIDDEN) or (top not in STDLIB and top not in allowed):
                found.append(f"import {module}")
        if isinstance(node, ast.Attribute) and node.attr in CLOCK_CALLS:
            found.append(f"clock: .{node.attr}")
        if isinstance(node, ast.Name) and node.id in {"__import__", "importlib"}:
            found.append(f"dynamic import: {node.id}")
    return found


@pytest.mark.parametrize(
    ("module", "allowed"),
    [
        ("definitions.py", frozenset()),
        ("measures.py", frozenset({".definitions"})),
        ("engine.py", frozenset({".definitions", ".measures"})),
        ("forecast.py", frozenset({".definitions", ".engine", ".measures"})),
        ("path.py", frozenset({".definitions", ".engine", ".forecast"})),
        ("diff.py", frozenset({".definitions"})),
        ("documents.py", frozenset({"yaml", ".definitions"})),
        ("clauses.py", frozenset({".definitions", ".documents"})),
        ("rulebook.py", frozenset({"yaml", ".clauses", ".definitions", ".documents"})),
    ],
)
def test_module_is_pure(module, allowed):
    source = (PACKAGE / module).read_text(encoding="utf-8")
    assert impurities(source, allowed) == []


@pytest.mark.parametrize(
    ("source", "problem"),
    [
        ("import flask", "import flask"),
        ("from flask import current_app", "import flask"),
        ("from sqlalchemy.orm import Session", "import sqlalchemy.orm"),
        ("import flask_babel", "import flask_babel"),
        ("from pdtracker.extensions import db", "import pdtracker.extensions"),
        ("from ..extensions import db", "import .extensions"),
        ("import requests", "import requests"),
        ("from datetime import datetime\nx = datetime.now()", "clock: .now"),
        ("import datetime\nx = datetime.date.today()", "clock: .today"),
        ("import time\nx = time.time()", "clock: .time"),
        ("m = __import__('flask')", "dynamic import: __import__"),
    ],
)
def test_checker_catches_impurities(source, problem):
    assert problem in impurities(source, frozenset({".rules"}))


def test_checker_accepts_pure_code():
    source = (
        "from datetime import date, timedelta\nfrom .rules import Ruleset\nimport math"
    )
    assert impurities(source, frozenset({".rules"})) == []


@pytest.mark.parametrize(
    "module", ["engine", "forecast", "path", "measures", "definitions"]
)
def test_importing_a_pure_module_loads_no_web_or_database_library(module):
    """``import pdtracker.progress.<module>`` runs the package __init__ files too."""
    code = (
        f"import pdtracker.progress.{module}, sys; "
        "print(' '.join(sorted(m for m in sys.modules "
        "if m.split('.')[0] in ('flask', 'sqlalchemy', 'werkzeug', 'flask_babel'))))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=PACKAGE.parents[1],
    )
    assert done.stdout.split() == []
