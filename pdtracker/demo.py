"""Demo data: a college, its departments, teachers with five years of activities.

Deterministic (a seeded ``random.Random``, every date relative to ``today``) and
idempotent (nothing is added when the demo institution exists). The AI department
is cast so that, under the default ruleset, it has teachers at every level and
every interesting edge: a few days short, days about to leave the window, a planned
placement that closes the gap, and a teacher outside the professional courses.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from pdtracker.activities.models import Activity
from pdtracker.auth.models import Role, User
from pdtracker.demo_adoption import MENTOR_LOGINS, seed_adoption
from pdtracker.demo_cast import DEPARTMENTS, ENTERPRISES, PEOPLE, PLANS
from pdtracker.demo_colleges import LOGINS as COLLEGE_LOGINS
from pdtracker.demo_colleges import USERNAMES as COLLEGE_USERNAMES
from pdtracker.demo_colleges import seed_colleges
from pdtracker.demo_events import seed_events
from pdtracker.demo_records import REJECTION_REASONS, RecordBuilder
from pdtracker.extensions import db
from pdtracker.org.models import Department, Institution, TeacherProfile
from pdtracker.placements.models import (
    Enterprise,
    Placement,
    PlacementStatus,
    weekdays_between,
)
from pdtracker.reference import ensure_activity_kinds
from pdtracker.timeutil import SHANGHAI

INSTITUTION_CODE = "DEMO"
PASSWORD = "pdtracker-demo"
SEED = 20220901

LOGINS = (
    "teacher1",
    "teacher2",
    "head1",
    "head2",
    "staff1",
    "admin",
    *COLLEGE_LOGINS,
    *MENTOR_LOGINS,
)


def seed_demo(today: date | None = None) -> list[str]:
    """Load the demo data once; return lines describing the logins and counts."""
    today = today or datetime.now(SHANGHAI).date()
    ensure_activity_kinds()
    if db.session.scalar(select(Institution).filter_by(code=INSTITUTION_CODE)):
        db.session.commit()
        return ["Demo data already loaded; nothing added.", *_login_lines()]
    names = [p.username for p in PEOPLE] + list(COLLEGE_USERNAMES)
    clash = db.session.scalars(select(User.username).where(User.username.in_(names)))
    if taken := sorted(clash):
        db.session.rollback()
        return [f"Demo not loaded: these usernames already exist: {', '.join(taken)}"]
    rng = random.Random(SEED)
    departments = _departments()
    enterprises = _enterprises()
    users = _users(departments)
    builder = RecordBuilder(rng, today, enterprises)
    heads = {
        p.department: users[p.username]
        for p in PEOPLE
        if Role.HEAD in p.roles and p.department is not None
    }
    for person in PEOPLE:
        if person.plan is None:
            continue
        teacher = users[person.username]
        head = _head_of(teacher, heads)
        builder.build(teacher, PLANS[person.plan], head)
        named = person.username == "teacher1"  # the log shows every status
        awaiting, planned = named or rng.random() < 0.3, named or rng.random() < 0.5
        builder.extras(teacher, head, awaiting=awaiting, planned=planned)
    for username, reason in zip(("zhoujie", "fenglei"), REJECTION_REASONS, strict=True):
        builder.rejected(users[username], _head_of(users[username], heads), reason)
    _current_placements(builder, users, heads)
    _other_colleges(today, departments, users, enterprises)
    db.session.add_all(builder.activities)
    db.session.add_all(builder.placements)
    event_lines = seed_events(today, users, enterprises)
    # The adoption layer's clock: the demo's day (tests pass a fixed one).
    moment = datetime.combine(today, time(9), SHANGHAI).astimezone(UTC)
    adoption_lines = seed_adoption(today, moment, INSTITUTION_CODE)
    db.session.commit()
    return [
        "Demo data loaded.",
        *_login_lines(),
        *_summary(),
        *event_lines,
        *adoption_lines,
    ]


def _other_colleges(
    today: date,
    departments: dict[str, Department],
    users: dict[str, User],
    enterprises: list[Enterprise],
) -> None:
    """The other member colleges and the college admins (pdtracker.demo_colleges).

    Their records come from a generator of their own: the demo college's stay as
    they were.
    """
    builder = RecordBuilder(random.Random(SEED + 1), today, enterprises)
    seed_colleges(
        departments["AI"].institution,
        users["admin"].password_hash,
        lambda teacher, plan, head: builder.build(teacher, PLANS[plan], head),
    )
    db.session.add_all(builder.activities)
    db.session.add_all(builder.placements)


def _departments() -> dict[str, Department]:
    institution = Institution(code=INSTITUTION_CODE, name="示范职业技术学院")
    departments = {
        code: Department(institution=institution, code=code, name=name, name_en=en)
        for code, name, en in DEPARTMENTS
    }
    db.session.add_all([institution, *departments.values()])
    return departments


def _enterprises() -> list[Enterprise]:
    existing = {
        e.name: e
        for e in db.session.scalars(
            select(Enterprise).where(Enterprise.name.in_([e[0] for e in ENTERPRISES]))
        )
    }
    result = []
    for name, sector, city, contact, phone, capacity in ENTERPRISES:
        enterprise = existing.get(name) or Enterprise(
            name=name, sector=sector, city=city, contact_name=contact,
            contact_phone=phone, placement_capacity=capacity,
        )  # fmt: skip
        result.append(enterprise)
    db.session.add_all([e for e in result if e.name not in existing])
    return result


def _users(departments: dict[str, Department]) -> dict[str, User]:
    # One hash for everyone: the password is the same and hashing is the slow part.
    template = User(username="", display_name="")
    template.set_password(PASSWORD)
    users = {}
    for number, person in enumerate(PEOPLE, start=1):
        user = User(
            username=person.username,
            display_name=person.name,
            email=f"{person.username}@demo.edu.cn",
            password_hash=template.password_hash,
            department=departments.get(person.department or ""),
        )
        user.set_roles(set(person.roles))
        if Role.TEACHER in person.roles:
            user.teacher_profile = TeacherProfile(
                staff_number=f"DEMO{2008 + number % 15}{number:03d}",
                title=person.title,
                is_professional_course=person.professional,
                prior_industry_years=person.industry_years,
            )
        users[person.username] = user
    db.session.add_all(users.values())
    return users


def _head_of(teacher: User, heads: dict[str, User]) -> User:
    """The head of the teacher's department (every demo teacher has one)."""
    assert teacher.department is not None
    return heads[teacher.department.code]


def _current_placements(
    builder: RecordBuilder, users: dict[str, User], heads: dict[str, User]
) -> None:
    """Placements under way or proposed, for the planner's timeline."""
    today = builder.today
    rows = (
        ("hexue", -12, 30, PlacementStatus.IN_PROGRESS, None),
        ("yuyang", 60, 21, PlacementStatus.PROPOSED, None),
        ("luodan", 90, 28, PlacementStatus.PROPOSED, None),
        ("fenglei", 20, 14, PlacementStatus.CANCELLED, "企业项目延期，改期另行安排。"),
    )
    for i, (username, offset, days, status, reason) in enumerate(rows):
        teacher = users[username]
        enterprise = builder.enterprises[-1 - i]
        start = today + timedelta(days=offset)
        end = start + timedelta(days=days - 1)
        builder.placements.append(
            Placement(
                teacher=teacher, enterprise=enterprise,
                planned_by=_head_of(teacher, heads), starts_on=start,
                ends_on=end, working_days=weekdays_between(start, end),
                mentor_name=enterprise.contact_name, tasks="跟岗实践，参与生产与研发。",
                status=status.value, cancel_reason=reason,
            )
        )  # fmt: skip


def _login_lines() -> list[str]:
    users = db.session.scalars(
        select(User)
        .options(joinedload(User.department), joinedload(User.institution))
        .where(User.username.in_(LOGINS))
    ).unique()
    found = {u.username: u for u in users}
    lines = [f"Logins (password {PASSWORD}):"]
    for username in LOGINS:
        if user := found.get(username):
            role_text = "+".join(sorted(r.value for r in user.role_set))
            place = user.department or user.institution
            lines.append(
                f"  {username:<9} {role_text:<13} {place.name if place else '-'}"
            )
    return lines


def _summary() -> list[str]:
    def count(model: type) -> int:
        return db.session.execute(select(func.count()).select_from(model)).scalar_one()

    return [
        f"Departments: {count(Department)}, users: {count(User)}, "
        f"teachers: {count(TeacherProfile)}, enterprises: {count(Enterprise)}, "
        f"activities: {count(Activity)}, placements: {count(Placement)}"
    ]
