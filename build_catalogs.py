"""Build step: compile the translation catalogues (.po → .mo) into every install.

The compiled ``.mo`` files are not in git, and Flask-Babel reads nothing else: an
install that skips this step serves the English source strings. setuptools runs
``build_py`` for ``pip install .``, ``pip install -e .`` and a wheel alike, so the
subclass here (named in pyproject.toml under ``[tool.setuptools.cmdclass]``)
compiles every ``pdtracker/translations/<locale>/LC_MESSAGES/*.po`` with Babel's API
after the files are copied. Babel is therefore in ``[build-system] requires``.
"""

from __future__ import annotations

from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from setuptools.command.build_py import build_py

CATALOGS = "pdtracker/translations/*/LC_MESSAGES/*.po"
SOURCE = Path(__file__).resolve().parent


def compile_catalogs(root: Path) -> list[Path]:
    """Compile each catalogue under ``root`` into a ``.mo`` beside it; return those.

    Fuzzy entries are kept, as ``make translations`` (``pybabel compile
    --use-fuzzy``) does, so every install path serves the same texts.
    """
    written = []
    for po in sorted(root.glob(CATALOGS)):
        with po.open("rb") as f:
            catalog = read_po(f, locale=po.parent.parent.name)
        mo = po.with_suffix(".mo")
        with mo.open("wb") as f:
            write_mo(f, catalog, use_fuzzy=True)
        written.append(mo)
    return written


class BuildPy(build_py):
    """setuptools' ``build_py``, then the catalogues compiled."""

    def run(self) -> None:
        """Copy the package, then compile where the installed package will read them.

        A wheel reads the build directory's copy; an editable install imports the
        package from the source tree, so its catalogues are compiled there.
        """
        super().run()
        compile_catalogs(SOURCE if self.editable_mode else Path(self.build_lib))

    def get_outputs(self, include_bytecode: bool = True) -> list[str]:
        """setuptools' outputs plus the compiled catalogues (for ``--record``)."""
        outputs = super().get_outputs(include_bytecode)
        if not self.editable_mode:
            build = Path(self.build_lib)
            outputs += [str(po.with_suffix(".mo")) for po in build.glob(CATALOGS)]
        return list(dict.fromkeys(outputs))
