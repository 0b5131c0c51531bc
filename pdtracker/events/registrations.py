"""Registration with a waitlist, per session: take seats, give them up, move up.

A teacher registers for a whole series (every session still open) or for chosen
sessions; a single event has one session. Each session has its own seats and its
own waitlist (``session_registrations``); the event-wide :class:`Registration` row
sums them up (registered if any seat is held, else waitlisted, else attended, else
cancelled), so the pages and jobs that read it keep working.

Seats are counted under the event's row lock, so two teachers registering at the
same moment cannot both take the last seat of a session.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import joinedload

from pdtracker.auth.models import User
from pdtracker.events import notices
from pdtracker.events.errors import RegistrationError
from pdtracker.events.models import (
    Event,
    EventSession,
    Registration,
    RegistrationStatus,
    SessionRegistration,
)
from pdtracker.events.sessions import SessionInfo, list_sessions, session_rows
from pdtracker.extensions import db
from pdtracker.locking import lock_or_404

S = RegistrationStatus
SEAT_HOLDERS = (S.REGISTERED.value, S.ATTENDED.value)


def seats_taken(event: Event) -> int:
    """How many teachers hold a seat (registered or attended), event-wide."""
    taken = db.session.scalar(
        select(func.count())
        .select_from(Registration)
        .where(Registration.event_id == event.id, Registration.status.in_(SEAT_HOLDERS))
    )
    return taken or 0


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


def adopt_unsplit(event: Event, now: datetime) -> None:
    """Give registrations made before sessions existed their session places.

    Such a registration held the whole event: it gets a place in every session
    with its own status (an attended one's credit stays on its first session).
    The caller holds the event's lock; one query when there is nothing to do.
    """
    has_places = (
        select(SessionRegistration.id)
        .where(SessionRegistration.registration_id == Registration.id)
        .exists()
    )
    unsplit = db.session.scalars(
        select(Registration).where(
            Registration.event_id == event.id,
            Registration.status != S.CANCELLED,
            ~has_places,
        )
    ).all()
    if not unsplit:
        return
    rows = session_rows(event, [s.key for s in list_sessions(event)], now)
    for registration in unsplit:
        for number, row in enumerate(rows.values()):
            attended = registration.status == S.ATTENDED
            db.session.add(
                SessionRegistration(
                    session_id=row.id,
                    registration_id=registration.id,
                    status=registration.status,
                    queued_at=registration.queued_at,
                    attended_at=(registration.attended_at or now) if attended else None,
                    marked_by_id=registration.marked_by_id if attended else None,
                    activity_id=registration.activity_id if number == 0 else None,
                    created_at=now,
                    updated_at=now,
                )
            )
    db.session.flush()


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
    taken = _seats_by_session([rows[k].id for k in wanted])
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


def _seats_by_session(session_ids: list[int]) -> dict[int, int]:
    """Seats held per stored session, in one query."""
    if not session_ids:
        return {}
    rows = db.session.execute(
        select(SessionRegistration.session_id, func.count())
        .where(
            SessionRegistration.session_id.in_(session_ids),
            SessionRegistration.status.in_(SEAT_HOLDERS),
        )
        .group_by(SessionRegistration.session_id)
    )
    return {sid: int(n) for sid, n in rows}


def sync_registration(registration: Registration, now: datetime) -> None:
    """Sum the sessions up on the event-wide row (its status, attendance, credit)."""
    db.session.flush()
    places = db.session.scalars(
        select(SessionRegistration)
        .where(SessionRegistration.registration_id == registration.id)
        .order_by(SessionRegistration.session_id)
    ).all()
    statuses = {p.status for p in places if p.status != S.CANCELLED}
    if S.REGISTERED in statuses:
        status = S.REGISTERED
    elif S.WAITLISTED in statuses:
        status = S.WAITLISTED
    elif S.ATTENDED in statuses:
        status = S.ATTENDED
    else:
        status = S.CANCELLED
    registration.status = status.value
    # Always: the teacher's feed lists the sessions held, so any change is news
    # (the change listener watches registrations, not session places).
    registration.updated_at = max(now, registration.updated_at or now)
    registration.cancelled_at = (
        (registration.cancelled_at or now) if status == S.CANCELLED else None
    )
    attended = [p for p in places if p.status == S.ATTENDED]
    if attended and registration.activity_id is None:
        registration.activity_id = attended[0].activity_id
        registration.attended_at = attended[0].attended_at
        registration.marked_by_id = attended[0].marked_by_id
    db.session.flush()


def cancel_registration(teacher: User, event: Event, now: datetime) -> Registration:
    """Give up every session not yet started; the first waiting in each moves up."""
    lock_or_404(event)
    registration = _registration_of(teacher, event)
    if registration is None or not registration.is_active:
        raise RegistrationError("not_registered")
    adopt_unsplit(event, now)
    places = _places_with_sessions(registration)
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
    found = [(p, s) for p, s in _places_with_sessions(registration) if s.key == key]
    if not found or not found[0][0].is_active:
        raise RegistrationError("not_registered")
    place, session = found[0]
    if now >= session.starts_at and not (event.is_cancelled or session.is_cancelled):
        raise RegistrationError("started")
    _give_up(event, registration, found, now)
    return place


def _places_with_sessions(
    registration: Registration,
) -> list[tuple[SessionRegistration, EventSession]]:
    rows = db.session.execute(
        select(SessionRegistration, EventSession)
        .join(EventSession, EventSession.id == SessionRegistration.session_id)
        .where(SessionRegistration.registration_id == registration.id)
        .order_by(EventSession.original_starts_at)
        .execution_options(populate_existing=True)
    ).all()
    return [(p, s) for p, s in rows]


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


def promote_waitlisted(event: Event, now: datetime) -> list[SessionRegistration]:
    """Move the oldest waiting teachers into free seats, session by session.

    The caller holds the event's lock. Each promoted teacher is told once.
    """
    adopt_unsplit(event, now)
    sessions = db.session.scalars(
        select(EventSession)
        .where(
            EventSession.event_id == event.id,
            EventSession.is_cancelled.is_(False),
            EventSession.id.in_(
                select(SessionRegistration.session_id).where(
                    SessionRegistration.status == S.WAITLISTED
                )
            ),
        )
        .order_by(EventSession.original_starts_at)
    ).all()
    promoted: list[SessionRegistration] = []
    for session in sessions:
        promoted += promote_session(event, session, now)
    return promoted


def promote_session(
    event: Event, session: EventSession, now: datetime
) -> list[SessionRegistration]:
    """Fill one session's free seats from its waitlist (caller holds the lock)."""
    if now >= session.ends_at:
        return []
    query = (
        select(SessionRegistration)
        .where(
            SessionRegistration.session_id == session.id,
            SessionRegistration.status == S.WAITLISTED,
        )
        .order_by(SessionRegistration.queued_at, SessionRegistration.id)
    )
    if event.capacity is not None:
        free = event.capacity - _seats_by_session([session.id]).get(session.id, 0)
        if free <= 0:
            return []
        query = query.limit(free)
    promoted = list(db.session.scalars(query))
    for place in promoted:
        place.status = S.REGISTERED.value
        place.updated_at = now
        registration = db.session.get_one(Registration, place.registration_id)
        sync_registration(registration, now)
        notices.waitlist_promoted(event, session, place, registration.teacher_id, now)
    db.session.flush()
    return promoted


# --- reading ----------------------------------------------------------------------


def seat_counts(event_ids: Iterable[int]) -> dict[int, tuple[int, int]]:
    """Per event: (seats taken, waitlist length) event-wide, in one query.

    For a single event these are its one session's; lists show a series' next
    session with :func:`session_counts`.
    """
    ids = list(event_ids)
    if not ids:
        return {}
    taken = func.sum(case((Registration.status.in_(SEAT_HOLDERS), 1), else_=0))
    waiting = func.sum(case((Registration.status == "waitlisted", 1), else_=0))
    rows = db.session.execute(
        select(Registration.event_id, taken, waiting)
        .where(Registration.event_id.in_(ids))
        .group_by(Registration.event_id)
    )
    counts = {event_id: (int(t or 0), int(w or 0)) for event_id, t, w in rows}
    return {i: counts.get(i, (0, 0)) for i in ids}


def session_counts(session_ids: Iterable[int]) -> dict[int, tuple[int, int]]:
    """Per stored session: (seats taken, waitlist length), in one query."""
    ids = list(session_ids)
    if not ids:
        return {}
    taken = func.sum(case((SessionRegistration.status.in_(SEAT_HOLDERS), 1), else_=0))
    waiting = func.sum(case((SessionRegistration.status == "waitlisted", 1), else_=0))
    rows = db.session.execute(
        select(SessionRegistration.session_id, taken, waiting)
        .where(SessionRegistration.session_id.in_(ids))
        .group_by(SessionRegistration.session_id)
    )
    counts = {sid: (int(t or 0), int(w or 0)) for sid, t, w in rows}
    return {i: counts.get(i, (0, 0)) for i in ids}


def registrations_of(
    teacher: User, event_ids: Iterable[int]
) -> dict[int, Registration]:
    """The teacher's registrations for the given events, by event id."""
    ids = list(event_ids)
    if not ids:
        return {}
    rows = db.session.scalars(
        select(Registration).where(
            Registration.teacher_id == teacher.id, Registration.event_id.in_(ids)
        )
    )
    return {r.event_id: r for r in rows}


def my_sessions(registration: Registration | None) -> dict[str, SessionRegistration]:
    """The teacher's places in the event's sessions, by session key."""
    if registration is None:
        return {}
    return {s.key: p for p, s in _places_with_sessions(registration)}


def list_registrations(event: Event) -> list[Registration]:
    """The event's registrations, seats first, then the waitlist, then cancelled.

    Each in the order they were taken, with the teacher's profile and department
    loaded (the staff list and its exports show them).
    """
    order = case(
        (Registration.status.in_(SEAT_HOLDERS), 0),
        (Registration.status == S.WAITLISTED, 1),
        else_=2,
    )
    return list(
        db.session.scalars(
            select(Registration)
            .where(Registration.event_id == event.id)
            .options(
                joinedload(Registration.teacher).joinedload(User.teacher_profile),
                joinedload(Registration.teacher).joinedload(User.department),
            )
            .order_by(order, Registration.queued_at, Registration.id)
        ).unique()
    )


def list_session_registrations(
    event: Event, key: str
) -> list[tuple[SessionRegistration, Registration]]:
    """One session's places (seats, waitlist, cancelled) with the teachers loaded."""
    order = case(
        (SessionRegistration.status.in_(SEAT_HOLDERS), 0),
        (SessionRegistration.status == S.WAITLISTED, 1),
        else_=2,
    )
    rows = db.session.execute(
        select(SessionRegistration, Registration)
        .join(Registration, Registration.id == SessionRegistration.registration_id)
        .join(EventSession, EventSession.id == SessionRegistration.session_id)
        .where(EventSession.event_id == event.id, EventSession.key == key)
        .options(
            joinedload(Registration.teacher).joinedload(User.teacher_profile),
            joinedload(Registration.teacher).joinedload(User.department),
        )
        .order_by(order, SessionRegistration.queued_at, SessionRegistration.id)
    ).all()
    return [(p, r) for p, r in rows]


def waitlist_position(registration: Registration) -> int | None:
    """1-based place on the waitlist, or None when not waitlisted."""
    if registration.status != S.WAITLISTED:
        return None
    ahead = db.session.scalar(
        select(func.count())
        .select_from(Registration)
        .where(
            Registration.event_id == registration.event_id,
            Registration.status == S.WAITLISTED,
            or_(
                Registration.queued_at < registration.queued_at,
                and_(
                    Registration.queued_at == registration.queued_at,
                    Registration.id < registration.id,
                ),
            ),
        )
    )
    return (ahead or 0) + 1
