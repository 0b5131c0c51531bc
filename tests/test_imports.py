"""Every module of the package imports on its own, in a fresh interpreter.

An import that works only after some other module was loaded first hides a cycle
(or a missing import). The check runs one interpreter that loads only third-party
libraries, then forks a child per module, so each ``import pdtracker.<module>``
starts with no pdtracker module loaded.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "pdtracker"

# Loaded once before forking, to keep the check fast; none of them imports pdtracker.
PRELOAD = (
    "flask",
    "flask_babel",
    "flask_login",
    "flask_sqlalchemy",
    "flask_wtf",
    "sqlalchemy",
)

DRIVER = """
import importlib, os, sys, traceback
for lib in sys.argv[1].split(","):
    importlib.import_module(lib)
assert not any(name.split(".")[0] == "pdtracker" for name in sys.modules)
failed = []
for name in sys.argv[2:]:
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:
        try:
            importlib.import_module(name)
        except BaseException:
            traceback.print_exc()
            os._exit(1)
        os._exit(0)
    if os.waitpid(pid, 0)[1] != 0:
        failed.append(name)
print(" ".join(failed))
"""


def package_modules() -> list[str]:
    """Every module and package under pdtracker/, by dotted name."""
    names = []
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        names.append(".".join(parts))
    return names


def test_the_module_list_covers_the_areas():
    names = package_modules()
    assert {"pdtracker", "pdtracker.placements.models", "pdtracker.downloads"} <= set(
        names
    )


def test_every_module_imports_alone_in_a_fresh_interpreter():
    done = subprocess.run(
        [sys.executable, "-c", DRIVER, ",".join(PRELOAD), *package_modules()],
        capture_output=True,
        text=True,
        check=True,
        cwd=PACKAGE.parent,
        timeout=600,
    )
    assert done.stdout.split() == [], done.stderr[-4000:]
