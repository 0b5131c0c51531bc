"""Without a CJK font or Pango a paper cannot be made: its tests skip, saying why,
like the other interop tests; with PDTRACKER_REQUIRE_INTEROP=1 (CI) they fail."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from pdtracker.papers.fonts import FontMissing
from tests.conftest import paper_tool_missing
from tests.support import require_tool

ROOT = Path(__file__).resolve().parents[2]
RENDERING_TEST = (
    "tests/papers/test_certificate.py::test_certificate_embeds_its_chinese_font"
)
NO_FONT_PLUGIN = """
import pytest
from pdtracker.papers import fonts, pdf

def _missing():
    raise fonts.FontMissing

@pytest.fixture(autouse=True)
def _no_cjk_font(monkeypatch):
    monkeypatch.setattr(pdf, "cjk_font", _missing)
"""


def _pango_missing() -> str | None:
    """Why WeasyPrint cannot load its system libraries here, or None."""
    try:
        import weasyprint  # noqa: F401
    except (OSError, ImportError) as exc:
        return paper_tool_missing(exc) or str(exc)
    return None


def _raised_in_weasyprint(exc: Exception) -> Exception:
    """``exc`` as if WeasyPrint's own module had raised it."""
    code = compile("raise exc", "/venv/site-packages/weasyprint/text/ffi.py", "exec")
    try:
        exec(code, {"exc": exc})
    except Exception as raised:
        return raised
    raise AssertionError("not raised")


def test_a_missing_font_or_pango_is_named_and_other_errors_are_not():
    assert "fonts-wqy-microhei" in (paper_tool_missing(FontMissing()) or "")
    pango = _raised_in_weasyprint(OSError("cannot load library 'pango-1.0-0'"))
    assert "libpango" in (paper_tool_missing(pango) or "")
    wrapped = RuntimeError("render failed")
    wrapped.__cause__ = FontMissing()
    assert paper_tool_missing(wrapped) is not None
    assert paper_tool_missing(OSError("cannot load library 'pango-1.0-0'")) is None
    assert paper_tool_missing(_raised_in_weasyprint(OSError("disk full"))) is None
    assert paper_tool_missing(ValueError("font")) is None


@pytest.mark.parametrize(
    ("required", "outcome"), [("", "1 skipped"), ("1", "1 failed")]
)
def test_a_paper_test_skips_without_a_font_unless_interop_is_required(
    tmp_path: Path, required: str, outcome: str
) -> None:
    # The child stops at the font only where WeasyPrint's libraries load: without
    # Pango it would stop there first, and this test has nothing to show.
    missing = _pango_missing()
    require_tool(missing is None, missing or "")
    (tmp_path / "no_cjk_font.py").write_text(NO_FONT_PLUGIN)
    env = dict(os.environ, PDTRACKER_REQUIRE_INTEROP=required)
    env["PYTHONPATH"] = os.pathsep.join([str(tmp_path), str(ROOT)])
    env.pop("PYTEST_XDIST_WORKER", None)
    # Its own SQLite database: on the PostgreSQL pass the child would otherwise take
    # this run's database and drop its tables when its session ends.
    env.pop("PDTRACKER_TEST_DATABASE_URL", None)
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-rsf", "-p", "no_cjk_font",
         "-p", "no:cacheprovider", "-p", "no:xdist", RENDERING_TEST],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert outcome in done.stdout, done.stdout[-2000:]
    assert "no CJK font found" in done.stdout
