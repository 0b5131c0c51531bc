"""The admin area across two colleges: every route × role × own/other college.

A college admin (cadmin1, DEMO) reaches DEMO's people and departments and gets 404
for NORTH's; the deployment admin reaches both; teachers, heads, enterprise mentors
and association staff are refused these pages (403; staff reach only the ruleset
pages, in test_matrix_progress). Every refused request leaves every row of
every table as it was.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from pdtracker.auth.models import Role, User
from pdtracker.extensions import db
from pdtracker.org.models import Department
from tests import factories
from tests.tenancy.conftest import ACTORS, ROLES, SIDES

PASSWORD = "a-long-initial-password"


def _user_form(w, side: str, **overrides) -> dict:
    target = w["teacher"][side]
    data = {
        "username": target.username,
        "display_name": "改过的名字",
        "email": target.email,
        "roles": ["teacher"],
        "department_id": str(w["department"][side].id),
        "staff_number": f"S-{target.username}",
        "title": "讲师",
        "is_professional_course": "y",
        "prior_industry_years": "1",
    }
    data.update(overrides)
    return data


def _new_user(w, side: str) -> dict:
    return _user_form(
        w, side, username=f"new_{side}", email=f"new_{side}@example.edu.cn",
        staff_number=f"N-{side}", password=PASSWORD,
    )  # fmt: skip


def _department(w, side: str) -> dict:
    dept = w["department"][side]
    return {"institution_id": str(dept.institution_id), "code": "AI", "name": "改名系"}


# route → (method, path, body); {user} is the side's teacher, {dept} its department.
ROUTES = {
    "users": ("GET", "/admin/users", None),
    "users_filtered": ("GET", "/admin/users?department={dept}", None),
    "new_user_form": ("GET", "/admin/users/new", None),
    "create_user": ("POST", "/admin/users/new", _new_user),
    "edit_form": ("GET", "/admin/users/{user}/edit", None),
    "edit": ("POST", "/admin/users/{user}/edit", _user_form),
    "password_form": ("GET", "/admin/users/{user}/password", None),
    "password": ("POST", "/admin/users/{user}/password", {"password": PASSWORD}),
    "deactivate": ("POST", "/admin/users/{user}/deactivate", None),
    "activate": ("POST", "/admin/users/{user}/activate", None),
    "departments": ("GET", "/admin/departments", None),
    "new_department_form": ("GET", "/admin/departments/new", None),
    "create_department": (
        "POST",
        "/admin/departments/new",
        lambda w, side: {**_department(w, side), "code": f"X{side}"},
    ),
    "edit_department_form": ("GET", "/admin/departments/{dept}/edit", None),
    "edit_department": ("POST", "/admin/departments/{dept}/edit", _department),
    "institutions": ("GET", "/admin/institutions", None),
    "create_institution": (
        "POST",
        "/admin/institutions",
        {"code": "SOUTH", "name": "南城职业技术学院"},
    ),
    "add_college_admin": (
        "POST",
        "/admin/institutions/{college}/admins",
        lambda w, side: {"username": w["teacher"][side].username},
    ),
}
DEPLOYMENT_ONLY = {"institutions", "create_institution", "add_college_admin"}
# A college admin naming another college's department in a new record is
# refused by the form (the choice is not offered), not by a 404: nothing to find.
FORM_REFUSED = {"create_user", "create_department"}


def _expected(route: str, role: str, side: str) -> int:
    method = ROUTES[route][0]
    success = 302 if method == "POST" else 200
    if role in {"teacher", "head", "staff", "mentor"}:
        return 403
    if role == "admin":
        return success
    if route in DEPLOYMENT_ONLY:
        return 403
    if side == "own" or route in {"users", "departments", "new_user_form"}:
        return success
    if route in {"new_department_form"}:
        return success
    if route in FORM_REFUSED or route == "users_filtered":
        return 200
    return 404


CASES = [
    pytest.param(route, role, side, id=f"{route}-{role}-{side}")
    for route in ROUTES
    for role in (*ROLES, "mentor")
    for side in SIDES
]


@pytest.mark.parametrize(("route", "role", "side"), CASES)
def test_admin_matrix(app, client, auth, two_colleges, table_rows, route, role, side):
    w = two_colleges
    if role == "mentor":
        factories.make_user(app, "mentor1", Role.MENTOR)
    method, template, body = ROUTES[route]
    path = template.format(
        user=w["teacher"][side].id,
        dept=w["department"][side].id,
        college=w["department"][side].institution_id,
    )
    data = body(w, side) if callable(body) else body
    auth.login(ACTORS.get(role, "mentor1"))
    before = table_rows()

    response = client.open(path, method=method, data=data)

    expected = _expected(route, role, side)
    assert response.status_code == expected, response.get_data(as_text=True)[:300]
    refused = expected in {403, 404} or (method == "POST" and expected == 200)
    if refused:
        assert table_rows() == before
    page = response.get_data(as_text=True)
    if role == "college_admin" and expected == 200:
        assert "north_teacher" not in page
        assert "北城" not in page


def test_college_admin_lists_only_their_college(client, auth, two_colleges) -> None:
    auth.login("cadmin1")
    users = client.get("/admin/users").get_data(as_text=True)
    assert "teacher1" in users
    assert "head2" in users
    assert "north_teacher1" not in users
    assert "cadmin2" not in users
    assert "staff1" not in users
    departments = client.get("/admin/departments").get_data(as_text=True)
    assert "人工智能技术应用系" in departments
    assert "北城人工智能系" not in departments
    form = client.get("/admin/users/new").get_data(as_text=True)
    assert "北城" not in form
    assert 'value="admin"' not in form
    assert 'value="staff"' not in form
    assert 'value="college_admin"' in form


@pytest.mark.parametrize("role", ["admin", "staff", "mentor"])
def test_college_admin_cannot_grant_deployment_roles(
    client, auth, two_colleges, table_rows, role
) -> None:
    w = two_colleges
    auth.login("cadmin1")
    before = table_rows()
    edit = _user_form(w, "own", roles=["teacher", role])
    response = client.post(f"/admin/users/{w['teacher1'].id}/edit", data=edit)
    assert response.status_code == 200
    create = {**_new_user(w, "own"), "roles": [role]}
    assert client.post("/admin/users/new", data=create).status_code == 200
    assert table_rows() == before


def test_college_admins_new_people_join_their_college(app, client, auth, two_colleges):
    w = two_colleges
    auth.login("cadmin1")
    data = {
        "username": "deputy", "display_name": "副管理员", "roles": ["college_admin"],
        "department_id": "0", "password": PASSWORD, "title": "",
        # A forged college field is not on a college admin's form: ignored.
        "institution_id": str(w["north"].id),
    }  # fmt: skip
    assert client.post("/admin/users/new", data=data).status_code == 302
    teacher = _new_user(w, "own")
    assert client.post("/admin/users/new", data=teacher).status_code == 302
    with app.app_context():
        found = {
            u.username: u.institution_id
            for u in db.session.scalars(
                select(User).where(User.username.in_(["deputy", "new_own"]))
            )
        }
    assert found == {"deputy": w["demo"].id, "new_own": w["demo"].id}


def test_college_admin_keeps_their_own_role(client, auth, two_colleges, table_rows):
    w = two_colleges
    auth.login("cadmin1")
    before = table_rows()
    data = {
        "username": "cadmin1", "display_name": "cadmin1", "roles": ["teacher"],
        "department_id": str(w["demo_ai"].id), "staff_number": "S-x",
    }  # fmt: skip
    assert (
        client.post(f"/admin/users/{w['cadmin1'].id}/edit", data=data).status_code
        == 200
    )
    assert table_rows() == before


def test_deployment_admin_places_a_college_admin(app, client, auth, two_colleges):
    w = two_colleges
    auth.login("admin")
    missing = {
        "username": "northboss", "display_name": "北城管理员", "roles": ["college_admin"],
        "department_id": "0", "password": PASSWORD, "title": "",
    }  # fmt: skip
    assert client.post("/admin/users/new", data=missing).status_code == 200
    data = {**missing, "institution_id": str(w["north"].id)}
    assert client.post("/admin/users/new", data=data).status_code == 302
    with app.app_context():
        boss = db.session.scalar(select(User).filter_by(username="northboss"))
        assert boss.institution_id == w["north"].id
        assert boss.role_set == {Role.COLLEGE_ADMIN}
    auth.logout()
    auth.login("northboss", PASSWORD)
    page = client.get("/admin/users").get_data(as_text=True)
    assert "north_teacher1" in page
    assert "<td>teacher1</td>" not in page


def test_make_college_admin_refuses_another_colleges_person(
    app, client, auth, two_colleges, table_rows
) -> None:
    w = two_colleges
    auth.login("admin")
    before = table_rows()
    for username in ("north_teacher1", "staff1", "nobody"):
        client.post(
            f"/admin/institutions/{w['demo'].id}/admins", data={"username": username}
        )
    assert table_rows() == before
    client.post(
        f"/admin/institutions/{w['demo'].id}/admins", data={"username": "head2"}
    )
    with app.app_context():
        head2 = db.session.get(User, w["head2"].id)
        assert head2.role_set == {Role.HEAD, Role.TEACHER, Role.COLLEGE_ADMIN}
    page = client.get("/admin/institutions").get_data(as_text=True)
    assert "head2" in page


def test_a_department_with_people_stays_in_its_college(
    app, client, auth, two_colleges, table_rows
) -> None:
    w = two_colleges
    auth.login("admin")
    before = table_rows()
    data = {"institution_id": str(w["north"].id), "code": "ZZ", "name": "搬走"}
    response = client.post(f"/admin/departments/{w['demo_ai'].id}/edit", data=data)
    assert response.status_code == 200
    assert table_rows() == before
    with app.app_context():
        assert (
            db.session.get(Department, w["demo_ai"].id).institution_id == w["demo"].id
        )


def test_deployment_admins_user_list_names_colleges_in_bounded_queries(
    app, client, auth, two_colleges, count_queries
) -> None:
    auth.login("admin")
    with count_queries() as two:
        page = client.get("/admin/users").get_data(as_text=True)
    assert "北城职业技术学院" in page
    factories.make_department(app, "AI", "南城人工智能系", institution="SOUTH")
    with count_queries() as three:
        client.get("/admin/users")
    assert three.count == two.count
    auth.logout()
    auth.login("cadmin1")
    assert "北城职业技术学院" not in client.get("/admin/users").get_data(as_text=True)


def test_values_taken_in_another_college_are_refused_without_saying_whose(
    client, auth, two_colleges, table_rows
) -> None:
    """The form says a value is in use and keeps it; nothing of NORTH's person."""
    w = two_colleges
    auth.login("cadmin1")
    client.post("/language", data={"locale": "en"})
    before = table_rows()
    data = {
        **_new_user(w, "own"),
        "username": "north_teacher1",
        "email": "north_teacher1@example.edu.cn",
        "staff_number": "S-north_teacher1",
    }
    response = client.post("/admin/users/new", data=data)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "This username is already taken." in page
    assert "This email address is already in use." in page
    # Each college numbers its own people: NORTH's 工号 is free in DEMO.
    assert "This staff number is already in use." not in page
    assert 'value="north_teacher1"' in page  # what was typed stays in the form
    assert 'value="S-north_teacher1"' in page
    assert "北城" not in page
    assert "NORTH" not in page
    assert table_rows() == before
