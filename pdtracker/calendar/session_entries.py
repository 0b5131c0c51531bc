"""A series in a feed: its master, the sessions left out, and one override per change.

Rule ids are those of docs/calendar-feeds.md. A series is one VEVENT with its RRULE
(the master). A session that was moved or cancelled, or whose status for this
teacher differs from the master's (a waitlisted session of a registered teacher:
TENTATIVE), is written as an override: the same UID, RECURRENCE-ID the session's
original start, its own times, status and SEQUENCE (F19). In a teacher's feed the
sessions the teacher does not hold are EXDATEs (F20), so the feed lists only the
sessions they registered for.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select

from pdtracker.auth.models import User
from pdtracker.calendar.ics import CalendarEntry
from pdtracker.events.models import (
    Event,
    EventSession,
    Registration,
    RegistrationStatus,
    SessionRegistration,
)
from pdtracker.events.occurrences import Occurrence, expand
from pdtracker.extensions import db

S = RegistrationStatus
HELD = (S.REGISTERED.value, S.WAITLISTED.value, S.ATTENDED.value)


def overrides_of(event_ids: Iterable[int]) -> dict[int, list[EventSession]]:
    """The moved or cancelled sessions of these events, in one query."""
    ids = list(event_ids)
    found: dict[int, list[EventSession]] = {}
    if not ids:
        return found
    rows = db.session.scalars(
        select(EventSession).where(
            EventSession.event_id.in_(ids),
            EventSession.is_moved.is_(True) | EventSession.is_cancelled.is_(True),
        )
    )
    for row in rows:
        found.setdefault(row.event_id, []).append(row)
    return found


def places_of(teacher_id: int, event_ids: Iterable[int]) -> dict[int, dict[str, str]]:
    """The teacher's session statuses by event and session key, in one query.

    An event missing from the answer has a registration without session places
    (made before sessions existed): it holds the whole series.
    """
    ids = list(event_ids)
    found: dict[int, dict[str, str]] = {}
    if not ids:
        return found
    rows = db.session.execute(
        select(Registration.event_id, EventSession.key, SessionRegistration.status)
        .join(
            SessionRegistration, SessionRegistration.registration_id == Registration.id
        )
        .join(EventSession, EventSession.id == SessionRegistration.session_id)
        .where(Registration.teacher_id == teacher_id, Registration.event_id.in_(ids))
    )
    for event_id, key, status in rows:
        found.setdefault(event_id, {})[key] = status
    return found


def department_places_of(
    department_id: int, event_ids: Iterable[int]
) -> dict[int, dict[str, str]]:
    """The sessions the department's active teachers hold, by event and key.

    A session's status is the best any of them has (a seat over a waitlist place).
    An event missing from the answer has a registration without session places
    (made before sessions existed): it holds the whole series, as in
    :func:`places_of`. One query.
    """
    ids = list(event_ids)
    if not ids:
        return {}
    rows = db.session.execute(
        select(Registration.event_id, EventSession.key, SessionRegistration.status)
        .join(User, User.id == Registration.teacher_id)
        .outerjoin(
            SessionRegistration, SessionRegistration.registration_id == Registration.id
        )
        .outerjoin(EventSession, EventSession.id == SessionRegistration.session_id)
        .where(
            User.department_id == department_id,
            User.is_active_account.is_(True),
            Registration.event_id.in_(ids),
            Registration.status.in_(HELD),
        )
    )
    found: dict[int, dict[str, str]] = {}
    whole: set[int] = set()
    for event_id, key, status in rows:
        if key is None:
            whole.add(event_id)
            continue
        held = found.setdefault(event_id, {})
        if status in HELD and held.get(key) in (None, S.WAITLISTED):
            held[key] = status
    return {e: keys for e, keys in found.items() if e not in whole}


def _occurrences(event: Event) -> tuple[Occurrence, ...]:
    return expand(
        starts_at=event.starts_at,
        ends_at=event.ends_at,
        tzid=event.tzid,
        all_day=event.is_all_day,
        rrule=event.rrule,
        exdates=tuple(event.exdates or ()),
    )


def _original(event: Event, occ: Occurrence) -> date | datetime:
    """The occurrence's start in DTSTART's value type (a date when all-day)."""
    if event.is_all_day:
        return occ.starts_at.astimezone(ZoneInfo(event.tzid)).date()
    return occ.starts_at


def _span(event: Event, row: EventSession) -> tuple[date | datetime, date | datetime]:
    if not event.is_all_day:
        return row.starts_at, row.ends_at
    zone = ZoneInfo(event.tzid)
    return row.starts_at.astimezone(zone).date(), row.ends_at.astimezone(zone).date()


def series_entries(
    event: Event,
    master: CalendarEntry,
    overrides: list[EventSession],
    places: Mapping[str, str] | None,
    *,
    title: str,
    cancelled_title: str,
    waiting_title: str,
) -> list[CalendarEntry]:
    """The master (with EXDATEs for sessions not held) and its overrides.

    ``places`` maps session keys to the teacher's status (None: every session, as
    for the public and department feeds). ``cancelled_title``/``waiting_title`` are
    the translated summaries of a cancelled and of a waitlisted session, ``title``
    that of a session held with a seat.
    """
    occs = {o.key: o for o in _occurrences(event)}
    excluded: list[date | datetime] = []
    if places is not None:
        excluded = [
            _original(event, o)
            for key, o in occs.items()
            if places.get(key) not in HELD
        ]
    held = [k for k in occs if places is None or places.get(k) in HELD]
    if not held:
        return []
    entries = [
        replace(master, exdates=tuple(sorted({*master.exdates, *excluded}, key=str)))
    ]
    changed = {r.key: r for r in overrides if r.key in occs}
    for key in held:
        row = changed.get(key)
        waiting = places is not None and places.get(key) == S.WAITLISTED
        own_status = "TENTATIVE" if waiting else "CONFIRMED"
        if master.status == "CANCELLED":
            break
        if row is None and own_status == master.status:
            continue
        entries.append(
            _override(
                event, master, occs[key], row, own_status, title=title,
                cancelled_title=cancelled_title, waiting_title=waiting_title,
            )
        )  # fmt: skip
    return entries


def _override(
    event: Event,
    master: CalendarEntry,
    occ: Occurrence,
    row: EventSession | None,
    own_status: str,
    *,
    title: str,
    cancelled_title: str,
    waiting_title: str,
) -> CalendarEntry:
    cancelled = row is not None and row.is_cancelled
    status = "CANCELLED" if cancelled else own_status
    summary = title
    if cancelled:
        summary = cancelled_title
    elif own_status == "TENTATIVE":
        summary = waiting_title
    start: date | datetime
    end: date | datetime
    if row is not None:
        start, end = _span(event, row)
    elif event.is_all_day:
        start = _original(event, occ)
        end = occ.ends_at.astimezone(ZoneInfo(event.tzid)).date()
    else:
        start, end = occ.starts_at, occ.ends_at
    updated = master.updated_at
    if row is not None:
        updated = max(updated, row.updated_at)
    return replace(
        master,
        summary=summary,
        start=start,
        end=end,
        status=status,
        location=(row.location if row is not None and row.location else None)
        or master.location,
        sequence=master.sequence + (row.sequence if row is not None else 0),
        updated_at=updated,
        rrule=None,
        exdates=(),
        recurrence_id=_original(event, occ),
    )
