"""Certificates read as a reader would: text, fonts, the QR code and the check page."""

from __future__ import annotations

from datetime import date

from pdtracker.extensions import db
from pdtracker.recognition.models import Recognition
from tests.factories import make_recognition
from tests.papers.conftest import pdf_fonts, pdf_text, qr_codes

BASE = "http://pdtracker.test"


def _download(client, auth, recognition_id: int, who: str = "wxh"):
    auth.login(who)
    response = client.post(f"/papers/certificates/{recognition_id}")
    auth.logout()
    return response


def test_certificate_text_names_the_teacher_and_level(
    app, client, auth, people, tmp_path
):
    rec = make_recognition(app, people["teacher"])
    response = _download(client, auth, rec.id)
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    text = pdf_text(response.data, tmp_path)
    assert "王小华" in text
    assert "初级" in text  # the level's Chinese name from the ruleset
    assert rec.certificate_number in text
    assert "2031-07-01" in text


def test_certificate_embeds_its_chinese_font(app, client, auth, people, tmp_path):
    rec = make_recognition(app, people["teacher"])
    fonts = pdf_fonts(_download(client, auth, rec.id).data, tmp_path)
    rows = [line.split() for line in fonts.splitlines()[2:]]
    assert rows
    # Columns: name type encoding emb sub uni …; every font embedded.
    assert all(row[-5] == "yes" for row in rows), fonts


def test_qr_code_opens_the_check_page_which_says_valid_then_revoked(
    app, client, auth, people, tmp_path
):
    rec = make_recognition(app, people["teacher"])
    data = _download(client, auth, rec.id).data
    codes = qr_codes(data, tmp_path)
    assert codes == [f"{BASE}/verify/{rec.certificate_number}"]
    path = codes[0].removeprefix(BASE)
    page = client.get(path)
    assert page.status_code == 200
    assert 'data-state="valid"' in page.text
    with app.app_context():
        row = db.session.get(Recognition, rec.id)
        row.state, row.revoke_reason = "revoked", "evidence withdrawn"
        db.session.commit()
    assert 'data-state="revoked"' in client.get(path).text


def test_certificate_is_issued_once_and_downloads_the_same_bytes(
    app, client, auth, people, runner, tmp_path
):
    rec = make_recognition(app, people["teacher"])
    first = _download(client, auth, rec.id).data
    again = _download(client, auth, rec.id).data
    assert first == again
    out = tmp_path / "cli.pdf"
    result = runner.invoke(
        args=["recognition", "pdf", rec.certificate_number, str(out)]
    )
    assert result.exit_code == 0, result.output
    assert out.read_bytes() == first


def test_expired_and_suspended_states(app, client, auth, people):
    old = make_recognition(app, people["teacher"], valid_from=date(2019, 1, 1))
    held = make_recognition(app, people["colleague"])
    _download(client, auth, old.id)
    _download(client, auth, held.id, who="teacher2")
    with app.app_context():
        db.session.get(Recognition, held.id).state = "suspended"
        db.session.commit()
    assert (
        'data-state="expired"' in client.get(f"/verify/{old.certificate_number}").text
    )
    held_page = client.get(f"/verify/{held.certificate_number}").text
    assert 'data-state="suspended"' in held_page
    # Issued before the suspension: still downloadable, the check page tells.
    assert _download(client, auth, held.id, who="teacher2").status_code == 200


def test_no_new_certificate_for_a_revoked_recognition(app, client, auth, people):
    rec = make_recognition(app, people["teacher"], state="revoked")
    response = _download(client, auth, rec.id)
    assert response.status_code == 302
    assert client.get(f"/verify/{rec.certificate_number}").status_code == 404


def test_a_certificate_follows_a_level_changed_after_an_objection(
    app, client, auth, people, tmp_path
):
    rec = make_recognition(app, people["teacher"])
    assert "初级" in pdf_text(_download(client, auth, rec.id).data, tmp_path)
    with app.app_context():
        row = db.session.get(Recognition, rec.id)
        row.level = "intermediate"  # what an objection's changed decision does
        db.session.commit()
    text = pdf_text(_download(client, auth, rec.id).data, tmp_path)
    assert "中级" in text
    assert "初级" not in text
    page = client.get(f"/verify/{rec.certificate_number}").text
    assert "中级" in page
    assert "初级" not in page


def test_an_objection_that_moves_the_level_reprints_the_certificate_at_once(
    app, client, auth, people, tmp_path
):
    from sqlalchemy import select

    from pdtracker.papers.models import Paper
    from pdtracker.recognition import results
    from pdtracker.recognition.models import Decision, Objection
    from pdtracker.timeutil import utcnow
    from tests.recognition.flow import user

    rec = make_recognition(app, people["teacher"], level="primary")
    first = _download(client, auth, rec.id).data
    now = utcnow()
    with app.app_context():
        row = db.session.get(Recognition, rec.id)
        application = row.application
        application.round.levels = ["primary", "intermediate"]
        application.level_applied = "intermediate"
        db.session.add(Decision(application_id=application.id, outcome="approve",
                                level="primary", decided_at=now))  # fmt: skip
        objection = Objection(application_id=application.id, statement="应为中级",
                              filed_at=now, state="pending")  # fmt: skip
        db.session.add(objection)
        db.session.flush()
        db.session.commit()
        objection_id = objection.id
    with app.app_context():
        admin = user("cadmin1")
        objection = db.session.get(Objection, objection_id)
        results.resolve_objection(admin, objection, change=True, approve=True,
                                  level="intermediate", resolution="改为中级",
                                  now=now)  # fmt: skip
        db.session.commit()
        paper = db.session.scalars(select(Paper)).one()
        reprinted = paper.pdf
    assert reprinted != first
    text = pdf_text(reprinted, tmp_path)
    assert "中级" in text
    assert "初级" not in text
    assert qr_codes(reprinted, tmp_path) == [f"{BASE}/verify/{rec.certificate_number}"]
    page = client.get(f"/verify/{rec.certificate_number}").text
    assert "中级" in page
    assert "初级" not in page
