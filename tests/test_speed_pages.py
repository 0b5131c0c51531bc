"""The teacher dashboard and the department page, made cheaper per request (issue 16),
are the HTML they were, and nothing they keep or read early outlives a change.

The reference is the same page drawn by a new worker (tests.support.kept_and_fresh:
no kept frame, links or progress caches): pages served from what a worker keeps must
equal it byte for byte (CSRF tokens masked), in both languages, for a teacher, a
head and a college admin, on the first and a warm request, one user after another
on the same worker.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_login import login_user

from pdtracker.auth.models import Role, User
from pdtracker.auth.session import load_user
from pdtracker.extensions import db
from pdtracker.notifications import inbox
from pdtracker.notifications.models import Notification, NotificationKind
from pdtracker.notifications.views import unread_notifications
from tests.conftest import Auth
from tests.factories import DEMO_PASSWORD
from tests.support import kept_and_fresh

BADGE = '<span class="badge bg-light text-dark">'


def _notify(user_id: int, **fields) -> int:
    fields.setdefault("kind", NotificationKind.ACTIVITY_VERIFIED.value)
    fields.setdefault("status", "sent")
    notification = Notification(
        recipient_id=user_id,
        object_type="activity",
        object_id=1,
        idempotency_key=f"pages-{user_id}-{datetime.now(UTC).timestamp()}",
        due_at=datetime.now(UTC),
        sent_at=datetime.now(UTC),
        payload={},
        **fields,
    )
    db.session.add(notification)
    db.session.commit()
    return notification.id


@pytest.fixture
def people(make_department, make_user) -> dict[str, User]:
    """Two departments' teachers, a head (also a teacher) and a college admin."""
    ai = make_department("AI", "人工智能技术应用系")
    other = make_department("ME", "机电系")
    teacher = make_user("wxh", Role.TEACHER, department=ai, display_name="王小华")
    return {
        "teacher": teacher,
        "colleague": make_user("lm", Role.TEACHER, department=ai, display_name="李明"),
        "stranger": make_user("zs", Role.TEACHER, department=other),
        "head": make_user("head1", Role.HEAD, Role.TEACHER, department=ai),
        "cadmin": make_user(
            "cadmin1", Role.COLLEGE_ADMIN, institution_id=teacher.institution_id
        ),
    }


def _pages(people: dict[str, User], departments: tuple[int, int]) -> dict[str, list]:
    teacher = people["teacher"].id
    return {
        "wxh": ["/progress/", "/notifications/", "/activities/"],
        "head1": [
            "/progress/department",
            f"/progress/teachers/{teacher}",
            "/progress/",
            "/notifications/",
        ],
        "cadmin1": [
            "/progress/department",
            f"/progress/department?department={departments[1]}",
            "/progress/college",
            f"/progress/teachers/{teacher}",
        ],
    }


def _read(client: FlaskClient, username: str, locale: str, paths: list[str]) -> list:
    """Each path's page, twice (first and warm), each equal to a new worker's."""
    auth = Auth(client)
    assert auth.login(username).status_code == 302
    client.post("/language", data={"locale": locale})
    pages = []
    for path in paths:
        for attempt in ("first", "warm"):
            page, fresh = kept_and_fresh(client.application, client, path)
            assert page == fresh, (username, locale, path, attempt)
            pages.append(page)
    auth.logout()
    client.get("/login")  # shows "logged out" once, not on a compared page
    return pages


def test_kept_pages_are_byte_identical_to_a_new_workers(app: Flask, people) -> None:
    with app.app_context():
        _notify(people["teacher"].id)
        _notify(people["teacher"].id)
        _notify(people["head"].id)
        departments = (
            people["teacher"].department_id,
            people["stranger"].department_id,
        )
    client = app.test_client()  # one worker: each user's visit warms the next's
    compared = 0
    for username, paths in _pages(people, departments).items():
        for locale in ("zh_Hans_CN", "en"):
            compared += len(_read(client, username, locale, paths))
    assert compared == 2 * 2 * (3 + 4 + 4)  # languages, visits, paths
    # The badge was really shown, and counted per user.
    assert f"{BADGE}2</span>" in _read(client, "wxh", "en", ["/progress/"])[1]
    assert f"{BADGE}1</span>" in _read(client, "head1", "en", ["/progress/"])[1]


def _bar(client: FlaskClient) -> str:
    page = client.get("/progress/").get_data(as_text=True)
    return page[page.index("<nav") : page.index("</nav>")]


def test_the_badge_follows_every_change_on_the_next_request(
    app: Flask, client: FlaskClient, auth, people
) -> None:
    teacher, other = people["teacher"].id, people["colleague"].id
    assert auth.login("wxh").status_code == 302
    assert BADGE not in _bar(client)
    with app.app_context():
        first = _notify(teacher)
    assert f"{BADGE}1</span>" in _bar(client)
    with app.app_context():
        _notify(teacher)
        _notify(other)  # someone else's
        _notify(teacher, status="pending")  # not delivered yet
        _notify(teacher, kind=NotificationKind.PASSWORD_RESET.value)  # mail only
    assert f"{BADGE}2</span>" in _bar(client)
    assert client.post(f"/notifications/{first}/read").status_code == 302
    assert f"{BADGE}1</span>" in _bar(client)
    client.post("/notifications/read-all")
    assert BADGE not in _bar(client)
    # The other user's count was never touched.
    auth.logout()
    assert auth.login("lm").status_code == 302
    assert f"{BADGE}1</span>" in _bar(client)


@pytest.mark.parametrize(
    "write",
    [
        pytest.param(
            lambda user: inbox.mark_all_read(user, datetime.now(UTC)), id="core-update"
        ),
        pytest.param(
            lambda user: inbox.mark_read(
                inbox.get_own(user, _first_unread(user.id)), datetime.now(UTC)
            ),
            id="orm-flush",
        ),
    ],
)
def test_a_request_that_writes_notifications_counts_again(
    app: Flask, people, write: Callable[[User], object]
) -> None:
    teacher = people["teacher"]
    with app.app_context():
        _notify(teacher.id)
        version = db.session.get_one(User, teacher.id).session_version
    with app.test_request_context("/progress/"):
        user = load_user(f"{teacher.id}:{version}")
        assert user is not None
        login_user(user)
        assert unread_notifications() == 1  # read with the user: no query of its own
        write(user)
        assert unread_notifications() == 0  # this request wrote: counted again


def _first_unread(user_id: int) -> int:
    return db.session.scalars(
        inbox.inbox_query(db.session.get_one(User, user_id)).with_only_columns(
            Notification.id
        )
    ).first()


def test_one_query_loads_the_user_the_badge_and_the_department(
    app: Flask, client: FlaskClient, auth, people, count_queries
) -> None:
    """The head's department page asks no more for the badge or the department."""
    assert auth.login("head1").status_code == 302
    client.get("/progress/department")
    with count_queries() as counter:
        assert client.get("/progress/department").status_code == 200
    loads = [s for s in counter.statements if "users.session_version" in s]
    assert len(loads) == 1
    assert "FROM notifications" in loads[0]
    assert "departments" in loads[0]
    others = [s for s in counter.statements if s is not loads[0]]
    assert not [s for s in others if "notifications" in s]
    assert not [s for s in others if "FROM departments" in s]


def test_a_renamed_department_and_a_revoked_session_show_at_once(
    app: Flask, client: FlaskClient, auth, people
) -> None:
    from pdtracker.org.models import Department

    assert auth.login("head1").status_code == 302
    client.post("/language", data={"locale": "en"})
    assert "人工智能技术应用系" in client.get("/progress/department").text
    with app.app_context():
        department = db.session.get_one(Department, people["head"].department_id)
        department.name = "人工智能学院"
        db.session.commit()
    page = client.get("/progress/department").text
    assert "人工智能学院" in page
    assert "人工智能技术应用系" not in page
    with app.app_context():
        db.session.get_one(User, people["head"].id).session_version += 1
        db.session.commit()
    assert client.get("/progress/department").status_code == 302  # to the login


def test_the_kept_frame_follows_name_roles_language_page_and_session(
    app: Flask, client: FlaskClient, auth, people
) -> None:
    """The frame is kept per key; a change to anything it shows shows at once,
    and each session gets its own CSRF token in it."""
    assert auth.login("wxh").status_code == 302
    client.post("/language", data={"locale": "en"})
    page = client.get("/progress/").text
    assert ">王小华</a>" in page
    with app.app_context():
        db.session.get_one(User, people["teacher"].id).display_name = "王晓华"
        db.session.commit()
    page = client.get("/progress/").text
    assert ">王晓华</a>" in page
    assert ">王小华</a>" not in page
    # Roles: a teacher made head sees the head's links at once.
    assert 'href="/activities/review"' not in page
    with app.app_context():
        user = db.session.get_one(User, people["teacher"].id)
        user.set_roles({Role.TEACHER, Role.HEAD})
        db.session.commit()
    assert 'href="/activities/review"' in client.get("/progress/").text
    # Language: the switch shows on the next page.
    client.post("/language", data={"locale": "zh_Hans_CN"})
    page = client.get("/progress/").text
    assert '<html lang="zh-CN">' in page
    assert 'value="en">English</button>' in page
    # Another page: its own active link.
    page = client.get("/activities/").text
    assert 'class="nav-link active"\n             href="/activities/"' in page


def test_each_session_gets_its_own_working_csrf_token_in_the_kept_frame(
    app: Flask, people
) -> None:
    app.config["WTF_CSRF_ENABLED"] = True
    tokens = []
    for _ in range(2):
        client = app.test_client()
        login = client.get("/login").text
        token = re.search(r'name="csrf_token" value="([^"]+)"', login).group(1)
        assert client.post(
            "/login", data={"username": "wxh", "password": DEMO_PASSWORD,
                            "csrf_token": token},
        ).status_code == 302  # fmt: skip
        page = client.get("/progress/").text  # the second view: a kept frame
        page = client.get("/progress/").text
        frame = re.findall(r'name="csrf_token" value="([^"]+)"', page)
        assert len(set(frame)) == 1
        # The token in the kept frame is this session's: the language form works.
        reply = client.post("/language", data={"locale": "en", "csrf_token": frame[0]})
        assert reply.status_code == 302
        tokens.append(frame[0])
    assert tokens[0] != tokens[1]
