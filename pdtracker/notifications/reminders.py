"""Planners of reminders about dated things: events and enterprise placements.

A teacher hears the day before an event they registered for and two days before
registration closes for one they follow; the teacher and their heads hear a week
before a placement starts and when its report is due. The planning tick runs these
every few minutes (see :mod:`planners`). Like every planner they only compute what
should be in the outbox, and can run any number of times.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterator
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import or_, select
from sqlalchemy.orm import joinedload

from pdtracker.auth.models import Role, User, UserRole
from pdtracker.events.models import (
    Event,
    EventSession,
    EventStatus,
    Registration,
    RegistrationStatus,
    SessionRegistration,
)
from pdtracker.events.sessions import SessionInfo, list_sessions, stored_sessions
from pdtracker.events.sessions import occurrences as scheduled
from pdtracker.extensions import db
from pdtracker.notifications.attachments import calendar_fields
from pdtracker.notifications.models import NotificationKind
from pdtracker.notifications.outbox import Reminder
from pdtracker.placements.models import Placement, PlacementStatus
from pdtracker.timeutil import app_zone, local_today

K = NotificationKind
MORNING = time(9)  # reminders go out at 09:00 local time on their day
DEADLINE_LEAD = timedelta(days=2)
PLACEMENT_LEAD = timedelta(days=7)
REPORT_DAYS = 14  # the final report is due this many days after the placement ends
REPORT_REMINDER_KEPT = timedelta(days=30)


def morning_of(day: date, zone: ZoneInfo) -> datetime:
    """09:00 on a local date, as a UTC instant."""
    return datetime.combine(day, MORNING, zone).astimezone(UTC)


def midnight_of(day: date, zone: ZoneInfo) -> datetime:
    """The start of a local date, as a UTC instant."""
    return datetime.combine(day, time(), zone).astimezone(UTC)


def heads_by_department(department_ids: Collection[int]) -> dict[int, list[int]]:
    """Active heads of each department (one query)."""
    rows = db.session.execute(
        select(User.department_id, User.id)
        .join(UserRole, UserRole.user_id == User.id)
        .where(
            UserRole.role == Role.HEAD.value,
            User.is_active_account.is_(True),
            User.department_id.in_(list(department_ids)),
        )
        .order_by(User.id)
    )
    heads: dict[int, list[int]] = defaultdict(list)
    for department_id, user_id in rows:
        if department_id is not None:  # always, by the IN above
            heads[department_id].append(user_id)
    return heads


# --- events ---------------------------------------------------------------------


def occurrences(event: Event, start: datetime, end: datetime) -> Iterator[datetime]:
    """Start instants (UTC) of the event's scheduled occurrences within [start, end]."""
    for occurrence in scheduled(event):
        if start <= occurrence.starts_at <= end:
            yield occurrence.starts_at


def _overridden(events: list[Event]) -> set[tuple[str, str]]:
    """(uid, recurrence key) of imported instances that replace a master's occurrence."""
    uids = [e.uid for e in events if e.rrule]
    if not uids:
        return set()
    rows = db.session.execute(
        select(Event.uid, Event.recurrence_key).where(
            Event.uid.in_(uids), Event.recurrence_key != ""
        )
    )
    return {(uid, key) for uid, key in rows}


def _event_payload(
    event: Event, start: datetime, session: SessionInfo | None = None
) -> dict[str, Any]:
    """The reminder's wording and what its .ics needs: the event, or one session."""
    end = start + (event.ends_at - event.starts_at)
    location = event.location
    if session is not None:
        end, location = session.ends_at, session.location
    payload: dict[str, Any] = {
        "title": event.title,
        "starts_at": start.isoformat(),
        "ends_at": end.isoformat(),
        "location": location or "",
        "online_url": event.online_url or "",
        # To rebuild the session as the e-mail's .ics attachment (attachments.py).
        **calendar_fields(event, start, current_app.config["FEED_DOMAIN"], session),
    }
    if event.is_all_day:
        zone = ZoneInfo(event.tzid)
        payload["all_day"] = True
        payload["first_day"] = start.astimezone(zone).date().isoformat()
        payload["last_day"] = (
            end.astimezone(zone).date() - timedelta(days=1)
        ).isoformat()
    return payload


def _published(query: Any, object_ids: Collection[int] | None) -> Any:
    query = query.where(Event.status == EventStatus.PUBLISHED.value)
    if object_ids is not None:
        query = query.where(Event.id.in_(list(object_ids)))
    return query


def _teachers_by_event(event_ids: list[int], statuses: tuple[str, ...]) -> dict:
    rows = db.session.execute(
        select(Registration.event_id, Registration.teacher_id)
        .join(User, User.id == Registration.teacher_id)
        .where(
            Registration.event_id.in_(event_ids),
            Registration.status.in_(statuses),
            User.is_active_account.is_(True),
        )
        .order_by(Registration.teacher_id)
    )
    teachers: dict[int, list[int]] = defaultdict(list)
    for event_id, teacher_id in rows:
        teachers[event_id].append(teacher_id)
    return teachers


# Per event, per teacher: the keys of the sessions where they hold a seat, or
# None for a seat in every session (a registration made before sessions existed).
SeatHolders = dict[int, dict[int, set[str] | None]]


def _seats_by_session(event_ids: list[int]) -> SeatHolders:
    """Who holds a seat in which session of these events (one query)."""
    rows = db.session.execute(
        select(Registration.event_id, Registration.teacher_id, Registration.status,
               EventSession.key, SessionRegistration.status)
        .join(User, User.id == Registration.teacher_id)
        .outerjoin(SessionRegistration,
                   SessionRegistration.registration_id == Registration.id)
        .outerjoin(EventSession, EventSession.id == SessionRegistration.session_id)
        .where(
            Registration.event_id.in_(event_ids),
            Registration.status != RegistrationStatus.CANCELLED.value,
            User.is_active_account.is_(True),
        )
        .order_by(Registration.teacher_id)
    )  # fmt: skip
    holders: SeatHolders = defaultdict(dict)
    seat = RegistrationStatus.REGISTERED.value
    for event_id, teacher_id, status, key, place in rows:
        if key is None:  # no session places: the event-wide row is the whole story
            if status == seat:
                holders[event_id][teacher_id] = None
            continue
        held = holders[event_id].setdefault(teacher_id, set())
        if held is not None and place == seat:
            held.add(key)
    return holders


def _reminded(holders: dict[int, set[str] | None], key: str) -> list[int]:
    return [t for t, keys in holders.items() if keys is None or key in keys]


def collect_event_tomorrow(
    now: datetime, until: datetime, object_ids: Collection[int] | None
) -> list[Reminder]:
    """At 09:00 the day before each session, to the teachers holding a seat in it.

    A series' sessions are reminded one by one, at their own (possibly moved) time
    and place, each under its own key; a cancelled session is not. Stale once the
    session starts.
    """
    window_end = until + timedelta(days=2)
    events = list(
        db.session.scalars(
            _published(select(Event), object_ids).where(
                Event.starts_at <= window_end,
                or_(Event.series_ends_at.is_(None), Event.series_ends_at > now),
            )
        )
    )
    ids = [e.id for e in events]
    singles = _teachers_by_event(ids, (RegistrationStatus.REGISTERED.value,))
    seats = _seats_by_session([e.id for e in events if e.is_series])
    stored = stored_sessions(e.id for e in events if e.is_series)
    overridden = _overridden(events)
    reminders = []
    for event in events:
        zone = ZoneInfo(event.tzid)
        if not event.is_series:
            for start in occurrences(event, now, window_end):
                due = morning_of(
                    start.astimezone(zone).date() - timedelta(days=1), zone
                )
                reminders += [
                    Reminder(K.EVENT_TOMORROW, teacher_id, "event", event.id, due,
                             start, _event_payload(event, start))
                    for teacher_id in singles.get(event.id, [])
                ]  # fmt: skip
            continue
        for session in list_sessions(event, stored[event.id]):
            start = session.starts_at
            if session.is_cancelled or not now <= start <= window_end:
                continue
            original = session.original_starts_at
            key = original.astimezone(zone).date() if event.is_all_day else original
            if (event.uid, key.isoformat()) in overridden:
                continue  # the imported instance (its own row) is the one that happens
            due = morning_of(start.astimezone(zone).date() - timedelta(days=1), zone)
            payload = _event_payload(event, start, session)
            reminders += [
                Reminder(K.EVENT_TOMORROW, teacher_id, "event", event.id, due, start,
                         payload, extra=session.key)
                for teacher_id in _reminded(seats.get(event.id, {}), session.key)
            ]  # fmt: skip
    return reminders


def collect_registration_deadline(
    now: datetime, until: datetime, object_ids: Collection[int] | None
) -> list[Reminder]:
    """Two days before registration closes, to the teachers who showed interest.

    Interest: a registration that holds no seat — on the waitlist, or withdrawn.
    Teachers holding a seat need no reminder.
    """
    events = list(
        db.session.scalars(
            _published(select(Event), object_ids).where(
                Event.registration_deadline.is_not(None),
                Event.registration_deadline > now,
                Event.registration_deadline <= until + DEADLINE_LEAD,
            )
        )
    )
    interested = _teachers_by_event(
        [e.id for e in events],
        (RegistrationStatus.WAITLISTED.value, RegistrationStatus.CANCELLED.value),
    )
    reminders = []
    for event in events:
        deadline = event.registration_deadline
        payload = {**_event_payload(event, event.starts_at),
                   "deadline": deadline.isoformat()}  # fmt: skip
        reminders += [
            Reminder(K.REGISTRATION_DEADLINE, teacher_id, "event", event.id,
                     deadline - DEADLINE_LEAD, deadline, payload)
            for teacher_id in interested.get(event.id, [])
        ]  # fmt: skip
    return reminders


# --- placements -----------------------------------------------------------------


def _placement_query(object_ids: Collection[int] | None) -> Any:
    query = select(Placement).options(
        joinedload(Placement.teacher), joinedload(Placement.enterprise)
    )
    if object_ids is not None:
        query = query.where(Placement.id.in_(list(object_ids)))
    return query


def _placement_payload(placement: Placement) -> dict[str, Any]:
    return {
        "teacher": placement.teacher.display_name,
        "enterprise": placement.enterprise.name,
        "starts_on": placement.starts_on.isoformat(),
        "ends_on": placement.ends_on.isoformat(),
        "mentor": placement.mentor_name or "",
    }


def _teacher_and_heads(placements: list[Placement]) -> dict[int, list[int]]:
    """Per placement: its teacher, then the heads of the teacher's department."""
    heads = heads_by_department(
        {p.teacher.department_id for p in placements if p.teacher.department_id}
    )
    people = {}
    for p in placements:
        ids = [p.teacher_id] if p.teacher.is_active else []
        if p.teacher.department_id is not None:
            ids += [h for h in heads.get(p.teacher.department_id, []) if h not in ids]
        people[p.id] = ids
    return people


def collect_placement_starting(
    now: datetime, until: datetime, object_ids: Collection[int] | None
) -> list[Reminder]:
    """Approved placements, 7 days before they start, to the teacher and the heads."""
    zone = app_zone()
    today = local_today(now)
    last = until.astimezone(zone).date() + PLACEMENT_LEAD
    placements = list(
        db.session.scalars(
            _placement_query(object_ids).where(
                Placement.status == PlacementStatus.APPROVED.value,
                Placement.starts_on > today,
                Placement.starts_on <= last,
            )
        )
    )
    people = _teacher_and_heads(placements)
    return [
        Reminder(K.PLACEMENT_STARTING, person, "placement", p.id,
                 morning_of(p.starts_on - PLACEMENT_LEAD, zone),
                 midnight_of(p.starts_on, zone), _placement_payload(p))
        for p in placements
        for person in people[p.id]
    ]  # fmt: skip


def collect_placement_report_due(
    now: datetime, until: datetime, object_ids: Collection[int] | None
) -> list[Reminder]:
    """The morning after a placement ends without a report, to the teacher and heads."""
    zone = app_zone()
    today = local_today(now)
    placements = list(
        db.session.scalars(
            _placement_query(object_ids).where(
                Placement.status.in_(
                    [PlacementStatus.APPROVED.value, PlacementStatus.IN_PROGRESS.value]
                ),
                Placement.report_stored_name.is_(None),
                Placement.ends_on >= today - REPORT_REMINDER_KEPT - timedelta(days=1),
                Placement.ends_on < until.astimezone(zone).date(),
            )
        )
    )
    people = _teacher_and_heads(placements)
    reminders = []
    for p in placements:
        due = morning_of(p.ends_on + timedelta(days=1), zone)
        payload = {**_placement_payload(p),
                   "due_on": (p.ends_on + timedelta(days=REPORT_DAYS)).isoformat()}  # fmt: skip
        reminders += [
            Reminder(K.PLACEMENT_REPORT_DUE, person, "placement", p.id, due,
                     due + REPORT_REMINDER_KEPT, payload)
            for person in people[p.id]
        ]  # fmt: skip
    return reminders
