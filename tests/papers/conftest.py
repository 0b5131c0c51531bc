"""Recognitions and papers to read back: rows made directly, PDFs read with poppler."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest


def pdf_text(data: bytes, tmp_path: Path) -> str:
    """The PDF's text as pdftotext (poppler-utils) reads it."""
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext not installed (apt-get install poppler-utils)")
    path = tmp_path / "paper.pdf"
    path.write_bytes(data)
    return subprocess.run(
        ["pdftotext", "-layout", str(path), "-"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip


def pdf_fonts(data: bytes, tmp_path: Path) -> str:
    """pdffonts' table of the PDF's fonts."""
    if shutil.which("pdffonts") is None:
        pytest.skip("pdffonts not installed (apt-get install poppler-utils)")
    path = tmp_path / "fonts.pdf"
    path.write_bytes(data)
    return subprocess.run(
        ["pdffonts", str(path)], capture_output=True, text=True, check=True
    ).stdout


def qr_codes(data: bytes, tmp_path: Path) -> list[str]:
    """Every QR code zbarimg decodes on the PDF's pages rendered at 150 dpi."""
    if shutil.which("pdftoppm") is None or shutil.which("zbarimg") is None:
        pytest.skip("pdftoppm / zbarimg not installed (poppler-utils, zbar-tools)")
    path = tmp_path / "qr.pdf"
    path.write_bytes(data)
    subprocess.run(
        ["pdftoppm", "-r", "150", "-png", str(path), str(tmp_path / "page")],
        check=True,
    )
    found: list[str] = []
    for page in sorted(tmp_path.glob("page*.png")):
        out = subprocess.run(
            ["zbarimg", "--quiet", "--raw", "-Sqrcode.enable", str(page)],
            capture_output=True, text=True, check=False,
        ).stdout  # fmt: skip
        found += [line for line in out.splitlines() if line]
    return found


@pytest.fixture
def people(make_department, make_user):
    """A teacher 王小华 of DEMO/AI, a colleague, the head and a college admin."""
    from pdtracker.auth.models import Role

    ai = make_department("AI", "人工智能技术应用系")
    teacher = make_user("wxh", Role.TEACHER, department=ai, display_name="王小华")
    with_head = make_user("head1", Role.HEAD, Role.TEACHER, department=ai)
    return {
        "ai": ai,
        "teacher": teacher,
        "colleague": make_user("teacher2", Role.TEACHER, department=ai,
                               display_name="李明"),
        "head": with_head,
        "cadmin": make_user("cadmin1", Role.COLLEGE_ADMIN,
                            institution_id=teacher.institution_id),
    }  # fmt: skip
