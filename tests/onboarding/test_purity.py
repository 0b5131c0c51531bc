"""The reading layer stays pure: its own imports are stdlib, openpyxl, defusedxml
and its pure siblings (checked on the source, since importing pdtracker drags Flask)."""

import ast
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "pdtracker" / "onboarding"
PURE = (
    "__init__",
    "errors",
    "checkdigits",
    "values",
    "kindmap",
    "reading",
    "headers",
    "rows",
)
ALLOWED = frozenset({"openpyxl", "defusedxml"})


def _imports(source: str) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            found.append(node.module or "")
    return found


def _impure(module: str) -> bool:
    if module == "pdtracker.onboarding":  # the package's own __init__, checked too
        return False
    if module.startswith("pdtracker."):
        return module.removeprefix("pdtracker.onboarding.") not in PURE
    top = module.split(".")[0]
    return top not in sys.stdlib_module_names and top not in ALLOWED


@pytest.mark.parametrize("module", PURE)
def test_module_is_pure(module):
    source = (PACKAGE / f"{module}.py").read_text(encoding="utf-8")
    assert [m for m in _imports(source) if _impure(m)] == []
    assert "today()" not in source
    assert "now()" not in source


def test_the_check_catches_flask():
    assert _impure("flask")
    assert _impure("pdtracker.extensions")
    assert not _impure("pdtracker.onboarding.values")
    assert not _impure("csv")
