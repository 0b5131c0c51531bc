"""Recognitions and papers to read back: rows made directly, PDFs read with poppler."""

from __future__ import annotations

import shutil
import subprocess
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from pdtracker.extensions import db
from pdtracker.recognition.models import (
    Recognition,
    RecognitionApplication,
    RecognitionRound,
)
from pdtracker.timeutil import utcnow
from tests import factories


def make_recognition(
    app: Flask,
    teacher: Any,
    *,
    level: str = "primary",
    valid_from: date = date(2026, 7, 1),
    years: int = 5,
    state: str = "active",
    round_name: str | None = None,
) -> Recognition:
    """A published round, an application and its recognition for the teacher."""
    now = utcnow()
    with app.app_context():
        user = db.session.get(type(teacher), teacher.id)
        rnd = RecognitionRound(
            institution_id=user.institution_id,
            name=round_name or f"2026 round {teacher.id}-{level}-{valid_from}",
            levels=[level], opens_on=valid_from - timedelta(days=60),
            closes_on=valid_from - timedelta(days=30),
            ruleset_name="cn-vocational-default", ruleset_version=1,
            state="published", opened_at=now, closed_at=now, published_at=now,
        )  # fmt: skip
        db.session.add(rnd)
        db.session.flush()
        application = RecognitionApplication(
            round_id=rnd.id, teacher_id=user.id, department_id=user.department_id,
            level_applied=level, state="decided", snapshot={"activities": []},
            snapshot_at=now, precheck_meets=True, submitted_at=now,
        )  # fmt: skip
        db.session.add(application)
        db.session.flush()
        recognition = Recognition(
            teacher_id=user.id, institution_id=user.institution_id,
            application_id=application.id, level=level, valid_from=valid_from,
            valid_until=valid_from.replace(year=valid_from.year + years),
            state=state, revoke_reason="test" if state == "revoked" else None,
        )  # fmt: skip
        db.session.add(recognition)
        db.session.commit()
        return factories.detached(recognition)


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
