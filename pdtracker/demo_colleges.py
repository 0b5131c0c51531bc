"""The demo's other member colleges and the college administrators.

Called by :func:`pdtracker.demo.seed_demo` once, inside its transaction, after the
demo college is built: two more colleges with two departments each, a head and a
few teachers per department with five years of records (built by the demo's own
record builder, from a generator of their own, so the demo college's records do
not change), and the college admins ``cadmin1`` (the demo college) and
``cadmin2`` (北城职业技术学院).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pdtracker.auth.models import Role, User
from pdtracker.extensions import db
from pdtracker.org.models import Department, Institution, TeacherProfile


@dataclass(frozen=True)
class College:
    """A member college and its two departments (code, name, English name)."""

    code: str
    name: str
    departments: tuple[tuple[str, str, str], ...]


COLLEGES = (
    College("NORTH", "北城职业技术学院", (
        ("SE", "软件工程系", "Software Engineering"),
        ("EE", "电子信息工程系", "Electronic Information Engineering"),
    )),
    College("LAKE", "南湖职业技术学院", (
        ("NE", "新能源汽车系", "New Energy Vehicles"),
        ("LG", "智慧物流系", "Smart Logistics"),
    )),
)  # fmt: skip

T, H = Role.TEACHER, Role.HEAD
# username, name, roles, college, department, plan (a demo_cast.PLANS key), title
PEOPLE = (
    ("nhead1", "郑凯", (H, T), "NORTH", "SE", "senior", "教授"),
    ("nteacher1", "秦雪", (T,), "NORTH", "SE", "almost", "讲师"),
    ("nteacher2", "贺磊", (T,), "NORTH", "SE", "primary", "讲师"),
    ("nhead2", "蒋涛", (H, T), "NORTH", "EE", "intermediate", "副教授"),
    ("nteacher3", "邓楠", (T,), "NORTH", "EE", "behind", "助教"),
    ("lhead1", "曹阳", (H, T), "LAKE", "NE", "intermediate", "副教授"),
    ("lteacher1", "彭琳", (T,), "LAKE", "NE", "short", "讲师"),
    ("lhead2", "袁博", (H, T), "LAKE", "LG", "senior", "教授"),
    ("lteacher2", "潘悦", (T,), "LAKE", "LG", "new", "助教"),
)  # fmt: skip
# username, name, college
COLLEGE_ADMINS = (
    ("cadmin1", "示范学院管理员", "DEMO"),
    ("cadmin2", "北城学院管理员", "NORTH"),
)
LOGINS = ("cadmin1", "cadmin2")
USERNAMES = tuple(p[0] for p in PEOPLE) + tuple(a[0] for a in COLLEGE_ADMINS)


def seed_colleges(
    demo: Institution,
    password_hash: str,
    build: Callable[[User, str, User], Any],
) -> dict[str, User]:
    """Add the colleges, their people and records, and the college admins.

    ``build(teacher, plan, head)`` adds a teacher's records (the demo's builder).
    Returns the new users by username.
    """
    colleges = {"DEMO": demo}
    departments: dict[tuple[str, str], Department] = {}
    for college in COLLEGES:
        institution = Institution(code=college.code, name=college.name)
        colleges[college.code] = institution
        for code, name, en in college.departments:
            departments[college.code, code] = Department(
                institution=institution, code=code, name=name, name_en=en
            )
    db.session.add_all([*colleges.values(), *departments.values()])
    db.session.flush()  # ids: a person's college follows their department's
    users: dict[str, User] = {}
    for number, (username, name, roles, college_code, dept, _plan, title) in enumerate(
        PEOPLE, start=1
    ):
        user = _user(username, name, password_hash, set(roles))
        user.department = departments[college_code, dept]
        user.institution_id = colleges[college_code].id
        user.teacher_profile = TeacherProfile(
            staff_number=f"{college_code}{2010 + number:04d}{number:03d}", title=title
        )
        users[username] = user
    for username, name, college_code in COLLEGE_ADMINS:
        user = _user(username, name, password_hash, {Role.COLLEGE_ADMIN})
        user.institution_id = colleges[college_code].id
        users[username] = user
    db.session.add_all(users.values())
    heads = {(p[3], p[4]): users[p[0]] for p in PEOPLE if Role.HEAD in p[2]}
    for username, _name, _roles, college_code, dept, plan, _title in PEOPLE:
        build(users[username], plan, heads[college_code, dept])
    return users


def _user(username: str, name: str, password_hash: str, roles: set[Role]) -> User:
    user = User(
        username=username,
        display_name=name,
        email=f"{username}@demo.edu.cn",
        password_hash=password_hash,
    )
    user.set_roles(roles)
    return user
