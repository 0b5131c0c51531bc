"""The user form checks a staff number (工号) within the person's college."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from pdtracker.auth.models import Role, User
from pdtracker.extensions import db
from pdtracker.org.models import TeacherProfile

IN_USE = "This staff number is already in use."


@pytest.fixture
def colleges(make_department, make_user):
    """A teacher numbered 0001 in DEMO; a department in NORTH; the admin."""
    demo = make_department("AI", "人工智能技术应用系", institution="DEMO")
    north = make_department("NAI", "北城人工智能系", institution="NORTH")
    teacher = make_user("zhang", department=demo)
    make_user("admin", Role.ADMIN)
    return {"demo": demo, "north": north, "teacher": teacher}


def _form(department_id: int, **overrides) -> dict:
    data = {
        "username": "lilaoshi",
        "display_name": "李老师",
        "email": "li@example.edu.cn",
        "password": "a-long-password",
        "roles": ["teacher"],
        "department_id": str(department_id),
        "staff_number": "S-zhang",
        "title": "",
        "prior_industry_years": "0",
    }
    data.update(overrides)
    return data


def _page(client, path: str, data: dict) -> tuple[int, str]:
    response = client.post(path, data=data)
    return response.status_code, response.get_data(as_text=True)


@pytest.fixture
def admin(client, auth, colleges):
    auth.login("admin")
    client.post("/language", data={"locale": "en"})
    return client


def test_the_same_number_in_another_college_is_accepted(app, admin, colleges):
    status, page = _page(admin, "/admin/users/new", _form(colleges["north"].id))
    assert status == 302, page
    with app.app_context():
        found = db.session.execute(
            select(TeacherProfile.institution_id).where(
                TeacherProfile.staff_number == "S-zhang"
            )
        ).scalars()
        assert sorted(found) == sorted(
            [colleges["demo"].institution_id, colleges["north"].institution_id]
        )


def test_the_same_number_in_one_college_is_refused(app, admin, colleges):
    status, page = _page(admin, "/admin/users/new", _form(colleges["demo"].id))
    assert status == 200
    assert IN_USE in page


def test_a_move_onto_a_number_taken_there_is_refused(app, admin, colleges):
    _page(admin, "/admin/users/new", _form(colleges["north"].id))
    teacher = colleges["teacher"]
    edit = _form(colleges["north"].id, username="zhang", email=teacher.email)
    del edit["password"]
    status, page = _page(admin, f"/admin/users/{teacher.id}/edit", edit)
    assert status == 200
    assert IN_USE in page


def test_a_moved_teacher_keeps_the_profile_in_the_new_college(app, admin, colleges):
    teacher = colleges["teacher"]
    edit = _form(colleges["north"].id, username="zhang", email=teacher.email)
    del edit["password"]
    status, page = _page(admin, f"/admin/users/{teacher.id}/edit", edit)
    assert status == 302, page
    with app.app_context():
        user = db.session.get(User, teacher.id)
        assert user is not None
        assert user.teacher_profile is not None
        assert user.institution_id == colleges["north"].institution_id
        assert user.teacher_profile.institution_id == user.institution_id


def test_removing_the_college_of_a_person_with_a_profile_says_why(
    app, admin, colleges
) -> None:
    """A former teacher keeps their profile (工号, title), which belongs to a
    college: taking the person out of every college is refused on the form, in
    words, with what was typed kept and nothing changed."""
    teacher = colleges["teacher"]
    data = _form(
        0, username="zhang", display_name="张老师(已调离)",
        email="zhang@example.edu.cn", roles=["staff"], institution_id="0",
        staff_number="",
    )  # fmt: skip
    data["department_id"] = "0"
    del data["password"]
    status, page = _page(admin, f"/admin/users/{teacher.id}/edit", data)
    assert status == 200, page  # the form again, as for every refusal on it
    assert "already in use" not in page
    assert (
        "This person has a teacher profile (staff number S-zhang), which belongs "
        "to a college: choose one."
    ) in page
    assert "张老师(已调离)" in page  # what was typed is kept
    with app.app_context():
        user = db.session.get_one(User, teacher.id)
        assert user.institution_id == colleges["demo"].institution_id
        assert user.display_name != "张老师(已调离)"
        assert user.role_set == {Role.TEACHER}
