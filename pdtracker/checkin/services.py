"""Check-in: a scanned code resolves to a session, and one tap credits it once.

The code's signature and age are checked by :mod:`.tokens`; here the session it
names must exist, take place, and be open for check-in (from 30 minutes before it
starts until it ends), and the teacher must hold a seat in it, or the event must
take walk-ins (which registers them). Crediting is the events area's
``mark_session_attended``: it locks the teacher's place, so two scans at once
credit the session once.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select

from pdtracker.auth.models import Role, User
from pdtracker.checkin import tokens
from pdtracker.checkin.tokens import TokenError
from pdtracker.events import attendance
from pdtracker.events.errors import EventError
from pdtracker.events.models import (
    AttendanceSource,
    Event,
    EventSession,
    EventStatus,
    Registration,
    RegistrationStatus,
    SessionRegistration,
)
from pdtracker.events.sessions import SessionInfo, find_session
from pdtracker.extensions import db

# A code scanned in time stays usable for the teacher who scanned it this long
# (their browser remembers the scan), so logging in first does not make them late.
SCAN_GRACE = timedelta(minutes=10)


class CheckinError(TokenError):
    """A refused check-in (the code was genuine, but the check-in cannot be made)."""


class Outcome(enum.StrEnum):
    """What a check-in did (or, on the scan page, would do)."""

    READY = "ready"
    WALK_IN = "walk_in"
    CREDITED = "credited"
    ALREADY = "already"


@dataclass(frozen=True)
class Door:
    """The session a genuine, current code opens."""

    event: Event
    session: SessionInfo


def open_door(
    key: bytes, token: str, now: datetime, *, scanned_at: datetime | None = None
) -> Door:
    """The event and session of a code, if it may be used for check-in at ``now``.

    ``scanned_at`` is when this browser first opened the code (within SCAN_GRACE of
    ``now``); the code's age is judged at that moment. Raises TokenError or
    CheckinError with the reason's code; changes nothing.
    """
    seen = scanned_at if scanned_at and now - scanned_at <= SCAN_GRACE else now
    claim = tokens.verify(key, token, seen)
    event = db.session.get(Event, claim.event_id)
    if event is None or event.status == EventStatus.DRAFT:
        raise CheckinError("unknown_session")
    if event.is_cancelled:
        raise CheckinError("cancelled")
    session = find_session(event, claim.session_key)
    if session is None:
        raise CheckinError("unknown_session")
    if session.is_cancelled:
        raise CheckinError("session_cancelled")
    tokens.check_window(session.starts_at, session.ends_at, now)
    return Door(event, session)


def preview(teacher: User, door: Door) -> Outcome:
    """What a check-in would do for this teacher now (READY, WALK_IN or ALREADY).

    Reads only; raises CheckinError when the teacher may not check in.
    """
    if not teacher.has_role(Role.TEACHER):
        raise CheckinError("not_teacher")
    status = _status_in_session(teacher, door)
    if status == RegistrationStatus.ATTENDED:
        return Outcome.ALREADY
    if status == RegistrationStatus.REGISTERED:
        return Outcome.READY
    if door.event.allow_walk_ins:
        return Outcome.WALK_IN
    if status == RegistrationStatus.WAITLISTED:
        raise CheckinError("waitlisted")
    if _registered_elsewhere(teacher, door):
        raise CheckinError("other_session", when=door.session.starts_at)
    raise CheckinError("not_registered")


def check_in(teacher: User, door: Door, now: datetime) -> Outcome:
    """Mark the teacher's attendance of the session and credit it, once.

    Returns CREDITED, or ALREADY when the session was credited before (a second
    scan, or two at once); raises CheckinError when the teacher may not check in.
    The caller commits.
    """
    outcome = preview(teacher, door)
    if outcome == Outcome.ALREADY:
        return outcome
    event, key = door.event, door.session.key
    try:
        if outcome == Outcome.WALK_IN:
            attendance.register_walk_in(teacher, event, key, teacher, now)
        activity = attendance.mark_session_attended(
            teacher, event, key, teacher, AttendanceSource.CHECKIN.value, now
        )
    except EventError as exc:
        code = EVENT_CODES.get(exc.code, exc.code)
        opens_at = door.session.starts_at - tokens.OPENS_BEFORE
        raise CheckinError(
            code, when=door.session.starts_at, opens_at=opens_at
        ) from exc
    return Outcome.ALREADY if activity is None else Outcome.CREDITED


# The events area's refusals, in check-in's words.
EVENT_CODES = {
    "over": "too_late",
    "no_session": "unknown_session",
    "not_started": "too_early",
    "registration_cancelled": "not_registered",
    "walk_ins_not_allowed": "not_registered",
    "not_open": "unknown_session",
}


def _status_in_session(teacher: User, door: Door) -> str | None:
    """The teacher's status in the door's session (None: no place).

    A registration made before events had sessions holds every session with its
    own status until the events area splits it (at the first attendance mark).
    """
    place = place_of(teacher, door)
    if place is not None:
        return place.status
    registration = db.session.scalar(
        select(Registration).where(
            Registration.teacher_id == teacher.id,
            Registration.event_id == door.event.id,
            ~select(SessionRegistration.id)
            .where(SessionRegistration.registration_id == Registration.id)
            .exists(),
        )
    )
    return None if registration is None else registration.status


def place_of(teacher: User, door: Door) -> SessionRegistration | None:
    """The teacher's place in the door's session, if they ever took one."""
    return db.session.scalar(
        select(SessionRegistration)
        .join(Registration, Registration.id == SessionRegistration.registration_id)
        .join(EventSession, EventSession.id == SessionRegistration.session_id)
        .where(
            Registration.teacher_id == teacher.id,
            Registration.event_id == door.event.id,
            EventSession.key == door.session.key,
        )
        .execution_options(populate_existing=True)
    )


def _registered_elsewhere(teacher: User, door: Door) -> bool:
    """Whether the teacher holds a place in another session of the same event."""
    found = db.session.scalar(
        select(SessionRegistration.id)
        .join(Registration, Registration.id == SessionRegistration.registration_id)
        .join(EventSession, EventSession.id == SessionRegistration.session_id)
        .where(
            Registration.teacher_id == teacher.id,
            Registration.event_id == door.event.id,
            EventSession.key != door.session.key,
            SessionRegistration.status.in_(
                [RegistrationStatus.REGISTERED, RegistrationStatus.ATTENDED]
            ),
        )
        .limit(1)
    )
    return found is not None
