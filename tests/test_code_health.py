"""tools/code_health.py: the issue-16 measures, checked on a small made-up tree."""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

import pytest

SPEC = importlib.util.spec_from_file_location(
    "code_health", Path(__file__).resolve().parents[1] / "tools" / "code_health.py"
)
assert SPEC is not None
assert SPEC.loader is not None
code_health = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(code_health)


def _tree(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def test_cycles_count_imports_inside_functions(tmp_path: Path) -> None:
    root = _tree(
        tmp_path,
        {
            "pdtracker/__init__.py": "",
            "pdtracker/a.py": "from pdtracker import b\n",
            "pdtracker/b.py": "def f():\n    from pdtracker import a\n    return a\n",
            "pdtracker/c.py": "import os\n",
        },
    )
    measured = code_health.measure(root)
    assert measured["cycles"] == [["pdtracker.a", "pdtracker.b"]]
    assert measured["inner_imports"] == 1
    assert measured["modules"] == 4


def test_sizes_and_function_lengths(tmp_path: Path) -> None:
    body = "".join(f"    x{i} = {i}\n" for i in range(600))
    root = _tree(
        tmp_path,
        {
            "pdtracker/__init__.py": "",
            "pdtracker/area/__init__.py": "",
            "pdtracker/area/big.py": f"def big():\n{body}",
            "pdtracker/area/small.py": "def one():\n    return 1\n",
        },
    )
    measured = code_health.measure(root)
    assert measured["large"] == [(601, "pdtracker.area.big")]
    median, _p90, count = measured["areas"]["area"]
    assert (median, count) == (301.5, 2)


def test_the_engine_import_is_timed_and_its_modules_counted(tmp_path: Path) -> None:
    root = _tree(
        tmp_path,
        {
            "pdtracker/__init__.py": "",
            "pdtracker/progress/__init__.py": "",
            "pdtracker/progress/engine.py": "import json\n",
        },
    )
    engine = code_health.engine_import(root)
    assert engine["module"] == "pdtracker.progress.engine"
    assert engine["heavy"] == 0
    assert engine["modules"] >= 3  # the two packages and the engine, json unless cached
    assert engine["ms"] > 0


@pytest.mark.skipif(
    shutil.which("duplicates") is None, reason="duplicates not installed"
)
def test_duplicate_pairs_are_counted(tmp_path: Path) -> None:
    block = "".join(f"    total = total + value * {i} - offset\n" for i in range(8))
    root = _tree(
        tmp_path,
        {
            "pdtracker/a.py": f"def f(total, value, offset):\n{block}    return total\n",
            "pdtracker/b.py": f"def g(total, value, offset):\n{block}    return total\n",
        },
    )
    found = code_health.duplicate_pairs(root)
    assert found is not None
    assert found["pairs"] == 1


def test_the_comparison_is_a_markdown_table(tmp_path: Path) -> None:
    root = _tree(tmp_path, {"pdtracker/__init__.py": "", "pdtracker/a.py": "x = 1\n"})
    measured = code_health.measure(root)
    table = code_health.compare(measured, measured, ("before", "after"))
    assert table[0] == "| measure | before | after |"
    assert all(line.count("|") >= 4 for line in table)
