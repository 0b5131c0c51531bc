"""The doors-open time lives in the events domain and stays importable by pure code."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

from pdtracker.events import doors


def test_the_doors_module_imports_the_standard_library_only() -> None:
    tree = ast.parse(Path(doors.__file__).read_text())
    imported = {
        alias.name.split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
    } | {
        node.module.split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module
    }
    assert imported <= set(sys.stdlib_module_names) | {"__future__"}
