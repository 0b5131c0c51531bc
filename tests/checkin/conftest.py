"""Check-in fixtures: a cast, an event whose session is about to start, codes."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from pdtracker.activities.models import Activity
from pdtracker.auth.models import Role, User
from pdtracker.checkin import tokens
from pdtracker.events.models import Event, SessionRegistration
from pdtracker.events.sessions import list_sessions
from pdtracker.extensions import db
from pdtracker.timeutil import utcnow
from tests import factories
from tests.factories import detached

KEY = tokens.derive_key("test-secret")  # the test app's SECRET_KEY


@dataclass
class Cast:
    """The people of the check-in tests."""

    teacher1: User
    teacher2: User
    head: User
    staff: User
    admin: User


@pytest.fixture
def cast(make_department, make_user) -> Cast:
    """Two teachers and a head of one department, association staff, the admin."""
    ai = make_department("AI", "人工智能技术应用系")
    return Cast(
        teacher1=make_user("teacher1", Role.TEACHER, department=ai, locale="en"),
        teacher2=make_user("teacher2", Role.TEACHER, department=ai),
        head=make_user("head1", Role.HEAD, Role.TEACHER, department=ai),
        staff=make_user("staff1", Role.STAFF),
        admin=make_user("admin", Role.ADMIN),
    )


def at_step_start(moment: datetime) -> datetime:
    """The start of the 30-second step ``moment`` is in."""
    return moment.replace(microsecond=0) - timedelta(
        seconds=int(moment.timestamp()) % tokens.STEP_SECONDS
    )


def new_event(
    app: Flask, starts_in: timedelta = timedelta(minutes=10), **fields: Any
) -> Event:
    """A published event made a day ago, starting in ``starts_in`` (10 minutes)."""
    now = utcnow()
    fields.setdefault("starts_at", (now + starts_in).replace(microsecond=0))
    fields.setdefault("capacity", 30)
    walk_ins = fields.pop("allow_walk_ins", False)
    event = factories.make_event(app, created=now - timedelta(days=1), **fields)
    if walk_ins:
        with app.app_context():
            row = db.session.get_one(Event, event.id)
            row.allow_walk_ins = True
            db.session.commit()
            event = detached(row)
    return event


@pytest.fixture
def make_event(app: Flask) -> Callable[..., Event]:
    """Make events with :func:`new_event`."""
    return partial(new_event, app)


def session_keys(app: Flask, event: Event) -> list[str]:
    """The event's session keys, in order."""
    with app.app_context():
        return [s.key for s in list_sessions(db.session.get_one(Event, event.id))]


def register(
    app: Flask, teacher: User, event: Event, keys: list[str] | None = None
) -> None:
    """Register the teacher for the event's sessions (all open ones by default)."""
    from pdtracker.events.registrations import register as register_service

    with app.app_context():
        register_service(
            db.session.get_one(User, teacher.id),
            db.session.get_one(Event, event.id),
            utcnow() - timedelta(hours=20),
            keys,
        )
        db.session.commit()


def code_for(event: Event, key: str, now: datetime | None = None) -> str:
    """A genuine check-in code for the session, drawn at ``now``."""
    return tokens.issue(KEY, event.id, key, now or utcnow())


def credits(app: Flask, teacher: User) -> list[Activity]:
    """The teacher's activities (each credited attendance is one)."""
    with app.app_context():
        return list(
            db.session.scalars(
                select(Activity).where(Activity.teacher_id == teacher.id)
            )
        )


def places(app: Flask, event: Event) -> list[tuple[str, str | None]]:
    """(status, source) of every session place of the event."""
    from pdtracker.events.models import EventSession

    with app.app_context():
        return [
            (p.status, p.source)
            for p in db.session.scalars(
                select(SessionRegistration)
                .join(EventSession, EventSession.id == SessionRegistration.session_id)
                .where(EventSession.event_id == event.id)
                .order_by(SessionRegistration.id)
            )
        ]
