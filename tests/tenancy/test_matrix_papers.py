"""Access matrix for papers: route × role × college side; outside the scope is 404.

A teacher reads only their own papers and portfolios; a head their department's;
a college admin their college's; association staff none (papers carry evidence
and names); the deployment admin every college's. The exports are for the
college admin (own college) and the deployment admin. The check page is public.
"""

from __future__ import annotations

from datetime import date

import pytest

from pdtracker.auth.models import User
from pdtracker.extensions import db
from pdtracker.papers import services as svc
from pdtracker.timeutil import utcnow
from tests.factories import make_recognition
from tests.tenancy.conftest import ACTORS, SIDES

BASE = "http://pdtracker.test"

# Who may read the DEMO ("own") teacher1's papers, and NORTH's north_teacher1's.
READS = {
    "teacher": {"own": True, "other": False},
    "head": {"own": True, "other": False},
    "college_admin": {"own": True, "other": False},
    "staff": {"own": False, "other": False},
    "admin": {"own": True, "other": True},
}


@pytest.fixture
def papers(app, two_colleges):
    """Per side: a recognition with its certificate, and an hours statement."""
    out: dict[str, dict] = {}
    for side in SIDES:
        teacher = two_colleges["teacher"][side]
        rec = make_recognition(app, teacher)
        with app.test_request_context():
            user = db.session.get(User, teacher.id)
            from pdtracker.recognition.models import Recognition

            cert = svc.issue_certificate(
                db.session.get(Recognition, rec.id), actor=user, now=utcnow(),
                base_url=BASE,
            )  # fmt: skip
            statement = svc.issue_hours_statement(
                user, date(2026, 1, 1), date(2026, 12, 31), actor=user, now=utcnow(),
                base_url=BASE,
            )  # fmt: skip
            db.session.commit()
            out[side] = {
                "recognition": rec.id,
                "application": rec.application_id,
                "certificate": cert.number,
                "statement": statement.number,
            }
    return out


def _expected(role: str, side: str) -> int:
    return 200 if READS[role][side] else 404


@pytest.mark.parametrize("role", list(ACTORS))
@pytest.mark.parametrize("side", SIDES)
def test_paper_downloads(client, auth, papers, role, side):
    auth.login(ACTORS[role])
    for kind in ("certificate", "statement"):
        response = client.get(f"/papers/{papers[side][kind]}.pdf")
        assert response.status_code == _expected(role, side), (kind, role, side)


@pytest.mark.parametrize("role", list(ACTORS))
@pytest.mark.parametrize("side", SIDES)
def test_certificate_issue(client, auth, papers, role, side):
    auth.login(ACTORS[role])
    response = client.post(f"/papers/certificates/{papers[side]['recognition']}")
    assert response.status_code == _expected(role, side)


@pytest.mark.parametrize("role", list(ACTORS))
@pytest.mark.parametrize("side", SIDES)
def test_application_portfolio(client, auth, papers, role, side):
    auth.login(ACTORS[role])
    application = papers[side]["application"]
    for ext in ("pdf", "zip"):
        response = client.get(f"/papers/portfolio/{application}.{ext}")
        assert response.status_code == _expected(role, side), (ext, role, side)


@pytest.mark.parametrize("role", list(ACTORS))
def test_index_lists_only_papers_in_scope(client, auth, papers, role):
    auth.login(ACTORS[role])
    response = client.get("/papers/")
    assert response.status_code == 200
    for side in SIDES:
        shown = papers[side]["statement"] in response.text
        assert shown is READS[role][side], (role, side)


@pytest.mark.parametrize("role", list(ACTORS))
@pytest.mark.parametrize("side", SIDES)
def test_withdraw_only_ones_own(app, client, auth, papers, table_rows, role, side):
    auth.login(ACTORS[role])
    before = table_rows(["papers"])
    response = client.post(f"/papers/{papers[side]['statement']}/withdraw")
    if role == "teacher" and side == "own":
        assert response.status_code == 302
        return
    # Roles without a teacher's role are refused outright; others do not find it.
    assert response.status_code == (404 if role in ("teacher", "head") else 403)
    assert table_rows(["papers"]) == before


@pytest.mark.parametrize("role", list(ACTORS))
def test_exports(client, auth, two_colleges, papers, role):
    auth.login(ACTORS[role])
    own = client.get("/papers/exports/staff.csv")
    other = client.get(
        f"/papers/exports/staff.csv?institution={two_colleges['north'].id}"
    )
    if role in ("teacher", "head", "staff"):
        assert (own.status_code, other.status_code) == (403, 403)
        return
    assert own.status_code == 200
    assert other.status_code == (200 if role == "admin" else 404)
    if role == "college_admin":
        names = own.data.decode("utf-8-sig")
        assert "teacher1" in names
        assert "north_teacher1" not in names


@pytest.mark.parametrize("side", SIDES)
def test_check_page_is_public(client, papers, side):
    for kind in ("certificate", "statement"):
        assert client.get(f"/verify/{papers[side][kind]}").status_code == 200


def test_deployment_admin_ratio_keeps_colleges_apart(
    client, auth, two_colleges, papers
):
    auth.login("admin")
    text = client.get("/papers/exports/ratio.csv").data.decode("utf-8-sig")
    # Both colleges have an "AI" department; each is its own row, named with its college.
    assert "示范职业技术学院 人工智能技术应用系" in text
    assert "北城职业技术学院 北城人工智能系" in text
