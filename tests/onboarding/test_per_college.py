"""Staff numbers (工号) are unique per college: two colleges may both number a
teacher 0001, and each college's imports, exports and pages find their own.
"""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError

from pdtracker.activities.models import Activity
from pdtracker.auth.models import Role, User
from pdtracker.extensions import db
from pdtracker.onboarding.plan import Action
from pdtracker.onboarding.services import run_import
from pdtracker.org.models import TeacherProfile
from pdtracker.papers.official import college_teachers, staff_rows
from pdtracker.timeutil import utcnow

PEOPLE_A = "工号,姓名,院系\n0001,甲一,人工智能技术应用系\n".encode()
PEOPLE_B = "工号,姓名,院系\n0001,乙一,北城人工智能系\n".encode()
RECORD = "工号,项目名称,类型,开始日期,学时\n0001,北城讲座,讲座,2026-03-02,3\n".encode()


@pytest.fixture
def colleges(make_department, make_user):
    """Two colleges, a department and a college admin each."""
    a = make_department("AI", "人工智能技术应用系", institution="DEMO")
    b = make_department("NAI", "北城人工智能系", institution="NORTH")
    return {
        "a": a.institution_id,
        "b": b.institution_id,
        "dept_a": a.id,
        "dept_b": b.id,
        "cadmin_a": make_user(
            "cadmin1", Role.COLLEGE_ADMIN, institution_id=a.institution_id
        ).id,
        "cadmin_b": make_user(
            "cadmin2", Role.COLLEGE_ADMIN, institution_id=b.institution_id
        ).id,
    }


def _import(app, importer: str, data: bytes, actor_id: int | None, **kw):
    with app.app_context():
        actor = db.session.get(User, actor_id) if actor_id else None
        plan, _ = run_import(
            importer, data, filename="f.csv", actor=actor, now=utcnow(), **kw
        )
        db.session.commit()
        return {r.number: (r.action, [e.code for e in r.errors]) for r in plan.rows}


def _teachers(app) -> dict[tuple[int, str], tuple[str, str]]:
    with app.app_context():
        rows = db.session.execute(
            select(
                TeacherProfile.institution_id,
                TeacherProfile.staff_number,
                User.display_name,
                User.username,
            ).join(User, User.id == TeacherProfile.user_id)
        ).all()
    return {(i, s): (name, login) for i, s, name, login in rows}


def test_two_colleges_each_import_their_own_0001(app, colleges) -> None:
    assert _import(app, "people", PEOPLE_A, colleges["cadmin_a"]) == {
        2: (Action.CREATE, [])
    }
    assert _import(app, "people", PEOPLE_B, colleges["cadmin_b"]) == {
        2: (Action.CREATE, [])
    }
    a, b = colleges["a"], colleges["b"]
    # The first has the number as login; the second, the number after its code.
    assert _teachers(app) == {
        (a, "0001"): ("甲一", "0001"),
        (b, "0001"): ("乙一", "NORTH-0001"),
    }
    renamed = "工号,姓名,院系\n0001,乙一改,北城人工智能系\n".encode()
    assert _import(app, "people", renamed, colleges["cadmin_b"]) == {
        2: (Action.UPDATE, [])
    }
    assert _import(app, "people", PEOPLE_A, colleges["cadmin_a"]) == {
        2: (Action.UNCHANGED, [])
    }
    teachers = _teachers(app)
    assert teachers[(a, "0001")][0] == "甲一"
    assert teachers[(b, "0001")][0] == "乙一改"


def test_deployment_admin_imports_0001_into_each_college(app, colleges) -> None:
    _import(app, "people", PEOPLE_A, None, college=colleges["a"])
    assert _import(app, "people", PEOPLE_B, None, college=colleges["b"]) == {
        2: (Action.CREATE, [])
    }
    # Without a college, each row goes to its department's college.
    both = (
        "工号,姓名,院系\n0001,甲一改,人工智能技术应用系\n0001,乙一改,北城人工智能系\n"
    )
    assert _import(app, "people", both.encode(), None) == {
        2: (Action.UPDATE, []),
        3: (Action.UPDATE, []),
    }
    names = {k: v[0] for k, v in _teachers(app).items()}
    assert names == {
        (colleges["a"], "0001"): "甲一改",
        (colleges["b"], "0001"): "乙一改",
    }


def test_an_activity_import_in_college_b_credits_bs_teacher(app, colleges) -> None:
    _import(app, "people", PEOPLE_A, colleges["cadmin_a"])
    _import(app, "people", PEOPLE_B, colleges["cadmin_b"])
    assert _import(app, "records", RECORD, colleges["cadmin_b"]) == {
        2: (Action.CREATE, [])
    }
    with app.app_context():
        credited = db.session.execute(
            select(User.institution_id, User.display_name).join(
                Activity, Activity.teacher_id == User.id
            )
        ).all()
    assert [tuple(r) for r in credited] == [(colleges["b"], "乙一")]


def test_records_into_every_college_refuse_a_shared_number(app, colleges) -> None:
    _import(app, "people", PEOPLE_A, colleges["cadmin_a"])
    _import(app, "people", PEOPLE_B, colleges["cadmin_b"])
    assert _import(app, "records", RECORD, None) == {
        2: (Action.ERROR, ["staff_number_several_colleges"])
    }
    assert _import(app, "records", RECORD, None, college=colleges["a"]) == {
        2: (Action.CREATE, [])
    }


def test_college_as_exports_list_only_as_teachers(app, colleges) -> None:
    _import(app, "people", PEOPLE_A, colleges["cadmin_a"])
    _import(app, "people", PEOPLE_B, colleges["cadmin_b"])
    with app.app_context():
        rows = staff_rows(
            college_teachers(User.institution_id == colleges["a"]), date(2026, 6, 1)
        )
        every = staff_rows(college_teachers(User.id.is_not(None)), date(2026, 6, 1))
    assert [r[:2] for r in rows] == [["0001", "甲一"]]
    # Across colleges, the college stands beside each 工号.
    assert sorted(r[2] for r in every) == [
        "北城职业技术学院 北城人工智能系",
        "示范职业技术学院 人工智能技术应用系",
    ]


def test_a_duplicate_within_one_college_names_the_row(app, colleges) -> None:
    twice = (
        "工号,姓名,院系\n0001,甲一,人工智能技术应用系\n0001,甲二,人工智能技术应用系\n"
    )
    rows = _import(app, "people", twice.encode(), colleges["cadmin_a"], dry_run=True)
    assert rows == {2: (Action.CREATE, []), 3: (Action.DUPLICATE, [])}


def test_the_database_refuses_a_duplicate_within_one_college(app, colleges) -> None:
    _import(app, "people", PEOPLE_A, colleges["cadmin_a"])
    with app.app_context():
        user = User(
            username="another", display_name="另一", password_hash="!",
            department_id=colleges["dept_a"],
        )  # fmt: skip
        user.teacher_profile = TeacherProfile(staff_number="0001")
        db.session.add(user)
        with pytest.raises(IntegrityError):
            db.session.flush()
        db.session.rollback()


def test_the_database_refuses_a_profile_of_another_college(app, colleges) -> None:
    _import(app, "people", PEOPLE_A, colleges["cadmin_a"])
    with app.app_context():
        user_id = db.session.scalar(select(User.id).filter_by(username="0001"))
        with pytest.raises(IntegrityError):
            db.session.execute(
                text(
                    "UPDATE teacher_profiles SET institution_id = :b WHERE user_id = :u"
                ),
                {"b": colleges["b"], "u": user_id},
            )
        db.session.rollback()


def test_a_moved_teacher_takes_the_profile_along(app, colleges) -> None:
    _import(app, "people", PEOPLE_A, colleges["cadmin_a"])
    with app.app_context():
        user = db.session.scalar(select(User).filter_by(username="0001"))
        assert user is not None
        assert user.teacher_profile is not None
        user.department_id = colleges["dept_b"]
        db.session.flush()
        assert user.teacher_profile.institution_id == colleges["b"]
        db.session.commit()
        stored = db.session.scalar(
            select(TeacherProfile.institution_id).filter_by(user_id=user.id)
        )
    assert stored == colleges["b"]


def test_a_record_by_id_number_of_another_colleges_teacher(app, colleges) -> None:
    """An ID number names one person across the deployment: refused, never matched;
    only the deployment admin is told it is another college's teacher."""
    people = (
        "工号,姓名,院系,身份证号\n0001,甲一,人工智能技术应用系,11010519491231002X\n"
    )
    _import(app, "people", people.encode(), colleges["cadmin_a"])
    record = (
        "身份证号,项目名称,类型,开始日期\n11010519491231002X,讲座,讲座,2026-03-02\n"
    )
    assert _import(app, "records", record.encode(), colleges["cadmin_b"]) == {
        2: (Action.ERROR, ["unknown_teacher"])
    }
    assert _import(app, "records", record.encode(), None, college=colleges["b"]) == {
        2: (Action.ERROR, ["teacher_other_college"])
    }


def test_the_second_colleges_0001_learns_its_login(app, client, colleges) -> None:
    """The login is not the 工号 when another college's person has it: the import's
    result names it, and activating the account says it."""
    _import(app, "people", PEOPLE_A, colleges["cadmin_a"])
    with app.app_context():
        cadmin = db.session.get(User, colleges["cadmin_b"])
        _, applied = run_import(
            "people", PEOPLE_B, filename="f.csv", actor=cadmin, now=utcnow()
        )
        db.session.commit()
    assert applied is not None
    (account,) = applied.accounts
    assert (account.staff_number, account.username) == ("0001", "NORTH-0001")
    client.post("/language", data={"locale": "en"})
    password = "a fine new password"
    response = client.post(
        f"/activate/{account.token}",
        data={"new_password": password, "confirm": password},
        follow_redirects=True,
    )
    assert "Please log in as NORTH-0001." in response.get_data(as_text=True)
