"""The activity log and the review queue are kept between requests (pdtracker.fragments)
only while nothing they show has changed; CSRF tokens are never shared."""

from __future__ import annotations

import io
import re

import pytest

from pdtracker import create_app
from pdtracker.auth.models import Role
from pdtracker.calendar.directory import shutdown
from pdtracker.extensions import db
from pdtracker.fragments import CSRF_PLACEHOLDER
from tests.activities.conftest import PDF
from tests.conftest import _config
from tests.factories import DEMO_PASSWORD

TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def _verify_forms(page: str) -> list[str]:
    """The CSRF tokens of the queue's verify forms."""
    return [
        m.group(1)
        for m in re.finditer(
            r'action="[^"]*/verify"[^>]*>\s*<input type="hidden" name="csrf_token" '
            r'value="([^"]+)"',
            page,
        )
    ]


def test_queue_shows_a_new_activity_after_it_was_kept(
    client, auth, world, make_activity
) -> None:
    make_activity(world["teacher1"], title="第一次讲座")
    auth.login("head1")
    assert "第一次讲座" in client.get("/activities/review").text

    make_activity(world["teacher2"], title="第二次讲座")

    page = client.get("/activities/review").text
    assert "第一次讲座" in page
    assert "第二次讲座" in page


def test_queue_drops_a_verified_activity(client, auth, world, make_activity) -> None:
    waiting = make_activity(world["teacher1"], title="待核验的讲座")
    auth.login("head1")
    assert "待核验的讲座" in client.get("/activities/review").text

    client.post(f"/activities/{waiting.id}/verify")

    assert "待核验的讲座" not in client.get("/activities/review").text


def test_queue_shows_a_renamed_teacher_and_department(
    app, client, auth, world, make_activity
) -> None:
    from pdtracker.auth.models import User
    from pdtracker.org.models import Department

    make_activity(world["teacher1"], title="讲座")
    auth.login("head1")
    assert "teacher1" in client.get("/activities/review").text

    with app.app_context():
        db.session.get(User, world["teacher1"].id).display_name = "王老师"
        db.session.get(Department, world["ai"].id).name = "智能制造系"
        db.session.commit()

    page = client.get("/activities/review").text
    assert "王老师" in page
    assert "智能制造系" in page


def test_queue_of_each_head_is_their_own(
    app, auth, world, make_activity, make_user
) -> None:
    make_activity(world["teacher1"], title="人工智能系的讲座")
    outsider = make_user("teacher9", department=world["other"])
    make_activity(outsider, title="机电系的讲座")
    first, second = app.test_client(), app.test_client()
    first.post("/login", data={"username": "head1", "password": DEMO_PASSWORD})
    second.post("/login", data={"username": "head2", "password": DEMO_PASSWORD})

    one, two = (
        first.get("/activities/review").text,
        second.get("/activities/review").text,
    )

    assert "人工智能系的讲座" in one
    assert "机电系的讲座" not in one
    assert "机电系的讲座" in two
    assert "人工智能系的讲座" not in two


def test_queue_of_a_head_who_is_also_college_admin_is_not_the_department_only(
    client, auth, world, make_activity, make_user
) -> None:
    """Their queue spans the college's heads too, so it is not kept by department."""
    from pdtracker.activities import services as svc

    both = make_user(
        "both1", Role.HEAD, Role.COLLEGE_ADMIN, Role.TEACHER, department=world["ai"]
    )
    make_activity(world["head2"], title="另一位系主任的讲座")
    auth.login("both1")
    assert svc.department_review_scope(both) is None
    assert "另一位系主任的讲座" in client.get("/activities/review").text


@pytest.mark.parametrize("language", ["en", "zh_Hans_CN"])
def test_queue_in_each_language_is_kept_apart(
    client, auth, world, make_activity, language
) -> None:
    make_activity(world["teacher1"], title="讲座")
    auth.login("head1")
    other = "zh_Hans_CN" if language == "en" else "en"
    client.post("/language", data={"locale": other})
    client.get("/activities/review")
    client.post("/language", data={"locale": language})

    page = client.get("/activities/review").text

    verify = "Verify" if language == "en" else "审核通过"
    assert f">{verify}</button>" in page


@pytest.mark.parametrize(("reviewer", "teacher"), [("head1", "teacher1"),
                                                   ("admin", "head2")])  # fmt: skip
def test_each_session_gets_its_own_csrf_token_in_the_kept_queue(
    database_url, tmp_path, world, make_activity, reviewer, teacher
) -> None:
    """With CSRF on: the rows are kept, the tokens are not, and verifying works.

    The admin's queue (the heads of every college) is not kept, only rendered alike.
    """
    waiting = make_activity(world[teacher], title="待核验的讲座")
    guarded = create_app(
        _config(database_url, tmp_path / "uploads") | {"WTF_CSRF_ENABLED": True}
    )
    try:
        sessions = []
        for _ in range(2):
            client = guarded.test_client()
            login = TOKEN.search(client.get("/login").text)
            assert login is not None
            client.post(
                "/login",
                data={"username": reviewer, "password": DEMO_PASSWORD,
                      "csrf_token": login.group(1)},
            )  # fmt: skip
            page = client.get("/activities/review").text
            assert "待核验的讲座" in page
            assert CSRF_PLACEHOLDER not in page
            forms = _verify_forms(page)
            assert len(forms) == 1
            sessions.append((client, forms[0]))
        assert sessions[0][1] != sessions[1][1]

        client, token = sessions[1]
        reply = client.post(
            f"/activities/{waiting.id}/verify", data={"csrf_token": token}
        )
        assert reply.status_code == 302
        assert "待核验的讲座" not in client.get("/activities/review").text
    finally:
        shutdown(guarded)
        with guarded.app_context():
            db.session.remove()
            db.engine.dispose()


def test_activity_log_shows_a_new_activity(client, auth, world, make_activity) -> None:
    make_activity(world["teacher1"], title="第一条记录")
    auth.login("teacher1")
    assert "第一条记录" in client.get("/activities/").text

    make_activity(world["teacher1"], title="第二条记录")

    page = client.get("/activities/").text
    assert "第一条记录" in page
    assert "第二条记录" in page


def _evidence_cell(page: str, title: str) -> str:
    row = page[page.index(title) :]
    return re.findall(r"<td>(\d+)</td>", row[: row.index("</tr>")])[0]


def test_activity_log_counts_evidence_uploaded_and_deleted(
    app, client, auth, world, make_activity
) -> None:
    """Evidence rows are not feed content: their activity's change bumps the version."""
    from pdtracker.activities.models import EvidenceFile

    first = make_activity(world["teacher1"], title="第一条记录")
    auth.login("teacher1")
    assert _evidence_cell(client.get("/activities/").text, "第一条记录") == "0"

    client.post(
        f"/activities/{first.id}/evidence",
        data={"evidence": (io.BytesIO(PDF), "签到表.pdf")},
        content_type="multipart/form-data",
    )
    assert _evidence_cell(client.get("/activities/").text, "第一条记录") == "1"

    with app.app_context():
        evidence_id = db.session.query(EvidenceFile.id).scalar()
    client.post(f"/activities/{first.id}/evidence/{evidence_id}/delete")
    assert _evidence_cell(client.get("/activities/").text, "第一条记录") == "0"


def test_activity_log_filters_are_kept_apart(
    client, auth, world, make_activity
) -> None:
    make_activity(world["teacher1"], title="研讨会记录", kind_code="seminar")
    make_activity(world["teacher1"], title="培训记录", kind_code="training")
    auth.login("teacher1")

    everything = client.get("/activities/").text
    seminars = client.get("/activities/?kind=seminar").text

    assert "研讨会记录" in everything
    assert "培训记录" in everything
    assert "研讨会记录" in seminars
    assert "培训记录" not in seminars


def test_activity_log_of_each_teacher_is_their_own(app, world, make_activity) -> None:
    make_activity(world["teacher1"], title="一号老师的记录")
    make_activity(world["teacher2"], title="二号老师的记录")
    first, second = app.test_client(), app.test_client()
    first.post("/login", data={"username": "teacher1", "password": DEMO_PASSWORD})
    second.post("/login", data={"username": "teacher2", "password": DEMO_PASSWORD})

    one, two = first.get("/activities/").text, second.get("/activities/").text

    assert "一号老师的记录" in one
    assert "二号老师的记录" not in one
    assert "二号老师的记录" in two
    assert "一号老师的记录" not in two
