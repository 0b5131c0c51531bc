"""Every change the department page and its exports show reaches a warm worker.

The department page keeps its summary while the department's change version holds
(issue 16: a warm page reads one small version row, not its 300 teachers). So each
kind of change that alters what the page or its CSV shows must move that version:
each test warms the page, makes one change the way the app's services do (ORM
commits, or the admin's form), and compares the page served from what the worker
keeps with the page a new worker renders, and the CSV likewise.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import date

import pytest

from pdtracker.auth.models import Role, User
from pdtracker.extensions import db
from pdtracker.org.models import Department, TeacherProfile
from pdtracker.recognition.models import Recognition
from tests.factories import make_recognition
from tests.support import keeps_emptied, kept_and_fresh, masked

PAGE = "/progress/department"
CSV = "/progress/department.csv"


@pytest.fixture
def cast(make_department, make_user):
    """A department of two teachers and its head, a second department, and the
    deployment admin (who edits people with the admin's form)."""
    ai = make_department("AI", "人工智能技术应用系")
    me = make_department("ME", "机电工程系")
    return {
        "ai": ai,
        "me": me,
        "wang": make_user("wxh", Role.TEACHER, department=ai, display_name="王小华"),
        "li": make_user("lm", Role.TEACHER, department=ai, display_name="李明"),
        "head": make_user("head1", Role.HEAD, Role.TEACHER, department=ai,
                          display_name="赵主任"),
        "admin": make_user("admin", Role.ADMIN),
    }  # fmt: skip


def _csv_rows(client) -> list[list[str]]:
    response = client.get(CSV)
    assert response.status_code == 200
    return list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))


def _fresh_csv(app, client) -> list[list[str]]:
    with keeps_emptied(app):
        return _csv_rows(client)


def _change(app, edit: Callable[[], None]) -> None:
    with app.app_context():
        edit()
        db.session.commit()


def _user(username: str) -> User:
    user = db.session.query(User).filter_by(username=username).one()
    return user


def _warm(client) -> str:
    """The page twice: the second comes from what the worker keeps."""
    first = masked(client.get(PAGE).text)
    assert client.get(PAGE).status_code == 200
    _csv_rows(client)
    return first


def _served_as_fresh(app, client) -> tuple[str, list[list[str]]]:
    kept, fresh = kept_and_fresh(app, client, PAGE)
    assert kept == fresh
    rows = _csv_rows(client)
    assert rows == _fresh_csv(app, client)
    return kept, rows


def _sign_out(client, auth) -> None:
    auth.logout()
    client.get("/login")  # shows the sign-out message, so the next page does not


def _row(rows: list[list[str]], name: str) -> list[str]:
    return next(r for r in rows if r[1] == name)


def _profile_edit(app) -> None:
    def edit() -> None:
        profile = _user("wxh").teacher_profile
        assert profile is not None
        profile.staff_number, profile.title = "T-0421", "副教授"

    _change(app, edit)


def test_profile_edit_shows_in_the_export(app, client, auth, cast) -> None:
    auth.login("head1")
    _warm(client)
    _profile_edit(app)
    _page, rows = _served_as_fresh(app, client)
    assert _row(rows, "王小华")[0] == "T-0421"
    assert _row(rows, "王小华")[2] == "副教授"


def test_new_teacher_joins_the_page(app, client, auth, cast, make_user) -> None:
    auth.login("head1")
    _warm(client)
    make_user("xin", Role.TEACHER, department=cast["ai"], display_name="陈新")
    page, rows = _served_as_fresh(app, client)
    assert "陈新" in page
    assert _row(rows, "陈新")


def test_profile_created_for_a_teacher_without_one(app, client, auth, cast) -> None:
    auth.login("head1")
    _change(app, lambda: setattr(_user("lm"), "teacher_profile", None))
    assert "李明" in _warm(client)

    def edit() -> None:
        _user("lm").teacher_profile = TeacherProfile(
            staff_number="T-0099", title="讲师", is_professional_course=False
        )

    _change(app, edit)
    _page, rows = _served_as_fresh(app, client)
    assert _row(rows, "李明")[0] == "T-0099"


def test_role_granted_and_revoked(app, client, auth, cast, make_user) -> None:
    make_user("qian", Role.STAFF, department=cast["ai"], display_name="钱老师")
    auth.login("head1")
    assert "钱老师" not in _warm(client)

    _change(app, lambda: _user("qian").set_roles({Role.STAFF, Role.TEACHER}))
    page, _rows = _served_as_fresh(app, client)
    assert "钱老师" in page

    _change(app, lambda: _user("wxh").set_roles({Role.STAFF}))
    page, _rows = _served_as_fresh(app, client)
    assert "王小华" not in page


def test_deactivated_and_moved_teachers_leave(app, client, auth, cast) -> None:
    auth.login("head1")
    _warm(client)
    _change(app, lambda: setattr(_user("wxh"), "is_active_account", False))
    page, _rows = _served_as_fresh(app, client)
    assert "王小华" not in page

    _change(app, lambda: setattr(_user("lm"), "department_id", cast["me"].id))
    page, _rows = _served_as_fresh(app, client)
    assert "李明" not in page


def test_renamed_and_deleted_teachers(app, client, auth, cast) -> None:
    auth.login("head1")
    _warm(client)
    _change(app, lambda: setattr(_user("wxh"), "display_name", "王晓华"))
    page, _rows = _served_as_fresh(app, client)
    assert "王晓华" in page

    _change(app, lambda: db.session.delete(_user("lm")))
    page, _rows = _served_as_fresh(app, client)
    assert "李明" not in page


def test_recognition_suspended_shows(app, client, auth, cast) -> None:
    rec = make_recognition(app, cast["wang"], valid_from=date(2020, 1, 1), years=20)
    auth.login("head1")
    assert 'data-recognised="1"' in _warm(client)

    def edit() -> None:
        found = db.session.get_one(Recognition, rec.id)
        found.state = "suspended"

    _change(app, edit)
    page, _rows = _served_as_fresh(app, client)
    assert 'data-recognised="1"' not in page


def test_admin_form_edit_shows_on_the_heads_page(app, client, auth, cast) -> None:
    """The deployment admin edits a teacher's staff number with the admin form; the
    head's warm export shows the new number."""
    auth.login("head1")
    _warm(client)
    _sign_out(client, auth)
    auth.login("admin")
    teacher = cast["wang"]
    data = {
        "username": "wxh", "display_name": "王小华", "email": "wxh@example.edu.cn",
        "roles": ["teacher"], "department_id": str(cast["ai"].id),
        "staff_number": "T-7777", "title": "讲师", "is_professional_course": "y",
        "prior_industry_years": "0",
    }  # fmt: skip
    response = client.post(f"/admin/users/{teacher.id}/edit", data=data)
    assert response.status_code == 302
    _sign_out(client, auth)
    auth.login("head1")
    _page, rows = _served_as_fresh(app, client)
    assert _row(rows, "王小华")[0] == "T-7777"


def test_department_renamed_shows(app, client, auth, cast) -> None:
    auth.login("head1")
    _warm(client)

    def edit() -> None:
        db.session.get_one(Department, cast["ai"].id).name = "智能应用系"

    _change(app, edit)
    page, _rows = _served_as_fresh(app, client)
    assert "智能应用系" in page
