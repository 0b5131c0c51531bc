"""Registration with a waitlist, per session: take seats, give them up.

A teacher registers for a whole series (every session still open) or for chosen
sessions; a single event has one session. Each session has its own seats and its
own waitlist (``session_registrations``); the event-wide :class:`Registration` row
sums them up (:mod:`.places`), so the pages and jobs that read it keep working.
Reading counts and lists is :mod:`.roster`'s.

Seats are counted under the event's row lock, so two teachers registering at the
same moment cannot both take the last seat of a session.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select

from pdtracker.auth.models import User
from pdtracker.events.errors import RegistrationError
from pdtracker.events.models import (
    Event,
    EventSession,
    Registration,
    RegistrationStatus,
    SessionRegistration,
)
from pdtracker.events.places import (
    adopt_unsplit,
    places_with_sessions,
    promote_session,
    seats_by_session,
    sync_registration,
)
from pdtracker.events.sessions import SessionInfo, list_sessions, session_rows
from pdtracker.extensions import db
from pdtracker.locking import lock_or_404

S = RegistrationStatus


def _registration_of(teacher: User, event: Event) -> Registration | None:
    return db.session.scalar(
        select(Registration)
        .where(Registration.event_id == event.id, Registration.teacher_id == teacher.id)
        .execution_options(populate_existing=True)
    )


def closes_at(event: Event, session: SessionInfo) -> datetime:
    """When registration for a session closes: the event's deadline, else its start.

    A series' session also closes when it starts, whatever the deadline says.
    """
    deadline = event.registration_deadline or session.starts_at
    return min(deadline, session.starts_at) if event.is_series else deadline


def open_sessions(event: Event, now: datetime) -> list[SessionInfo]:
    """The sessions a teacher may still register for."""
    return [
        s
        for s in list_sessions(event)
        if not s.is_cancelled and now <= closes_at(event, s)
    ]


def register(
    teacher: User,
    event: Event,
    now: datetime,
    keys: Iterable[str] | None = None,
) -> Registration:
    """Take a seat (or a waitlist place) in each chosen session; None means all open.

    Raises RegistrationError: not_open, closed, no_session, session_cancelled,
    already_registered.
    """
    lock_or_404(event)
    if not event.is_published:
        raise RegistrationError("not_open")
    chosen = _chosen_sessions(event, now, keys)
    adopt_unsplit(event, now)
    registration = _registration_of(teacher, event)
    if registration is None:
        registration = Registration(
            event_id=event.id,
            teacher_id=teacher.id,
            status=S.REGISTERED.value,
            queued_at=now,
            created_at=now,
            updated_at=now,
        )
        db.session.add(registration)
        db.session.flush()
    rows = session_rows(event, [s.key for s in chosen], now)
    mine = _session_registrations(registration, rows.values())
    wanted = [k for k in rows if k not in mine or not mine[k].is_active]
    if not wanted:
        raise RegistrationError("already_registered")
    taken = seats_by_session([rows[k].id for k in wanted])
    for key in wanted:
        row = rows[key]
        full = event.capacity is not None and taken.get(row.id, 0) >= event.capacity
        _place(mine, registration, row, S.WAITLISTED if full else S.REGISTERED, now)
        if not full:
            taken[row.id] = taken.get(row.id, 0) + 1
    if registration.is_cancelled:
        registration.queued_at = now
    sync_registration(registration, now)
    return registration


def _chosen_sessions(
    event: Event, now: datetime, keys: Iterable[str] | None
) -> list[SessionInfo]:
    if keys is None:
        chosen = open_sessions(event, now)
        if not chosen:
            raise RegistrationError("closed")
        return chosen
    by_key = {s.key: s for s in list_sessions(event)}
    chosen = []
    for key in dict.fromkeys(keys):
        session = by_key.get(key)
        if session is None:
            raise RegistrationError("no_session")
        if session.is_cancelled:
            raise RegistrationError("session_cancelled")
        if now > closes_at(event, session):
            raise RegistrationError("closed")
        chosen.append(session)
    if not chosen:
        raise RegistrationError("no_session")
    return chosen


def _session_registrations(
    registration: Registration, rows: Iterable[EventSession]
) -> dict[str, SessionRegistration]:
    by_id = {r.id: r.key for r in rows}
    if not by_id:
        return {}
    found = db.session.scalars(
        select(SessionRegistration)
        .where(
            SessionRegistration.registration_id == registration.id,
            SessionRegistration.session_id.in_(list(by_id)),
        )
        .execution_options(populate_existing=True)
    )
    return {by_id[r.session_id]: r for r in found}


def _place(
    mine: dict[str, SessionRegistration],
    registration: Registration,
    row: EventSession,
    status: S,
    now: datetime,
) -> SessionRegistration:
    place = mine.get(row.key)
    if place is None:
        place = SessionRegistration(
            session_id=row.id, registration_id=registration.id, created_at=now
        )
        db.session.add(place)
        mine[row.key] = place
    place.status = status.value
    place.queued_at = now
    place.cancelled_at = None
    place.updated_at = now
    return place


def cancel_registration(teacher: User, event: Event, now: datetime) -> Registration:
    """Give up every session not yet started; the first waiting in each moves up."""
    lock_or_404(event)
    registration = _registration_of(teacher, event)
    if registration is None or not registration.is_active:
        raise RegistrationError("not_registered")
    adopt_unsplit(event, now)
    places = places_with_sessions(registration)
    active = [(p, s) for p, s in places if p.is_active]
    cancellable = [(p, s) for p, s in active if now < s.starts_at or event.is_cancelled]
    if not cancellable:
        raise RegistrationError("started" if active else "not_registered")
    _give_up(event, registration, cancellable, now)
    return registration


def cancel_session(
    teacher: User, event: Event, key: str, now: datetime
) -> SessionRegistration:
    """Give up one session (seat or waitlist place); the first waiting moves up."""
    lock_or_404(event)
    registration = _registration_of(teacher, event)
    if registration is None:
        raise RegistrationError("not_registered")
    adopt_unsplit(event, now)
    found = [(p, s) for p, s in places_with_sessions(registration) if s.key == key]
    if not found or not found[0][0].is_active:
        raise RegistrationError("not_registered")
    place, session = found[0]
    if now >= session.starts_at and not (event.is_cancelled or session.is_cancelled):
        raise RegistrationError("started")
    _give_up(event, registration, found, now)
    return place


def _give_up(
    event: Event,
    registration: Registration,
    places: list[tuple[SessionRegistration, EventSession]],
    now: datetime,
) -> None:
    freed = []
    for place, session in places:
        if place.status == S.REGISTERED:
            freed.append(session)
        place.status = S.CANCELLED.value
        place.cancelled_at = now
        place.updated_at = now
    sync_registration(registration, now)
    if event.is_published:
        for session in freed:
            if not session.is_cancelled:
                promote_session(event, session, now)
