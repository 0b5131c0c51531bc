"""Papers are printed in Chinese whatever the reader's own language: the words of
the templates come from the Chinese catalogue, not the English msgids."""

from __future__ import annotations

from pdtracker.extensions import db
from pdtracker.papers.models import Paper
from tests.factories import make_recognition
from tests.papers.conftest import pdf_text


def test_certificate_and_statement_are_printed_in_chinese(
    app, client, auth, people, tmp_path
):
    rec = make_recognition(app, people["teacher"])
    auth.login("wxh")
    certificate = client.post(f"/papers/certificates/{rec.id}").data
    text = pdf_text(certificate, tmp_path)
    assert "双师型教师认定证书" in text
    assert "Certificate" not in text
    assert "Staff number" not in text
    client.post(
        "/papers/statements",
        data={"period_start": "2026-01-01", "period_end": "2026-12-31"},
    )
    with app.app_context():
        statement = db.session.scalars(
            db.select(Paper).where(Paper.kind == "hours_statement")
        ).one()
        text = pdf_text(statement.pdf, tmp_path)
    assert "Statement of training hours" not in text
    assert "Period" not in text
