"""The calendar's pure modules import the standard library and iCalendar tools only.

The feed builder and the import parser are tested and reasoned about without an
app, a database or a request; their own import statements must keep it that way
(checked on the source, since importing any pdtracker module runs the package).
Relative imports may reach only the other pure modules.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

CALENDAR = Path(__file__).resolve().parents[2] / "pdtracker" / "calendar"
PURE = ("ics", "ics_import", "ics_events", "ics_records")
# icalendar and the libraries it is built on or with (recurrences, Google zones).
ICALENDAR_FAMILY = {"icalendar", "x_wr_timezone", "dateutil"}


def _imports(name: str) -> tuple[set[str], set[str]]:
    """The module's absolute import roots and its relative imports."""
    tree = ast.parse((CALENDAR / f"{name}.py").read_text(encoding="utf-8"))
    roots: set[str] = set()
    relative: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                relative.add(node.module or "")
            elif node.module:
                roots.add(node.module.split(".")[0])
    return roots, relative


@pytest.mark.parametrize("name", PURE)
def test_pure_module_imports_stdlib_and_icalendar_only(name: str) -> None:
    roots, relative = _imports(name)
    outside = {r for r in roots if r not in sys.stdlib_module_names}
    assert outside <= ICALENDAR_FAMILY | {"__future__"}, outside
    assert relative <= set(PURE), relative
