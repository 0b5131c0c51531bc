"""Placement workflows: plan, edit, move through the lifecycle, warn of conflicts."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import IO, Any
from zoneinfo import ZoneInfo

from dateutil.rrule import rrulestr
from flask import current_app
from sqlalchemy import select

from pdtracker.activities.evidence import (
    StoredUpload,
    UploadRejected,
    remove_stored,
    save_upload,
    stored_path,
)
from pdtracker.activities.models import Activity, ActivitySource, ActivityStatus
from pdtracker.audit import record
from pdtracker.auth.models import User
from pdtracker.dates import month_end, next_month
from pdtracker.events.models import Event, EventStatus, Registration, RegistrationStatus
from pdtracker.extensions import db
from pdtracker.failures import CodedError
from pdtracker.locking import lock_or_404
from pdtracker.notifications import outcomes
from pdtracker.placements.market_models import MentorAssessment
from pdtracker.placements.models import (
    Enterprise,
    Placement,
    PlacementStatus,
    weekdays_between,
)
from pdtracker.timeutil import app_zone, to_local

logger = logging.getLogger(__name__)

# Enough for a daily seminar over ten years; beyond that the series is not scanned.
MAX_OCCURRENCES_SCANNED = 4000
# Fields whose change moves the placement in calendars (iCalendar SEQUENCE).
MATERIAL_FIELDS = frozenset({"teacher_id", "enterprise_id", "starts_on", "ends_on"})
# What a head plans or edits on a placement, in the form's order.
PLACEMENT_FIELDS = (
    "teacher_id",
    "enterprise_id",
    "starts_on",
    "ends_on",
    "working_days",
    "mentor_name",
    "mentor_contact",
    "tasks",
    "notes",
)
EDITABLE_FIELDS = frozenset(PLACEMENT_FIELDS)
ENTERPRISE_FIELDS = (
    "name",
    "sector",
    "city",
    "contact_name",
    "contact_phone",
    "placement_capacity",
)


class PlacementError(CodedError):
    """A refused operation; ``code`` says why (the view turns it into a message)."""


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


# --- reading ---------------------------------------------------------------------


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
        occurrence = _occurrence_within(event, span_start, span_end)
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


def _occurrence_within(
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


# --- writing ---------------------------------------------------------------------


def _jsonable(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date) else value


def plan_placement(
    *,
    actor: User,
    teacher_id: int,
    enterprise_id: int,
    starts_on: date,
    ends_on: date,
    now: datetime,
    working_days: int | None = None,
    **fields: Any,
) -> Placement:
    """Propose a placement for a teacher; working days default to the weekdays."""
    unknown = set(fields) - EDITABLE_FIELDS
    if unknown:
        raise TypeError(f"unexpected fields: {sorted(unknown)}")
    placement = Placement(
        teacher_id=teacher_id,
        enterprise_id=enterprise_id,
        planned_by_id=actor.id,
        starts_on=starts_on,
        ends_on=ends_on,
        working_days=(
            weekdays_between(starts_on, ends_on)
            if working_days is None
            else working_days
        ),
        status=PlacementStatus.PROPOSED.value,
        created_at=now,
        updated_at=now,
        **fields,
    )
    db.session.add(placement)
    db.session.flush()
    record(
        actor.id,
        "placement.create",
        "placement",
        placement.id,
        now=now,
        teacher_id=teacher_id,
        enterprise_id=enterprise_id,
        starts_on=starts_on.isoformat(),
        ends_on=ends_on.isoformat(),
    )
    return placement


def update_placement(
    placement: Placement, *, actor: User, now: datetime, **fields: Any
) -> dict[str, tuple[Any, Any]]:
    """Change an open placement's plan; return what changed (old, new)."""
    lock_or_404(placement)
    if not placement.is_open:
        raise PlacementError("closed", status=placement.status)
    unknown = set(fields) - EDITABLE_FIELDS
    if unknown:
        raise TypeError(f"unexpected fields: {sorted(unknown)}")
    if fields.get("working_days", 0) is None:
        fields["working_days"] = weekdays_between(
            fields.get("starts_on", placement.starts_on),
            fields.get("ends_on", placement.ends_on),
        )
    changes = {
        name: (getattr(placement, name), value)
        for name, value in fields.items()
        if getattr(placement, name) != value
    }
    if not changes:
        return changes
    for name, (_, value) in changes.items():
        setattr(placement, name, value)
    if MATERIAL_FIELDS & changes.keys():
        placement.sequence += 1
    placement.updated_at = now
    db.session.flush()
    record(
        actor.id,
        "placement.update",
        "placement",
        placement.id,
        now=now,
        changes={
            # Private notes stay out of the audit details; only the fact is kept.
            k: ["…", "…"] if k == "notes" else [_jsonable(o), _jsonable(n)]
            for k, (o, n) in changes.items()
        },
    )
    return changes


def _check_move(placement: Placement, status: PlacementStatus) -> None:
    """Refuse an illegal move; say so plainly when it has just been made already."""
    if placement.status == status.value:
        raise PlacementError(f"already_{status.value}", status=placement.status)
    if not placement.can_become(status):
        raise PlacementError(
            "illegal_transition", status=placement.status, target=status.value
        )


def _move(
    placement: Placement,
    status: PlacementStatus,
    *,
    actor: User,
    now: datetime,
    **details: Any,
) -> None:
    """Apply a legal status change, bump the sequence and audit it.

    Callers take the row lock first (``_lock``); the check below then sees the
    placement as committed, not as the page that sent the request showed it.
    """
    _check_move(placement, status)
    old = placement.status
    placement.status = status.value
    placement.sequence += 1
    placement.updated_at = now
    db.session.flush()
    record(
        actor.id,
        f"placement.{status.value}",
        "placement",
        placement.id,
        now=now,
        previous=old,
        **details,
    )


def approve_placement(placement: Placement, *, actor: User, now: datetime) -> None:
    """Approve a proposed placement."""
    lock_or_404(placement)
    _move(placement, PlacementStatus.APPROVED, actor=actor, now=now)
    outcomes.placement_moved(placement, actor=actor, now=now)


def start_placement(placement: Placement, *, actor: User, now: datetime) -> None:
    """Mark an approved placement as under way."""
    lock_or_404(placement)
    _move(placement, PlacementStatus.IN_PROGRESS, actor=actor, now=now)
    outcomes.placement_moved(placement, actor=actor, now=now)


def cancel_placement(
    placement: Placement, *, actor: User, reason: str, now: datetime
) -> None:
    """Cancel an open placement, with a reason."""
    reason = (reason or "").strip()
    if not reason:
        raise PlacementError("reason_required")
    lock_or_404(placement)
    _check_move(placement, PlacementStatus.CANCELLED)
    placement.cancel_reason = reason[:500]
    _move(placement, PlacementStatus.CANCELLED, actor=actor, now=now)
    outcomes.placement_moved(placement, actor=actor, now=now)


def complete_placement(
    placement: Placement,
    *,
    actor: User,
    now: datetime,
    report: IO[bytes] | None = None,
    report_name: str | None = None,
) -> Activity:
    """Complete a placement with its final report and credit the teacher once.

    The report is written only after this request holds the placement's lock and has
    seen it still in progress, so a request that loses the race leaves no file; if
    anything fails after the write, the file is removed again.
    """
    lock_or_404(placement)
    _check_move(placement, PlacementStatus.COMPLETED)
    confirmed = _mentor_confirmed_days(placement)
    if report is None and not placement.report_stored_name:
        raise PlacementError("report_required")
    written = None
    if report is not None:
        written = save_report(report, report_name)
    try:
        if written is not None:
            placement.report_stored_name = written.stored_name
            placement.report_original_name = written.original_name
            placement.report_content_type = written.content_type
        activity = placement.activity or _credit(
            placement, actor=actor, now=now, days=confirmed
        )
        _move(
            placement,
            PlacementStatus.COMPLETED,
            actor=actor,
            now=now,
            activity_id=activity.id,
            report=placement.report_stored_name,
        )
    except BaseException:
        if written is not None:
            remove_stored(current_app.config["UPLOAD_FOLDER"], [written.stored_name])
        raise
    outcomes.placement_moved(placement, actor=actor, now=now)
    return activity


def _mentor_confirmed_days(placement: Placement) -> int | None:
    """The days the mentor confirmed; None without a mentor.

    A placement hosted by an enterprise mentor completes only with the mentor's
    assessment (企业实践考核表): refused with ``assessment_required`` before it.
    """
    if placement.mentor_id is None:
        return None
    days = db.session.scalar(
        select(MentorAssessment.confirmed_days).where(
            MentorAssessment.placement_id == placement.id
        )
    )
    if days is None:
        raise PlacementError("assessment_required")
    return days


def _credit(
    placement: Placement, *, actor: User, now: datetime, days: int | None = None
) -> Activity:
    """The verified enterprise-placement activity over the placement's span.

    With ``days`` (the mentor's confirmed days) it covers that many calendar days
    from the start, so the engine's distinct days credit exactly those.
    """
    enterprise = placement.enterprise or db.session.get_one(
        Enterprise, placement.enterprise_id
    )
    activity = Activity(
        teacher_id=placement.teacher_id,
        kind_code="enterprise_placement",
        source=ActivitySource.PLACEMENT.value,
        title=f"企业实践：{enterprise.name}"[:200],
        organizer=enterprise.name[:200],
        enterprise_id=enterprise.id,
        location=enterprise.city,
        starts_on=placement.starts_on,
        ends_on=(
            placement.ends_on
            if days is None
            else placement.starts_on + timedelta(days=days - 1)
        ),
        days=placement.span_days if days is None else days,
        status=ActivityStatus.VERIFIED.value,
        verified_by_id=actor.id,
        verified_at=now,
        created_at=now,
        updated_at=now,
    )
    db.session.add(activity)
    db.session.flush()
    placement.activity = activity
    record(
        actor.id,
        "activity.create",
        "activity",
        activity.id,
        now=now,
        source="placement",
        placement_id=placement.id,
    )
    return activity


def save_enterprise(
    enterprise: Enterprise, *, actor: User, now: datetime, **fields: Any
) -> Enterprise:
    """Create (when new) or update a member enterprise."""
    unknown = set(fields) - set(ENTERPRISE_FIELDS)
    if unknown:
        raise TypeError(f"unexpected fields: {sorted(unknown)}")
    is_new = enterprise.id is None
    for name, value in fields.items():
        setattr(enterprise, name, value)
    if is_new:
        enterprise.created_at = now
        db.session.add(enterprise)
    db.session.flush()
    action = "enterprise.create" if is_new else "enterprise.update"
    record(actor.id, action, "enterprise", enterprise.id, now=now, name=enterprise.name)
    return enterprise


# --- report files ------------------------------------------------------------------


def save_report(stream: IO[bytes], filename: str | None) -> StoredUpload:
    """Check and store a final report with the activity evidence rules."""
    config = current_app.config
    try:
        return save_upload(
            stream,
            filename,
            config["UPLOAD_FOLDER"],
            int(config.get("EVIDENCE_MAX_BYTES", 10 * 1024 * 1024)),
        )
    except UploadRejected as exc:
        raise PlacementError(f"report_{exc.code}") from exc


def report_path(placement: Placement) -> Path | None:
    """The stored report of a placement, if any."""
    if not placement.report_stored_name:
        return None
    return stored_path(
        current_app.config["UPLOAD_FOLDER"], placement.report_stored_name
    )
