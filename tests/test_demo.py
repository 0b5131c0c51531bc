"""The demo data: idempotent, deterministic, with the named logins and the cast."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select

from pdtracker.activities.models import Activity
from pdtracker.auth.models import Role, User
from pdtracker.demo import seed_demo
from pdtracker.extensions import db
from pdtracker.org.models import Department, Institution, TeacherProfile

TODAY = date(2026, 3, 15)
LOGINS = {
    "teacher1": ({Role.TEACHER}, "AI"),
    "teacher2": ({Role.TEACHER}, "AI"),
    "head1": ({Role.HEAD, Role.TEACHER}, "AI"),
    "head2": ({Role.HEAD, Role.TEACHER}, "IM"),
    "staff1": ({Role.STAFF}, None),
    "admin": ({Role.ADMIN}, None),
    "cadmin1": ({Role.COLLEGE_ADMIN}, None),
    "cadmin2": ({Role.COLLEGE_ADMIN}, None),
}


def _seed(app, today: date = TODAY) -> list[str]:
    with app.app_context():
        return seed_demo(today)


def _records(app) -> list[tuple]:
    """Every activity as plain values, in a stable order."""
    with app.app_context():
        rows = db.session.execute(
            select(
                User.username, Activity.kind_code, Activity.title, Activity.starts_on,
                Activity.ends_on, Activity.hours, Activity.days, Activity.role,
                Activity.grade, Activity.status,
            ).join(User, Activity.teacher_id == User.id)
        ).all()  # fmt: skip
    return sorted(tuple(str(v) for v in row) for row in rows)


def test_seeding_twice_adds_nothing(app, table_counts) -> None:
    first = _seed(app)
    counts = table_counts()
    assert counts["activities"] > 300
    second = _seed(app)
    assert table_counts() == counts
    assert first[0] != second[0]
    assert "admin" in "\n".join(second)


def test_seeding_is_deterministic(app) -> None:
    _seed(app)
    before = _records(app)
    with app.app_context(), db.engine.begin() as conn:
        for table in reversed(db.metadata.sorted_tables):
            if table.name != "activity_kinds":
                conn.execute(table.delete())
    _seed(app)
    assert _records(app) == before


def test_dates_follow_today(app) -> None:
    _seed(app, date(2030, 6, 1))
    with app.app_context():
        first, last = db.session.execute(
            select(func.min(Activity.starts_on), func.max(Activity.starts_on))
        ).one()
        verified_last = db.session.scalar(
            select(func.max(Activity.ends_on)).where(
                Activity.status == "verified", Activity.kind_code != "certificate"
            )
        )
    assert first >= date(2024, 6, 1)  # the expired certificate, six years back
    assert last > date(2030, 6, 1)
    assert verified_last < date(2030, 6, 1)


def test_named_logins_have_roles_and_departments(app) -> None:
    _seed(app)
    with app.app_context():
        for username, (roles, department) in LOGINS.items():
            user = db.session.scalar(select(User).filter_by(username=username))
            assert user.role_set == roles, username
            assert (user.department.code if user.department else None) == department
            assert user.is_active


def test_named_logins_can_log_in(app) -> None:
    _seed(app)
    for username in LOGINS:
        client = app.test_client()
        response = client.post(
            "/login", data={"username": username, "password": "pdtracker-demo"}
        )
        assert response.status_code == 302, username
        assert client.get("/account/settings").status_code == 200, username


def test_teacher1_has_a_realistic_record(app) -> None:
    _seed(app)
    with app.app_context():
        teacher1 = db.session.scalar(select(User).filter_by(username="teacher1"))
        statuses = db.session.scalars(
            select(Activity.status).filter_by(teacher_id=teacher1.id)
        ).all()
        kinds = set(
            db.session.scalars(
                select(Activity.kind_code).filter_by(teacher_id=teacher1.id)
            )
        )
    assert len(statuses) >= 10
    assert "completed" in statuses
    assert "planned" in statuses
    assert statuses.count("verified") >= 10
    assert {
        "enterprise_placement",
        "expert_lecture",
        "training",
        "certificate",
    } <= kinds


def test_statuses_are_consistent(app) -> None:
    _seed(app)
    with app.app_context():
        activities = db.session.scalars(select(Activity)).all()
        by_status: dict[str, list[Activity]] = {}
        for a in activities:
            by_status.setdefault(a.status, []).append(a)
        assert set(by_status) == {"planned", "completed", "verified", "rejected"}
        assert all(a.starts_on > TODAY for a in by_status["planned"])
        assert all(a.ends_on <= TODAY for a in by_status["completed"])
        assert all(a.rejection_reason for a in by_status["rejected"])
        assert all(a.verified_by_id for a in by_status["verified"])
        assert len(by_status["verified"]) > 0.8 * len(activities)


def test_ai_department_is_large_and_mixed(app) -> None:
    _seed(app)
    with app.app_context():
        ai = db.session.scalar(select(Department).filter_by(code="AI"))
        assert ai.name == "人工智能技术应用系"
        profiles = db.session.scalars(
            select(TeacherProfile).join(User).where(User.department_id == ai.id)
        ).all()
        titles = {p.title for p in profiles}
    assert len(profiles) >= 10
    assert {"助教", "讲师", "副教授", "教授"} <= titles
    assert any(not p.is_professional_course for p in profiles)


def test_cli_command_prints_the_logins(app, runner) -> None:
    result = runner.invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    assert "teacher1" in result.output
    assert "pdtracker-demo" in result.output
    again = runner.invoke(args=["seed-demo"])
    assert "already" in again.output


def test_three_member_colleges_with_their_own_people(app) -> None:
    _seed(app)
    with app.app_context():
        colleges = {i.code: i for i in db.session.scalars(select(Institution))}
        assert set(colleges) == {"DEMO", "NORTH", "LAKE"}
        for code, college in colleges.items():
            assert len(college.departments) >= 2, code
        admins = {
            u.username: u.institution_id
            for u in db.session.scalars(
                select(User).where(User.username.in_(["cadmin1", "cadmin2"]))
            )
        }
        assert admins == {
            "cadmin1": colleges["DEMO"].id,
            "cadmin2": colleges["NORTH"].id,
        }
        records = dict(
            db.session.execute(
                select(User.institution_id, func.count(Activity.id))
                .join(Activity, Activity.teacher_id == User.id)
                .group_by(User.institution_id)
            ).all()
        )
    assert all(records.get(c.id, 0) > 20 for c in colleges.values())


def test_college_admins_see_their_own_college(app) -> None:
    _seed(app)
    for username, present, absent in (
        ("cadmin1", "teacher1", "nteacher1"),
        ("cadmin2", "nteacher1", "teacher1"),
    ):
        client = app.test_client()
        client.post("/login", data={"username": username, "password": "pdtracker-demo"})
        page = client.get("/admin/users?q=teacher").get_data(as_text=True)
        assert f"<td>{present}</td>" in page, username
        assert f"<td>{absent}</td>" not in page, username
