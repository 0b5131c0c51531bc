"""Portfolios: the PDF a reviewer reads and the ZIP of evidence a person can find their way in."""

from __future__ import annotations

import io
import zipfile
from datetime import date

from pdtracker.activities.evidence import save_upload
from pdtracker.activities.models import EvidenceFile
from pdtracker.extensions import db
from pdtracker.recognition.models import RecognitionApplication
from tests.factories import make_recognition
from tests.papers.conftest import pdf_text

PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<<>>\n%%EOF\n"


def _evidence(app, activity_id: int, name: str = "证明.pdf", body: bytes = PDF) -> int:
    with app.app_context():
        stored = save_upload(io.BytesIO(body), name, app.config["UPLOAD_FOLDER"], 10**7)
        row = EvidenceFile(
            activity_id=activity_id, original_name=stored.original_name,
            stored_name=stored.stored_name, content_type=stored.content_type,
            size_bytes=stored.size_bytes, sha256=stored.sha256,
        )  # fmt: skip
        db.session.add(row)
        db.session.commit()
        return row.id


def _lecture(make_activity, teacher):
    return make_activity(teacher, title="专家讲座：智能制造", status="verified",
                         starts_on=date(2026, 3, 10))  # fmt: skip


def test_own_portfolio_pdf_lists_profile_status_and_evidence(
    app, client, auth, people, make_activity, tmp_path
):
    lecture = _lecture(make_activity, people["teacher"])
    _evidence(app, lecture.id)
    auth.login("wxh")
    response = client.get("/papers/portfolio.pdf")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "private, no-store"
    text = pdf_text(response.data, tmp_path)
    for expected in ("王小华", "S-wxh", "专家讲座：智能制造", "证明.pdf"):
        assert expected in text


def test_evidence_zip_names_each_file_by_date_and_kind(
    app, client, auth, people, make_activity
):
    lecture = _lecture(make_activity, people["teacher"])
    _evidence(app, lecture.id)
    _evidence(app, lecture.id, body=PDF + b"%second\n")
    auth.login("wxh")
    response = client.get("/papers/portfolio.zip")
    assert response.status_code == 200
    archive = zipfile.ZipFile(io.BytesIO(response.data))
    names = archive.namelist()
    assert "2026-03-10_专家讲座_证明.pdf" in names
    assert "2026-03-10_专家讲座_证明-2.pdf" in names
    assert archive.read("2026-03-10_专家讲座_证明.pdf") == PDF
    manifest = archive.read("清单.txt").decode()
    assert "2026-03-10_专家讲座_证明.pdf" in manifest


def test_application_portfolio_uses_the_frozen_snapshot(
    app, client, auth, people, make_activity, tmp_path
):
    lecture = _lecture(make_activity, people["teacher"])
    evidence_id = _evidence(app, lecture.id)
    rec = make_recognition(app, people["teacher"])
    with app.app_context():
        application = db.session.get(RecognitionApplication, rec.application_id)
        application.snapshot = {
            "as_of": "2026-06-01",
            "report": {"level": "primary"},
            "activities": [{
                "id": lecture.id, "kind": "expert_lecture", "title": "提交时的标题",
                "organizer": None, "starts_on": "2026-03-10", "ends_on": None,
                "hours": 3.0, "days": None,
                "evidence": [{"id": evidence_id, "name": "证明.pdf",
                              "sha256": "0" * 64, "size": len(PDF)}],
            }],
        }  # fmt: skip
        db.session.commit()
    auth.login("head1")
    text = pdf_text(client.get(f"/papers/portfolio/{rec.application_id}.pdf").data,
                    tmp_path)  # fmt: skip
    assert "提交时的标题" in text
    assert "王小华" in text
    archive = zipfile.ZipFile(
        io.BytesIO(client.get(f"/papers/portfolio/{rec.application_id}.zip").data)
    )
    assert "[changed since submitted]" in archive.read("清单.txt").decode()


def test_portfolio_of_someone_else_is_404(app, client, auth, people):
    rec = make_recognition(app, people["colleague"])
    auth.login("wxh")
    assert client.get(f"/papers/portfolio/{rec.application_id}.pdf").status_code == 404
    assert client.get(f"/papers/portfolio/{rec.application_id}.zip").status_code == 404
