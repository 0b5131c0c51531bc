"""Fixtures for the activity log tests: file bodies, form data, uploaded-file listing."""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

import pytest
from flask import Flask

from pdtracker.activities.models import Activity, EvidenceFile
from pdtracker.extensions import db

PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<<>>\n%%EOF\n"
JPEG = (
    b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    + b"\x00" * 64
)
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 300


def _png() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0)
    pixels = zlib.compress(b"\x00\x00")
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", pixels)
        + chunk(b"IEND", b"")
    )


PNG = _png()


def file_field(data: bytes, name: str) -> tuple[io.BytesIO, str]:
    """A value for a multipart file field in the test client."""
    return io.BytesIO(data), name


def lecture_data(**overrides) -> dict:
    """A valid POST body for a 3-hour expert lecture."""
    data = {
        "kind_code": "expert_lecture",
        "title": "产教融合专家讲座",
        "status": "completed",
        "role": "attendee",
        "starts_on": "2026-03-10",
        "ends_on": "2026-03-10",
        "hours": "3",
        "location": "图书馆报告厅",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


@pytest.fixture
def uploaded_files(app: Flask):
    """Every file (temporary ones included) under the upload folder."""

    def listing() -> list[Path]:
        root = Path(app.config["UPLOAD_FOLDER"])
        return (
            sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []
        )

    return listing


@pytest.fixture
def make_evidence(app: Flask):
    """Store a real evidence file for an activity, as an upload would."""
    from pdtracker.activities.evidence import save_upload

    def make(activity, data: bytes = PDF, name: str = "证明.pdf") -> EvidenceFile:
        with app.app_context():
            stored = save_upload(
                io.BytesIO(data), name, app.config["UPLOAD_FOLDER"], 10 * 1024 * 1024
            )
            evidence = EvidenceFile(
                activity_id=activity.id,
                original_name=stored.original_name,
                stored_name=stored.stored_name,
                content_type=stored.content_type,
                size_bytes=stored.size_bytes,
                sha256=stored.sha256,
            )
            db.session.add(evidence)
            db.session.commit()
            db.session.refresh(evidence)
            db.session.expunge(evidence)
            return evidence

    return make


@pytest.fixture
def load_activity(app: Flask):
    """Read an activity's current row (None when deleted)."""

    def load(activity_id: int) -> Activity | None:
        with app.app_context():
            activity = db.session.get(Activity, activity_id)
            if activity is not None:
                db.session.expunge(activity)
            return activity

    return load
