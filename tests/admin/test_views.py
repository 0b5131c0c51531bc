"""Admin pages: access, users, roles, sessions, departments."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from pdtracker.audit import AuditEntry
from pdtracker.auth.models import Role, User
from pdtracker.extensions import db
from pdtracker.org.models import Department, Institution

PASSWORD = "pdtracker-demo"
ROLES = ("anonymous", "teacher1", "head1", "staff1", "admin")

# (method, url template); {user} is teacher2, {dept} is the AI department.
ROUTES = (
    ("GET", "/admin/users"),
    ("GET", "/admin/users/new"),
    ("POST", "/admin/users/new"),
    ("GET", "/admin/users/{user}/edit"),
    ("POST", "/admin/users/{user}/edit"),
    ("GET", "/admin/users/{user}/password"),
    ("POST", "/admin/users/{user}/password"),
    ("POST", "/admin/users/{user}/deactivate"),
    ("POST", "/admin/users/{user}/activate"),
    ("GET", "/admin/departments"),
    ("GET", "/admin/departments/new"),
    ("POST", "/admin/departments/new"),
    ("GET", "/admin/departments/{dept}/edit"),
    ("POST", "/admin/departments/{dept}/edit"),
)


def _get_user(app, username: str) -> User | None:
    with app.app_context():
        user = db.session.scalar(select(User).filter_by(username=username))
        if user is not None:
            _ = user.role_set, user.teacher_profile
            db.session.expunge_all()
        return user


def _admin_in_english(client, auth) -> None:
    """Log in as admin and switch to English, so messages can be checked by msgid."""
    auth.login("admin")
    client.post("/language", data={"locale": "en"})


def _user_data(world, **overrides) -> dict:
    data = {
        "username": "newteacher",
        "display_name": "张新",
        "email": "new@example.edu.cn",
        "password": "a-long-initial-password",
        "roles": ["teacher", "head"],
        "department_id": str(world["ai"].id),
        "staff_number": "T-9001",
        "title": "讲师",
        "is_professional_course": "y",
        "prior_industry_years": "3",
    }
    data.update(overrides)
    return data


@pytest.mark.parametrize(("method", "url"), ROUTES)
@pytest.mark.parametrize("who", ROLES)
def test_access_matrix(client, auth, world, who, method, url) -> None:
    if who != "anonymous":
        auth.login(who)
    target = url.format(user=world["teacher2"].id, dept=world["ai"].id)
    response = client.open(target, method=method, data={})
    if who == "anonymous":
        assert response.status_code == 302
        assert "/login" in response.headers["Location"]
    elif who == "admin":
        assert response.status_code in {200, 302}
    else:
        assert response.status_code == 403


def test_created_user_logs_in_with_the_given_roles(app, client, auth, world) -> None:
    auth.login("admin")
    response = client.post("/admin/users/new", data=_user_data(world))
    assert response.status_code == 302
    user = _get_user(app, "newteacher")
    assert user.role_set == {Role.TEACHER, Role.HEAD}
    assert user.department_id == world["ai"].id
    assert user.teacher_profile.staff_number == "T-9001"
    assert user.teacher_profile.title == "讲师"
    assert user.teacher_profile.prior_industry_years == 3
    assert user.teacher_profile.is_professional_course is True

    other = app.test_client()
    login = other.post(
        "/login",
        data={"username": "newteacher", "password": "a-long-initial-password"},
    )
    assert login.status_code == 302
    assert other.get("/account/settings").status_code == 200
    assert other.get("/admin/users").status_code == 403
    with app.app_context():
        entry = db.session.scalar(select(AuditEntry).filter_by(action="user.create"))
        assert entry.object_id == user.id
        assert entry.details["roles"] == ["head", "teacher"]


def test_staff_user_needs_no_profile_or_department(app, client, auth, world) -> None:
    auth.login("admin")
    data = _user_data(
        world, username="staff9", roles=["staff"], department_id="0",
        staff_number="", email="",
    )  # fmt: skip
    assert client.post("/admin/users/new", data=data).status_code == 302
    user = _get_user(app, "staff9")
    assert user.role_set == {Role.STAFF}
    assert user.teacher_profile is None
    assert user.department_id is None
    assert user.email is None


def test_teacher_needs_staff_number_and_department(client, auth, world, table_counts):
    _admin_in_english(client, auth)
    before = table_counts()
    data = _user_data(world, staff_number="", department_id="0")
    response = client.post("/admin/users/new", data=data)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Teachers need a staff number." in page
    assert "Teachers and department heads need a department." in page
    assert table_counts() == before


def test_deactivation_ends_the_users_session(app, client, auth, world) -> None:
    victim = app.test_client()
    victim.post("/login", data={"username": "teacher1", "password": PASSWORD})
    assert victim.get("/account/settings").status_code == 200

    auth.login("admin")
    response = client.post(f"/admin/users/{world['teacher1'].id}/deactivate")
    assert response.status_code == 302

    assert victim.get("/account/settings").status_code == 302
    again = app.test_client()
    again.post("/login", data={"username": "teacher1", "password": PASSWORD})
    assert again.get("/account/settings").status_code == 302
    assert _get_user(app, "teacher1").is_active_account is False
    with app.app_context():
        actions = db.session.scalars(select(AuditEntry.action)).all()
        assert "user.deactivate" in actions


def test_activation_lets_the_user_back_in(app, client, auth, world) -> None:
    auth.login("admin")
    user_id = world["teacher1"].id
    client.post(f"/admin/users/{user_id}/deactivate")
    assert client.post(f"/admin/users/{user_id}/activate").status_code == 302
    other = app.test_client()
    other.post("/login", data={"username": "teacher1", "password": PASSWORD})
    assert other.get("/account/settings").status_code == 200


def test_admin_cannot_deactivate_themselves(app, client, auth, world) -> None:
    _admin_in_english(client, auth)
    response = client.post(
        f"/admin/users/{world['admin'].id}/deactivate", follow_redirects=True
    )
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "You cannot deactivate your own account." in page
    assert _get_user(app, "admin").is_active_account is True
    assert client.get("/admin/users").status_code == 200


def test_admin_cannot_remove_their_own_admin_role(app, client, auth, world) -> None:
    _admin_in_english(client, auth)
    data = _user_data(
        world, username="admin", display_name="admin", email="admin@example.edu.cn",
        roles=["staff"], department_id="0", staff_number="",
    )  # fmt: skip
    del data["password"]
    response = client.post(f"/admin/users/{world['admin'].id}/edit", data=data)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert (
        "You cannot remove your own administrator role." in page or "管理员角色" in page
    )
    assert _get_user(app, "admin").role_set == {Role.ADMIN}


@pytest.mark.parametrize(
    ("field", "value"),
    [("username", "teacher2"), ("username", "TEACHER2"),
     ("email", "teacher2@example.edu.cn"), ("staff_number", "S-teacher2")],
)  # fmt: skip
def test_duplicates_are_form_errors(
    client,
    auth,
    world,
    table_counts,
    field,
    value,
) -> None:
    auth.login("admin")
    before = table_counts()
    response = client.post("/admin/users/new", data=_user_data(world, **{field: value}))
    assert response.status_code == 200
    assert "is-invalid" in response.get_data(as_text=True)
    assert table_counts() == before


def test_create_user_without_csrf_token_is_refused(
    app, client, auth, world, table_counts
) -> None:
    auth.login("admin")
    app.config["WTF_CSRF_ENABLED"] = True
    before = table_counts()
    response = client.post("/admin/users/new", data=_user_data(world))
    assert response.status_code == 400
    deactivate = client.post(f"/admin/users/{world['teacher1'].id}/deactivate")
    assert deactivate.status_code == 400
    assert table_counts() == before
    assert _get_user(app, "newteacher") is None


def test_edit_changes_roles_department_and_profile(app, client, auth, world) -> None:
    auth.login("admin")
    target = world["staff1"]
    page = client.get(f"/admin/users/{target.id}/edit")
    assert page.status_code == 200
    data = _user_data(
        world, username="staff1", display_name="李员", email="staff1@example.edu.cn",
        roles=["staff", "teacher"], department_id=str(world["other"].id),
        staff_number="T-7", title="副教授", is_professional_course="",
    )  # fmt: skip
    del data["password"]
    assert client.post(f"/admin/users/{target.id}/edit", data=data).status_code == 302
    user = _get_user(app, "staff1")
    assert user.role_set == {Role.STAFF, Role.TEACHER}
    assert user.department_id == world["other"].id
    assert user.display_name == "李员"
    assert user.teacher_profile.title == "副教授"
    assert user.teacher_profile.is_professional_course is False
    with app.app_context():
        entry = db.session.scalar(select(AuditEntry).filter_by(action="user.update"))
        assert entry.details["changed"]["roles"] == [["staff"], ["staff", "teacher"]]


def test_edit_form_shows_the_current_values(client, auth, world) -> None:
    auth.login("admin")
    page = client.get(f"/admin/users/{world['head1'].id}/edit").get_data(as_text=True)
    assert 'value="S-head1"' in page
    assert 'checked class="form-check-input" id="roles-1"' in page  # head
    assert 'class="form-check-input" id="roles-2"' in page  # staff, unchecked
    assert 'checked class="form-check-input" id="roles-2"' not in page


def test_password_reset_ends_sessions_and_sets_password(app, client, auth, world):
    victim = app.test_client()
    victim.post("/login", data={"username": "teacher2", "password": PASSWORD})
    auth.login("admin")
    response = client.post(
        f"/admin/users/{world['teacher2'].id}/password",
        data={"password": "another-long-password"},
    )
    assert response.status_code == 302
    assert victim.get("/account/settings").status_code == 302
    fresh = app.test_client()
    fresh.post(
        "/login", data={"username": "teacher2", "password": "another-long-password"}
    )
    assert fresh.get("/account/settings").status_code == 200


def test_user_list_filters(client, auth, world) -> None:
    auth.login("admin")

    def names(query: str) -> set[str]:
        page = client.get(f"/admin/users?{query}").get_data(as_text=True)
        return {
            n for n in ("teacher1", "teacher2", "head1", "head2", "staff1") if n in page
        }

    assert names("") == {"teacher1", "teacher2", "head1", "head2", "staff1"}
    assert names("q=head") == {"head1", "head2"}
    assert names("role=staff") == {"staff1"}
    assert names(f"department={world['other'].id}") == {"head2"}
    assert names("q=S-teacher1") == {"teacher1"}
    assert names("role=nonsense&department=x") == names("")


def test_user_list_is_paginated_with_bounded_queries(
    client,
    auth,
    world,
    make_user,
    count_queries,
) -> None:
    auth.login("admin")
    with count_queries() as few:
        assert client.get("/admin/users").status_code == 200
    for i in range(30):
        make_user(f"extra{i:02d}", Role.TEACHER, department=world["ai"])
    with count_queries() as many:
        first = client.get("/admin/users").get_data(as_text=True)
    assert many.count == few.count
    assert "extra00" in first
    assert "extra29" not in first
    second = client.get("/admin/users?page=2").get_data(as_text=True)
    assert "extra29" in second


def test_department_pages_have_bounded_queries(
    client,
    auth,
    world,
    make_department,
    count_queries,
) -> None:
    auth.login("admin")
    with count_queries() as few:
        assert client.get("/admin/departments").status_code == 200
    for i in range(5):
        make_department(f"D{i}", f"系{i}")
    with count_queries() as many:
        page = client.get("/admin/departments").get_data(as_text=True)
    assert many.count == few.count
    assert "系4" in page
    assert "head1" in page


def test_first_department_creates_its_institution(app, client, make_user) -> None:
    make_user("root", Role.ADMIN)
    client.post("/login", data={"username": "root", "password": PASSWORD})
    form = client.get("/admin/departments/new")
    assert form.status_code == 200
    missing = client.post(
        "/admin/departments/new",
        data={"institution_id": "0", "code": "AI", "name": "人工智能系"},
    )
    assert missing.status_code == 200
    response = client.post(
        "/admin/departments/new",
        data={
            "institution_id": "0",
            "new_institution_code": "SZ",
            "new_institution_name": "深圳职业技术学院",
            "code": "AI",
            "name": "人工智能系",
            "name_en": "AI",
        },
    )
    assert response.status_code == 302
    with app.app_context():
        dept = db.session.scalar(select(Department))
        assert dept.institution.code == "SZ"
        assert dept.name_en == "AI"
        actions = set(db.session.scalars(select(AuditEntry.action)))
        assert {"institution.create", "department.create"} <= actions


def test_department_code_is_unique_per_institution(
    app, client, auth, world, table_counts
) -> None:
    auth.login("admin")
    with app.app_context():
        institution_id = db.session.scalar(select(Institution.id))
    before = table_counts()
    response = client.post(
        "/admin/departments/new",
        data={"institution_id": str(institution_id), "code": "AI", "name": "重复"},
    )
    assert response.status_code == 200
    assert "is-invalid" in response.get_data(as_text=True)
    assert table_counts() == before


def test_edit_department(app, client, auth, world) -> None:
    auth.login("admin")
    dept = world["other"]
    page = client.get(f"/admin/departments/{dept.id}/edit").get_data(as_text=True)
    assert "机电工程系" in page
    with app.app_context():
        institution_id = db.session.scalar(select(Institution.id))
    response = client.post(
        f"/admin/departments/{dept.id}/edit",
        data={
            "institution_id": str(institution_id),
            "code": "ME",
            "name": "智能制造系",
            "name_en": "Intelligent Manufacturing",
        },
    )
    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(Department, dept.id).name == "智能制造系"


def test_unknown_ids_are_404_for_admins(client, auth, world) -> None:
    auth.login("admin")
    assert client.get("/admin/users/999999/edit").status_code == 404
    assert client.post("/admin/users/999999/deactivate").status_code == 404
    assert client.get("/admin/departments/999999/edit").status_code == 404
