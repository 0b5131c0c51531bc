"""学时证明 as a reader sees it: activities, credited hours, totals, number and QR code."""

from __future__ import annotations

import base64
import json
from datetime import date
from decimal import Decimal

from pdtracker.extensions import db
from pdtracker.papers.models import Paper
from tests.papers.conftest import pdf_text, qr_codes

BASE = "http://pdtracker.test"


def _activities(make_activity, teacher):
    verified = dict(status="verified")
    make_activity(
        teacher,
        title="智能制造专家讲座",
        organizer="省教育厅",
        starts_on=date(2026, 3, 10),
        hours=Decimal("3"),
        **verified,
    )
    make_activity(
        teacher,
        kind_code="training",
        title="数控技术培训",
        organizer="市人社局",
        starts_on=date(2026, 4, 1),
        ends_on=date(2026, 4, 3),
        hours=Decimal("24"),
        **verified,
    )
    make_activity(
        teacher,
        kind_code="enterprise_placement",
        title="企业实践",
        organizer="华为",
        starts_on=date(2026, 5, 1),
        ends_on=date(2026, 5, 10),
        days=10,
        **verified,
    )
    # Not counted: outside the period, not verified, or not training.
    make_activity(teacher, title="往年讲座", starts_on=date(2025, 3, 1), **verified)
    make_activity(teacher, title="未审核讲座", starts_on=date(2026, 3, 20))
    make_activity(teacher, kind_code="certificate", title="证书",
                  starts_on=date(2026, 3, 1), grade="senior", **verified)  # fmt: skip


def _issue(client, auth, start="2026-01-01", end="2026-12-31"):
    auth.login("wxh")
    response = client.post(
        "/papers/statements", data={"period_start": start, "period_end": end}
    )
    assert response.status_code == 302
    return response


def _paper(app) -> Paper:
    with app.app_context():
        paper = db.session.scalars(db.select(Paper)).one()
        db.session.expunge(paper)
        return paper


def test_statement_lists_counted_activities_and_totals(
    app, client, auth, people, make_activity, tmp_path
):
    _activities(make_activity, people["teacher"])
    _issue(client, auth)
    with app.app_context():
        paper = db.session.scalars(db.select(Paper)).one()
        claims, number, pdf = paper.claims, paper.number, paper.pdf
    titles = [line["title"] for line in claims["lines"]]
    assert titles == ["智能制造专家讲座", "数控技术培训", "企业实践"]
    assert claims["total_hours"] == "27"
    assert claims["total_days"] == "10"
    text = pdf_text(pdf, tmp_path)
    for expected in ("王小华", "智能制造专家讲座", "省教育厅", "27", "2026-01-01"):
        assert expected in text
    assert "往年讲座" not in text
    assert "未审核讲座" not in text
    assert qr_codes(pdf, tmp_path) == [f"{BASE}/verify/{number}"]


def test_statement_number_is_unguessable_and_not_the_id(app, client, auth, people):
    _issue(client, auth)
    _issue(client, auth)
    with app.app_context():
        papers = db.session.scalars(db.select(Paper).order_by(Paper.id)).all()
        numbers = [(p.id, p.number) for p in papers]
    assert len({n for _, n in numbers}) == 2
    for _id, number in numbers:
        assert number.startswith("PD")
        assert len(number) == 18
        assert len(base64.b32decode(number[2:])) == 10  # 80 random bits, base32
    # Consecutive papers share no sequence: random 16-character strings differ in
    # about 15.5 places; a counter would differ in one or two (a chance below 1e-9).
    (_, first), (_, second) = numbers
    assert sum(a != b for a, b in zip(first[2:], second[2:], strict=True)) >= 8


def test_statement_check_page_shows_period_totals_then_withdrawn(
    app, client, auth, people, make_activity
):
    _activities(make_activity, people["teacher"])
    _issue(client, auth)
    paper = _paper(app)
    auth.logout()
    page = client.get(f"/verify/{paper.number}")
    assert page.status_code == 200
    assert 'data-state="valid"' in page.text
    assert "2026-01-01" in page.text
    assert "2026-12-31" in page.text
    assert "27" in page.text
    assert "王*华" in page.text
    assert "王小华" not in page.text
    auth.login("wxh")
    assert client.post(f"/papers/{paper.number}/withdraw").status_code == 302
    assert 'data-state="withdrawn"' in client.get(f"/verify/{paper.number}").text


def test_statement_downloads_the_stored_bytes(
    app, client, auth, people, runner, tmp_path
):
    _issue(client, auth)
    paper = _paper(app)
    with app.app_context():
        stored = db.session.get(Paper, paper.id).pdf
    download = client.get(f"/papers/{paper.number}.pdf")
    assert download.status_code == 200
    assert download.data == stored
    assert download.headers["Cache-Control"] == "private, no-store"
    out = tmp_path / "out.pdf"
    result = runner.invoke(args=["recognition", "pdf", paper.number, str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_bytes() == stored


def test_bad_period_issues_nothing_and_keeps_the_dates(app, client, auth, people):
    """A period that ends before it starts: the papers page again, the dates as
    typed in the form with the reason beside them, and nothing issued."""
    auth.login("wxh")
    client.post("/language", data={"locale": "en"})
    response = client.post(
        "/papers/statements",
        data={"period_start": "2026-12-31", "period_end": "2026-01-01"},
    )
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert 'value="2026-12-31"' in page
    assert 'value="2026-01-01"' in page
    assert "The period cannot end before it starts." in page
    assert response.headers["Cache-Control"] == "private, no-store"
    with app.app_context():
        assert db.session.scalars(db.select(Paper)).all() == []


def test_cli_lists_papers_as_json(app, client, auth, people, runner):
    from tests.factories import make_recognition

    rec = make_recognition(app, people["teacher"])
    _issue(client, auth)
    client.post(f"/papers/certificates/{rec.id}")
    result = runner.invoke(args=["recognition", "papers", "--json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    assert {tuple(sorted(r)) for r in rows} == {
        ("check_path", "kind", "level", "number", "staff_number", "state")
    }
    by_kind = {r["kind"]: r for r in rows}
    assert set(by_kind) == {"certificate", "hours_statement"}
    cert = by_kind["certificate"]
    assert cert["number"] == rec.certificate_number
    assert cert["level"] == "primary"
    assert cert["staff_number"] == "S-wxh"
    assert cert["state"] == "valid"
    assert cert["check_path"] == f"/verify/{rec.certificate_number}"
    assert by_kind["hours_statement"]["level"] is None
