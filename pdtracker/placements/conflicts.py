"""Conflicts of a planned placement: the teacher's other placements, the events
they are registered for during the span, and the enterprise's monthly capacity."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from dateutil.rrule import rrulestr
from sqlalchemy import select

from pdtracker.dates import month_end, next_month
from pdtracker.events.models import Event, EventStatus, Registration, RegistrationStatus
from pdtracker.extensions import db
from pdtracker.placements.models import Enterprise, Placement, PlacementStatus
from pdtracker.timeutil import app_zone, to_local

logger = logging.getLogger(__name__)

# Enough for a daily seminar over ten years; beyond that the series is not scanned.
MAX_OCCURRENCES_SCANNED = 4000


@dataclass(frozen=True)
class Conflict:
    """A reason to think twice before saving a placement.

    ``kind`` is "placement" (the teacher's overlapping placement), "registration"
    (an event the teacher is registered for in the span) or "capacity" (the
    enterprise would host more teachers than its capacity in ``month``).
    """

    kind: str
    starts_on: date | None = None
    ends_on: date | None = None
    placement_id: int | None = None
    enterprise_name: str | None = None
    event_title: str | None = None
    month: date | None = None
    teachers: int | None = None
    capacity: int | None = None


def _overlapping(starts_on: date, ends_on: date) -> Any:
    return (Placement.starts_on <= ends_on) & (Placement.ends_on >= starts_on)


def _month_starts(starts_on: date, ends_on: date) -> list[date]:
    months, month = [], starts_on.replace(day=1)
    while month <= ends_on:
        months.append(month)
        month = next_month(month)
    return months


def placement_conflicts(
    teacher_id: int,
    enterprise_id: int,
    starts_on: date,
    ends_on: date,
    exclude_id: int | None = None,
) -> list[Conflict]:
    """Warnings for a planned placement: overlaps and enterprise capacity."""
    return [
        *_placement_overlaps(teacher_id, starts_on, ends_on, exclude_id),
        *_registration_overlaps(teacher_id, starts_on, ends_on),
        *_capacity_overruns(teacher_id, enterprise_id, starts_on, ends_on, exclude_id),
    ]


def _open_placements() -> Any:
    return select(Placement).where(Placement.status != PlacementStatus.CANCELLED.value)


def _placement_overlaps(
    teacher_id: int, starts_on: date, ends_on: date, exclude_id: int | None
) -> list[Conflict]:
    query = (
        _open_placements()
        .join(Enterprise)
        .where(Placement.teacher_id == teacher_id, _overlapping(starts_on, ends_on))
        .order_by(Placement.starts_on)
    )
    if exclude_id is not None:
        query = query.where(Placement.id != exclude_id)
    return [
        Conflict(
            "placement",
            starts_on=p.starts_on,
            ends_on=p.ends_on,
            placement_id=p.id,
            enterprise_name=p.enterprise.name,
        )
        for p in db.session.scalars(query)
    ]


def span_utc(starts_on: date, ends_on: date) -> tuple[datetime, datetime]:
    """The local days from ``starts_on`` to ``ends_on`` as a half-open UTC span."""
    zone = app_zone()
    start = datetime.combine(starts_on, time(), zone).astimezone(UTC)
    end = datetime.combine(ends_on + timedelta(days=1), time(), zone)
    return start, end.astimezone(UTC)


def registered_events(teacher_id: int, starts_on: date, ends_on: date) -> list[Event]:
    """Events (or series) the teacher holds a registration for that may meet the
    days (a series reaching into them counts: its occurrences decide)."""
    span_start, span_end = span_utc(starts_on, ends_on)
    series_reaches = Event.rrule.is_not(None) & (
        Event.series_ends_at.is_(None) | (Event.series_ends_at > span_start)
    )
    return list(
        db.session.scalars(
            select(Event)
            .join(Registration, Registration.event_id == Event.id)
            .where(
                Registration.teacher_id == teacher_id,
                Registration.status != RegistrationStatus.CANCELLED.value,
                Event.status != EventStatus.CANCELLED.value,
                Event.starts_at < span_end,
                (Event.ends_at > span_start) | series_reaches,
            )
            .order_by(Event.starts_at, Event.id)
        )
    )


def _registration_overlaps(
    teacher_id: int, starts_on: date, ends_on: date
) -> list[Conflict]:
    """Events the teacher holds a (non-cancelled) registration for during the span."""
    zone = app_zone()
    span_start, span_end = span_utc(starts_on, ends_on)
    events = registered_events(teacher_id, starts_on, ends_on)
    conflicts = []
    for event in events:
        occurrence = occurrence_within(event, span_start, span_end)
        if occurrence is not None:
            start, end = occurrence
            conflicts.append(
                Conflict(
                    "registration",
                    event_title=event.title,
                    starts_on=to_local(start, zone).date(),
                    ends_on=to_local(end - timedelta(microseconds=1), zone).date(),
                )
            )
    return conflicts


def occurrence_within(
    event: Event, span_start: datetime, span_end: datetime
) -> tuple[datetime, datetime] | None:
    """The first (start, end) of the event, or of its series, that meets the span."""
    duration = event.ends_at - event.starts_at
    if not event.rrule:
        return event.starts_at, event.ends_at
    zone = ZoneInfo(event.tzid)
    if event.is_all_day and event.start_on is not None:
        first = datetime.combine(event.start_on, time())  # floating, as in the rule
    else:
        first = event.starts_at.astimezone(zone)
    excluded = set(event.exdate_values())
    try:
        rule = rrulestr(event.rrule, dtstart=first)
        for n, occurrence in enumerate(rule):
            start = (
                occurrence.replace(tzinfo=zone)
                if occurrence.tzinfo is None
                else occurrence
            ).astimezone(UTC)
            if start >= span_end or n >= MAX_OCCURRENCES_SCANNED:
                return None
            skipped = (occurrence.date() if event.is_all_day else start) in excluded
            if start + duration > span_start and not skipped:
                return start, start + duration
    except (ValueError, TypeError, OverflowError):
        # A rule the events area accepted but we cannot expand: warn on the series.
        logger.warning("could not expand the recurrence of event %s", event.id)
        return event.starts_at, event.ends_at
    return None


def _capacity_overruns(
    teacher_id: int,
    enterprise_id: int,
    starts_on: date,
    ends_on: date,
    exclude_id: int | None,
) -> list[Conflict]:
    enterprise = db.session.get(Enterprise, enterprise_id)
    if enterprise is None:
        return []
    months = _month_starts(starts_on, ends_on)
    query = _open_placements().where(
        Placement.enterprise_id == enterprise_id,
        _overlapping(months[0], month_end(months[-1])),
    )
    if exclude_id is not None:
        query = query.where(Placement.id != exclude_id)
    others = list(
        db.session.execute(
            query.with_only_columns(
                Placement.teacher_id, Placement.starts_on, Placement.ends_on
            )
        )
    )
    conflicts = []
    for month in months:
        last = month_end(month)
        hosted = {t for t, s, e in others if s <= last and e >= month} | {teacher_id}
        if len(hosted) > enterprise.placement_capacity:
            conflicts.append(
                Conflict(
                    "capacity",
                    month=month,
                    enterprise_name=enterprise.name,
                    teachers=len(hosted),
                    capacity=enterprise.placement_capacity,
                )
            )
    return conflicts
