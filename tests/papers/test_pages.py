"""The papers page: what it lists, and a bounded number of queries whatever the count."""

from __future__ import annotations

from datetime import date

from pdtracker.auth.models import Role
from pdtracker.extensions import db
from pdtracker.papers.models import Paper
from pdtracker.papers.services import new_number
from pdtracker.timeutil import utcnow
from tests.factories import make_recognition


def _papers_for(app, teacher):
    rec = make_recognition(app, teacher)
    with app.app_context():
        now = utcnow()
        claims = {"name": teacher.display_name, "staff_number": "x", "level": "primary"}
        db.session.add_all([
            Paper(number=rec.certificate_number, kind="certificate",
                  teacher_id=teacher.id, recognition_id=rec.id, claims=claims,
                  pdf=b"%PDF", pdf_sha256="0" * 64, issued_at=now),
            Paper(number=new_number(), kind="hours_statement", teacher_id=teacher.id,
                  period_start=date(2026, 1, 1), period_end=date(2026, 12, 31),
                  claims=claims, pdf=b"%PDF", pdf_sha256="0" * 64, issued_at=now),
        ])  # fmt: skip
        db.session.commit()


def _count(client, count_queries) -> int:
    with count_queries() as counter:
        response = client.get("/papers/")
    assert response.status_code == 200
    return counter.count


def test_papers_page_queries_are_bounded(
    app, client, auth, people, make_user, count_queries
):
    _papers_for(app, people["teacher"])
    auth.login("head1")
    few = _count(client, count_queries)
    for n in range(4):
        teacher = make_user(f"t{n}", Role.TEACHER, department=people["ai"])
        _papers_for(app, teacher)
    many = _count(client, count_queries)
    assert many == few
    page = client.get("/papers/").text
    assert page.count('data-number="') == 10


def test_teacher_sees_statement_form_and_own_papers_only(app, client, auth, people):
    _papers_for(app, people["colleague"])
    auth.login("wxh")
    page = client.get("/papers/").text
    assert 'name="period_start"' in page
    assert 'data-number="' not in page


def test_recognitions_show_the_level_by_its_name_not_its_code(
    app, client, auth, people
):
    make_recognition(app, people["teacher"], level="primary")
    auth.login("wxh")
    page = client.get("/papers/").text
    table = page[page.index('id="recognitions"') :]
    table = table[: table.index("</table>")]
    assert "初级" in table
    assert ">primary<" not in table
