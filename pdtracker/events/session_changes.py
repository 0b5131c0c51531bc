"""Move or cancel one session of a series; the rest of the series stays as it is.

The feeds write the session as an override of its occurrence (RECURRENCE-ID, its
own SEQUENCE: docs/calendar-feeds.md F3, F19), and the teachers who hold a place
in it are told once per change (:mod:`.notices`). Services flush, never commit.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from pdtracker.audit import record
from pdtracker.auth.models import User
from pdtracker.events import notices
from pdtracker.events.errors import EventError
from pdtracker.events.models import (
    Event,
    EventSession,
    EventStatus,
    Registration,
    RegistrationStatus,
    SessionRegistration,
)
from pdtracker.events.places import adopt_unsplit, promote_session
from pdtracker.events.services import actor_id, lock_uncancelled
from pdtracker.events.sessions import find_session, session_row
from pdtracker.extensions import db
from pdtracker.locking import lock_or_404


def _changeable(event: Event, key: str) -> None:
    if event.is_cancelled:
        raise EventError("cancelled")
    if not event.is_series:
        raise EventError("not_series")
    session = find_session(event, key)
    if session is None:
        raise EventError("no_session")
    if session.is_cancelled:
        raise EventError("session_cancelled")


def _holders(row: EventSession) -> list[int]:
    """Teachers with a seat or waitlist place in the session."""
    return list(
        db.session.scalars(
            select(Registration.teacher_id)
            .join(
                SessionRegistration,
                SessionRegistration.registration_id == Registration.id,
            )
            .where(
                SessionRegistration.session_id == row.id,
                SessionRegistration.status.in_(
                    (RegistrationStatus.REGISTERED, RegistrationStatus.WAITLISTED)
                ),
            )
            .order_by(Registration.teacher_id)
        )
    )


def _recorded(
    event: Event,
    row: EventSession,
    key: str,
    actor: User | None,
    now: datetime,
    action: str,
    **details: str,
) -> None:
    """Session ``key`` (``row``) changed: new versions for the feeds, flushed, audited."""
    row.updated_at = max(now, row.updated_at)
    if event.status != EventStatus.DRAFT:
        row.sequence += 1
    # The event's feeds change with it (the change listener watches events).
    event.updated_at = max(now, event.updated_at)
    db.session.flush()
    record(actor_id(actor), action, "event", event.id, now=now, session=key,
           **details)  # fmt: skip


def move_session(
    event: Event,
    key: str,
    starts_at: datetime,
    ends_at: datetime,
    location: str | None,
    actor: User | None,
    now: datetime,
) -> bool:
    """Give one session new times and/or place; False when nothing changed.

    ``location`` None keeps the series' place. Raises EventError: cancelled,
    not_series, no_session, session_cancelled, end_before_start.
    """
    lock_or_404(event)
    _changeable(event, key)
    if ends_at <= starts_at:
        raise EventError("end_before_start")
    adopt_unsplit(event, now)  # so older whole-series registrations are told too
    row = session_row(event, key, now)
    previous = (row.starts_at, row.ends_at, row.location)
    if previous == (starts_at, ends_at, location):
        return False
    row.starts_at, row.ends_at, row.location = starts_at, ends_at, location
    row.is_moved = (starts_at, ends_at, location) != (
        row.original_starts_at,
        row.original_starts_at + (event.ends_at - event.starts_at),
        None,
    )
    _recorded(event, row, key, actor, now, "event.session_move",
              starts_at=starts_at.isoformat(), ends_at=ends_at.isoformat())  # fmt: skip
    if event.is_published:
        notices.session_changed(event, row, _holders(row), now, previous=previous)
    return True


def cancel_one_session(
    event: Event, key: str, actor: User | None, now: datetime, reason: str = ""
) -> EventSession:
    """Cancel one session: it stays in feeds as STATUS:CANCELLED (F4), places stay.

    Raises EventError: cancelled, not_series, no_session, session_cancelled.
    """
    lock_or_404(event)
    _changeable(event, key)
    adopt_unsplit(event, now)
    row = session_row(event, key, now)
    row.is_cancelled = True
    row.cancelled_at = now
    _recorded(event, row, key, actor, now, "event.session_cancel")
    if event.is_published:
        notices.session_cancelled(event, row, _holders(row), now, reason)
    return row


def restore_session(
    event: Event, key: str, actor: User | None, now: datetime
) -> EventSession:
    """Take back a session's cancellation (a new SEQUENCE); its waitlist moves up."""
    lock_uncancelled(event)
    row = session_row(event, key, now)
    if not row.is_cancelled:
        raise EventError("not_cancelled")
    row.is_cancelled = False
    row.cancelled_at = None
    _recorded(event, row, key, actor, now, "event.session_restore")
    if event.is_published:
        promote_session(event, row, now)
    return row
