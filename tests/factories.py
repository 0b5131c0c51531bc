"""Factories shared by the test packages: rows made with sensible defaults.

Each factory takes the app, opens its own short app context and returns a detached
row (or its id), so no context stays open while the test client makes requests:
requests would reuse it and share ``g``. The conftests bind them to their app as
fixtures (``make_user``, ``make_event``…), with the defaults their tests rely on.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from flask import Flask

from pdtracker.activities.models import Activity
from pdtracker.auth.models import Role, User
from pdtracker.events.models import Event, Registration
from pdtracker.events.registrations import register
from pdtracker.events.services import EventData, create_event, publish_event
from pdtracker.extensions import db
from pdtracker.org.models import Department, Institution, TeacherProfile
from pdtracker.placements.models import Enterprise, Placement
from pdtracker.progress.models import StoredRuleset
from pdtracker.recognition.models import (
    Recognition,
    RecognitionApplication,
    RecognitionRound,
)
from pdtracker.timeutil import SHANGHAI, utcnow

DEMO_PASSWORD = "pdtracker-demo"
# The English name the ``named`` fixture (tests/conftest.py) gives world's AI department.
AI_NAME_EN = "Department of AI Technology"
HOURLY_KINDS = frozenset(
    {"expert_lecture", "industry_conference", "seminar", "training"}
)

Row = TypeVar("Row")


def detached(obj: Row) -> Row:
    """Load the row's columns and detach it, so tests can read it without a context."""
    db.session.refresh(obj)
    db.session.expunge(obj)
    return obj


def soon(days: float = 10, hour: int = 1) -> datetime:
    """A whole hour some days from now, in UTC."""
    base = utcnow().replace(minute=0, second=0, microsecond=0, hour=hour)
    return base + timedelta(days=days)


# --- people ------------------------------------------------------------------------


COLLEGES = {"DEMO": "示范职业技术学院", "NORTH": "北城职业技术学院"}


def _institution(code: str) -> Institution:
    inst = db.session.scalar(db.select(Institution).filter_by(code=code))
    if inst is None:
        inst = Institution(code=code, name=COLLEGES.get(code, f"{code} 学院"))
        db.session.add(inst)
        db.session.flush()
    return inst


def make_institution(app: Flask, code: str = "DEMO") -> Institution:
    """A college (a tenant), made on first use of its code."""
    with app.app_context():
        inst = _institution(code)
        db.session.commit()
        return detached(inst)


def make_department(
    app: Flask,
    code: str = "AI",
    name: str = "人工智能技术应用系",
    institution: str = "DEMO",
) -> Department:
    """A department of a college (made on first use of its code; DEMO by default)."""
    with app.app_context():
        inst = _institution(institution)
        dept = Department(institution=inst, code=code, name=name)
        db.session.add(dept)
        db.session.commit()
        return detached(dept)


def make_user(
    app: Flask,
    username: str,
    *roles: Role | str,
    department: Department | None = None,
    password: str = DEMO_PASSWORD,
    professional_course: bool = True,
    **fields: Any,
) -> User:
    """A user with roles (a teacher by default); teachers get a profile."""
    wanted = {Role(r) for r in roles or (Role.TEACHER,)}
    fields.setdefault("display_name", username)
    fields.setdefault("email", f"{username}@example.edu.cn")
    with app.app_context():
        user = User(
            username=username,
            department_id=department.id if department else None,
            **fields,
        )
        user.set_password(password)
        user.set_roles(wanted)
        if Role.TEACHER in wanted:
            if user.department_id is None and user.institution_id is None:
                # A staff number belongs to a college: a teacher of no
                # department still needs one.
                user.institution_id = _institution("DEMO").id
            user.teacher_profile = TeacherProfile(
                staff_number=f"S-{username}",
                is_professional_course=professional_course,
            )
        db.session.add(user)
        db.session.commit()
        return detached(user)


# --- activities ----------------------------------------------------------------------


def make_activity(app: Flask, teacher: User, **fields: Any) -> Activity:
    """An activity row for a teacher: a completed 3-hour lecture unless told otherwise."""
    fields.setdefault("kind_code", "expert_lecture")
    fields.setdefault("title", "人工智能与职业教育讲座")
    fields.setdefault("starts_on", date(2026, 3, 10))
    fields.setdefault("ends_on", fields["starts_on"])
    if fields["kind_code"] in HOURLY_KINDS:
        fields.setdefault("hours", Decimal("3"))
    fields.setdefault("status", "completed")
    if fields["status"] == "verified":
        fields.setdefault("verified_at", utcnow())
    with app.app_context():
        activity = Activity(teacher_id=teacher.id, **fields)
        db.session.add(activity)
        db.session.commit()
        return detached(activity)


# --- events --------------------------------------------------------------------------


def make_event(
    app: Flask, *, created: datetime, publish: bool = True, **fields: Any
) -> Event:
    """An event created (and published) through the services at ``created``.

    A timed event starts ``soon()`` unless told otherwise and lasts two hours.
    """
    fields.setdefault("kind_code", "expert_lecture")
    fields.setdefault("title", "职业教育数字化转型专家讲座")
    if not fields.get("is_all_day"):
        fields.setdefault("starts_at", soon())
        fields.setdefault("ends_at", fields["starts_at"] + timedelta(hours=2))
    fields.setdefault("credited_hours", Decimal("2"))
    fields.setdefault("location", "图书馆报告厅")
    with app.app_context():
        event = create_event(EventData(**fields), None, created)
        if publish:
            publish_event(event, None, created)
        db.session.commit()
        return detached(event)


def register_teacher(
    app: Flask, teacher: User, event_id: int, now: datetime
) -> Registration:
    """Register a teacher for an event through the service (a seat or the waitlist)."""
    with app.app_context():
        registration = register(
            db.session.get_one(User, teacher.id),
            db.session.get_one(Event, event_id),
            now,
        )
        db.session.commit()
        return detached(registration)


def make_event_row(
    app: Flask,
    teacher: User,
    starts: datetime,
    ends: datetime,
    *,
    registration: str = "registered",
    queued_at: datetime = datetime(2026, 2, 1, tzinfo=UTC),
    zone: ZoneInfo = SHANGHAI,
    **fields: Any,
) -> int:
    """An event row (naive times read in ``zone``) with the teacher's registration.

    Written directly, without the services, for tests that need a state the services
    would not produce on the spot (past events, cancelled ones, series).
    """
    starts, ends = starts.replace(tzinfo=zone), ends.replace(tzinfo=zone)
    fields.setdefault("status", "published")
    fields.setdefault("series_ends_at", None if fields.get("rrule") else ends)
    if fields["status"] == "cancelled":
        fields["cancelled_at"] = queued_at
    with app.app_context():
        event = Event(
            kind_code="expert_lecture",
            title=fields.pop("title", "智能制造专家讲座"),
            starts_at=starts,
            ends_at=ends,
            uid=f"event-{starts.isoformat()}-{registration}@test",
            **fields,
        )
        db.session.add(event)
        db.session.flush()
        db.session.add(
            Registration(
                event_id=event.id,
                teacher_id=teacher.id,
                status=registration,
                queued_at=queued_at,
            )
        )
        db.session.commit()
        return event.id


# --- placements ----------------------------------------------------------------------


def make_enterprise(
    app: Flask, name: str = "华为技术有限公司", **fields: Any
) -> Enterprise:
    """A member enterprise (in Shenzhen, hosting two teachers at a time by default)."""
    fields.setdefault("city", "深圳")
    fields.setdefault("placement_capacity", 2)
    with app.app_context():
        enterprise = Enterprise(name=name, **fields)
        db.session.add(enterprise)
        db.session.commit()
        return detached(enterprise)


def make_placement(
    app: Flask, teacher: User, enterprise: Enterprise | None = None, **fields: Any
) -> Placement:
    """A placement row written directly (no service, no audit).

    Without an enterprise the first one in the database is used (created if none).
    """
    fields.setdefault("working_days", 20)
    with app.app_context():
        if enterprise is None:
            enterprise = db.session.scalar(db.select(Enterprise).limit(1))
            if enterprise is None:
                enterprise = Enterprise(name="华为技术有限公司", city="深圳")
                db.session.add(enterprise)
                db.session.flush()
        placement = Placement(
            teacher_id=teacher.id, enterprise_id=enterprise.id, **fields
        )
        db.session.add(placement)
        db.session.commit()
        return detached(placement)


def make_recognition(
    app: Flask,
    teacher: Any,
    *,
    level: str = "primary",
    valid_from: date = date(2026, 7, 1),
    years: int = 5,
    state: str = "active",
    round_name: str | None = None,
) -> Recognition:
    """A published round, an application and its recognition for the teacher."""
    now = utcnow()
    with app.app_context():
        user = db.session.get(type(teacher), teacher.id)
        rnd = RecognitionRound(
            institution_id=user.institution_id,
            name=round_name or f"2026 round {teacher.id}-{level}-{valid_from}",
            levels=[level], opens_on=valid_from - timedelta(days=60),
            closes_on=valid_from - timedelta(days=30),
            ruleset_name="cn-vocational-default", ruleset_version=1,
            state="published", opened_at=now, closed_at=now, published_at=now,
        )  # fmt: skip
        db.session.add(rnd)
        db.session.flush()
        application = RecognitionApplication(
            round_id=rnd.id, teacher_id=user.id, department_id=user.department_id,
            level_applied=level, state="decided", snapshot={"activities": []},
            snapshot_at=now, precheck_meets=True, submitted_at=now,
        )  # fmt: skip
        db.session.add(application)
        db.session.flush()
        recognition = Recognition(
            teacher_id=user.id, institution_id=user.institution_id,
            application_id=application.id, level=level, valid_from=valid_from,
            valid_until=valid_from.replace(year=valid_from.year + years),
            state=state, revoke_reason="test" if state == "revoked" else None,
        )  # fmt: skip
        db.session.add(recognition)
        db.session.commit()
        return detached(recognition)


# A college layer whose enterprise practice adds up recorded days (S7), not distinct
# calendar days (S6): placements then credit their working days.
WORKING_DAYS_LAYER = """
name = "college-working-days"
version = "1"
extends = "cn-vocational-default"
title = { zh = "按工作日计的学院细则", en = "Working-day college rules" }

[[levels]]
code = "primary"

[[levels.requirements]]
code = "enterprise_practice"
measure = "sum_days"
public_standard = false
"""


def publish_working_days_layer(
    institution_id: int | None,
    published_at: datetime = datetime(2026, 1, 1, tzinfo=UTC),
) -> None:
    """Publish and activate WORKING_DAYS_LAYER for the college (in an app context)."""
    db.session.add(
        StoredRuleset(
            name="college-working-days", version=1, format="toml",
            document=WORKING_DAYS_LAYER, institution_id=institution_id,
            status="published", is_active=True, published_at=published_at,
        )
    )  # fmt: skip
    db.session.commit()
