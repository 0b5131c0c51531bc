"""Reminder planners: what should be in the outbox, computed from the current data.

Each planner returns every reminder of its kinds that is due within its horizon
and not stale yet; :func:`services.sync` reconciles the outbox with that list
(plan new ones, move changed ones, cancel ones no longer wanted). Planners never
send anything and can run any number of times.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Collection, Iterable, Iterator
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from dateutil.rrule import rrulestr
from sqlalchemy import func, or_, select
from sqlalchemy.orm import joinedload

from pdtracker.activities.models import Activity, ActivityStatus
from pdtracker.auth.models import Role, User, UserRole
from pdtracker.events.models import Event, EventStatus, Registration, RegistrationStatus
from pdtracker.extensions import db
from pdtracker.notifications.models import NotificationKind
from pdtracker.notifications.services import (
    Planner,
    Reminder,
    app_zone,
    prune,
    sync,
)
from pdtracker.placements.models import Placement, PlacementStatus

logger = logging.getLogger(__name__)

K = NotificationKind
MORNING = time(9)  # reminders go out at 09:00 local time on their day
DEADLINE_LEAD = timedelta(days=2)
PLACEMENT_LEAD = timedelta(days=7)
REPORT_DAYS = 14  # the final report is due this many days after the placement ends
REPORT_REMINDER_KEPT = timedelta(days=30)
WAITING_FOR_VERIFICATION = timedelta(days=7)
DIGEST_ITEMS = 10
DIGEST_KEPT = timedelta(days=3)  # a weekly digest not sent within 3 days is dropped
LAPSE_WARNINGS = (90, 30)  # days before a status lapses
# Requirements whose lapse is warned about: enterprise practice and certificates.
LAPSE_KINDS = frozenset({"enterprise_placement", "certificate"})


def morning_of(day: date, zone: ZoneInfo) -> datetime:
    """09:00 on a local date, as a UTC instant."""
    return datetime.combine(day, MORNING, zone).astimezone(UTC)


def midnight_of(day: date, zone: ZoneInfo) -> datetime:
    """The start of a local date, as a UTC instant."""
    return datetime.combine(day, time(), zone).astimezone(UTC)


def _heads_by_department(department_ids: Collection[int]) -> dict[int, list[int]]:
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
        heads[department_id].append(user_id)
    return heads


# --- events ---------------------------------------------------------------------


def occurrences(event: Event, start: datetime, end: datetime) -> Iterator[datetime]:
    """Start instants (UTC) of the event's occurrences within [start, end]."""
    if not event.rrule:
        if start <= event.starts_at <= end:
            yield event.starts_at
        return
    zone = ZoneInfo(event.tzid)
    excluded = set(event.exdate_values())
    if event.is_all_day and event.start_on is not None:
        # All-day rules run on floating local dates (RFC 5545 VALUE=DATE).
        first = datetime.combine(event.start_on, time())
        bounds = [b.astimezone(zone).replace(tzinfo=None) for b in (start, end)]
        for local in rrulestr(event.rrule, dtstart=first).between(*bounds, inc=True):
            if local.date() not in excluded:
                yield local.replace(tzinfo=zone).astimezone(UTC)
        return
    first = event.starts_at.astimezone(zone)
    bounds = [b.astimezone(zone) for b in (start, end)]
    for local in rrulestr(event.rrule, dtstart=first).between(*bounds, inc=True):
        instant = local.astimezone(UTC)
        if instant not in excluded:
            yield instant


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


def _event_payload(event: Event, start: datetime) -> dict[str, Any]:
    end = start + (event.ends_at - event.starts_at)
    payload: dict[str, Any] = {
        "title": event.title,
        "starts_at": start.isoformat(),
        "ends_at": end.isoformat(),
        "location": event.location or "",
        "online_url": event.online_url or "",
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


def collect_event_tomorrow(
    now: datetime, until: datetime, object_ids: Collection[int] | None
) -> list[Reminder]:
    """Registered teachers, at 09:00 the day before each occurrence; stale once it starts."""
    window_end = until + timedelta(days=2)
    events = list(
        db.session.scalars(
            _published(select(Event), object_ids).where(
                Event.starts_at <= window_end,
                or_(Event.series_ends_at.is_(None), Event.series_ends_at > now),
            )
        )
    )
    teachers = _teachers_by_event(
        [e.id for e in events], (RegistrationStatus.REGISTERED.value,)
    )
    overridden = _overridden(events)
    reminders = []
    for event in events:
        zone = ZoneInfo(event.tzid)
        for start in occurrences(event, now, window_end):
            key = start.astimezone(zone).date() if event.is_all_day else start
            if event.rrule and (event.uid, key.isoformat()) in overridden:
                continue  # the imported instance (its own row) is the one that happens
            due = morning_of(start.astimezone(zone).date() - timedelta(days=1), zone)
            payload = _event_payload(event, start)
            reminders += [
                Reminder(K.EVENT_TOMORROW, teacher_id, "event", event.id, due, start,
                         payload)
                for teacher_id in teachers.get(event.id, [])
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
    heads = _heads_by_department(
        {p.teacher.department_id for p in placements if p.teacher.department_id}
    )
    people = {}
    for p in placements:
        ids = [p.teacher_id] if p.teacher.is_active else []
        ids += [h for h in heads.get(p.teacher.department_id, []) if h not in ids]
        people[p.id] = ids
    return people


def collect_placement_starting(
    now: datetime, until: datetime, object_ids: Collection[int] | None
) -> list[Reminder]:
    """Approved placements, 7 days before they start, to the teacher and the heads."""
    zone = app_zone()
    today = now.astimezone(zone).date()
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
    today = now.astimezone(zone).date()
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


# --- weekly digests for heads -----------------------------------------------------


def weekly_mornings(now: datetime, until: datetime, zone: ZoneInfo) -> list[datetime]:
    """Monday 09:00 instants still worth sending at `now` (not stale) and due by `until`."""
    day = (now - DIGEST_KEPT).astimezone(zone).date()
    day += timedelta(days=-day.weekday() % 7)
    mornings = []
    while (due := morning_of(day, zone)) <= until:
        if due + DIGEST_KEPT > now:
            mornings.append(due)
        day += timedelta(days=7)
    return mornings


def _heads_with_departments(object_ids: Collection[int] | None) -> dict[int, list[int]]:
    query = (
        select(User.department_id, User.id)
        .join(UserRole, UserRole.user_id == User.id)
        .where(
            UserRole.role == Role.HEAD.value,
            User.is_active_account.is_(True),
            User.department_id.is_not(None),
        )
        .order_by(User.id)
    )
    if object_ids is not None:
        query = query.where(User.department_id.in_(list(object_ids)))
    heads: dict[int, list[int]] = defaultdict(list)
    for department_id, user_id in db.session.execute(query):
        heads[department_id].append(user_id)
    return heads


def _active_admins() -> list[int]:
    return list(
        db.session.scalars(
            select(User.id)
            .join(UserRole, UserRole.user_id == User.id)
            .where(UserRole.role == Role.ADMIN.value, User.is_active_account.is_(True))
            .order_by(User.id)
        )
    )


def collect_verification_digest(
    now: datetime, until: datetime, object_ids: Collection[int] | None
) -> list[Reminder]:
    """Monday mornings: activities waiting over 7 days, to whoever reviews them.

    As in the verification queue: a head gets their department's, except their own;
    admins get the heads' own (no head reviews their own work), by department.
    """
    zone = app_zone()
    mornings = weekly_mornings(now, until, zone)
    heads = _heads_with_departments(object_ids)
    if not mornings or not heads:
        return []
    is_head = (
        select(UserRole.user_id)
        .where(UserRole.user_id == User.id, UserRole.role == Role.HEAD.value)
        .exists()
    )
    rows = db.session.execute(
        select(User.department_id, Activity.teacher_id, User.display_name,
               Activity.title, Activity.updated_at, is_head.label("by_head"))
        .join(User, User.id == Activity.teacher_id)
        .where(
            Activity.status == ActivityStatus.COMPLETED.value,
            Activity.updated_at <= now - WAITING_FOR_VERIFICATION,
            User.department_id.in_(list(heads)),
        )
        .order_by(Activity.updated_at, Activity.id)
    ).all()  # fmt: skip
    waiting: dict[int, list[Any]] = defaultdict(list)
    for row in rows:
        waiting[row.department_id].append(row)
    admins = _active_admins() if any(r.by_head for r in rows) else []
    reminders = []
    for department_id, items in waiting.items():
        recipients = [(head, [r for r in items if r.teacher_id != head])
                      for head in heads[department_id]]  # fmt: skip
        recipients += [
            (admin, [r for r in items if r.by_head and r.teacher_id != admin])
            for admin in admins
            if admin not in heads[department_id]  # a head-admin already has these
        ]
        for recipient, theirs in recipients:
            if not theirs:
                continue
            payload = {
                "count": len(theirs),
                "items": [
                    {"teacher": r.display_name, "title": r.title,
                     "since": r.updated_at.astimezone(zone).date().isoformat()}
                    for r in theirs[:DIGEST_ITEMS]
                ],
            }  # fmt: skip
            reminders += [
                Reminder(K.VERIFICATION_DIGEST, recipient, "department", department_id,
                         due, due + DIGEST_KEPT, payload)
                for due in mornings
            ]  # fmt: skip
    return reminders


def _progress() -> Any:
    """The progress engine's adapter (its own area)."""
    from pdtracker.progress import services

    return services


def collect_department_digest(
    now: datetime, until: datetime, object_ids: Collection[int] | None
) -> list[Reminder]:
    """Monday mornings, to each head: ratio, waiting activities, placements, lapses."""
    zone = app_zone()
    mornings = weekly_mornings(now, until, zone)
    heads = _heads_with_departments(object_ids)
    if not mornings or not heads:
        return []
    today = now.astimezone(zone).date()
    progress = _progress()
    waiting = dict(
        db.session.execute(
            select(User.department_id, func.count(Activity.id))
            .join(User, User.id == Activity.teacher_id)
            .where(Activity.status == ActivityStatus.COMPLETED.value,
                   User.department_id.in_(list(heads)))
            .group_by(User.department_id)
        ).all()
    )  # fmt: skip
    starting = dict(
        db.session.execute(
            select(User.department_id, func.count(Placement.id))
            .join(User, User.id == Placement.teacher_id)
            .where(Placement.status == PlacementStatus.APPROVED.value,
                   Placement.starts_on >= today,
                   Placement.starts_on <= today + timedelta(days=30),
                   User.department_id.in_(list(heads)))
            .group_by(User.department_id)
        ).all()
    )  # fmt: skip
    active = progress.active_ruleset()
    reminders = []
    for department_id, head_ids in heads.items():
        summary = progress.evaluate_department(
            department_id, today, active, history=False, now=now
        )
        soon = today + timedelta(days=LAPSE_WARNINGS[0])
        payload = {
            "department": summary.department.name,
            "qualified": summary.now.qualified,
            "total": summary.now.total,
            "waiting": waiting.get(department_id, 0),
            "placements_starting": starting.get(department_id, 0),
            "lapsing": sum(1 for t in summary.lapsing if t.lapses_on <= soon),
        }
        reminders += [
            Reminder(K.DEPARTMENT_DIGEST, head, "department", department_id, due,
                     due + DIGEST_KEPT, payload)
            for due in mornings
            for head in head_ids
        ]  # fmt: skip
    return reminders


# --- lapse warnings ---------------------------------------------------------------


def _lapse_reminders(
    status: Any, ruleset: Any, heads: list[int], now: datetime, until: datetime,
    zone: ZoneInfo,
) -> Iterator[Reminder]:  # fmt: skip
    """The 90- and 30-day warnings for one teacher's lapsing requirements."""
    teacher = status.teacher
    reached = [r for lv in status.report.levels if lv.reached for r in lv.requirements]
    for result in reached:
        if result.lapses_on is None:
            continue
        if not ruleset.requirement(result.code).kinds & LAPSE_KINDS:
            continue
        lapse = midnight_of(result.lapses_on, zone)
        for days, later in zip(LAPSE_WARNINGS, (*LAPSE_WARNINGS[1:], 0), strict=True):
            due = morning_of(result.lapses_on - timedelta(days=days), zone)
            # Superseded by the next, closer warning: the 90-day one is stale at 30.
            stale = lapse - timedelta(days=later)
            if due > until or stale <= now:
                continue
            payload = {
                "teacher": teacher.display_name,
                "requirement_zh": result.name.zh or result.code,
                "requirement_en": result.name.en or result.code,
                "lapses_on": result.lapses_on.isoformat(),
                # Days left when planned (re-checked when sent): a warning sent
                # late, after downtime, still tells the truth.
                "days": (result.lapses_on - now.astimezone(zone).date()).days,
            }
            for person in [teacher.id, *[h for h in heads if h != teacher.id]]:
                yield Reminder(K.LAPSE_WARNING, person, "user", teacher.id, due, stale,
                               payload, extra=result.code)  # fmt: skip


def collect_lapse_warnings(
    now: datetime, until: datetime, object_ids: Collection[int] | None
) -> list[Reminder]:
    """90 and 30 days before an enterprise-practice or certificate requirement lapses."""
    zone = app_zone()
    today = now.astimezone(zone).date()
    progress = _progress()
    active = progress.active_ruleset()
    query = select(User.department_id).where(User.department_id.is_not(None))
    if object_ids is not None:
        query = query.where(User.id.in_(list(object_ids)))
    departments = sorted(set(db.session.scalars(query.distinct())))
    heads = _heads_by_department(departments)
    reminders: list[Reminder] = []
    for department_id in departments:
        summary = progress.evaluate_department(
            department_id, today, active, history=False, now=now
        )
        for status in summary.teachers:
            if object_ids is not None and status.teacher.id not in object_ids:
                continue
            reminders += _lapse_reminders(
                status, active.ruleset, heads.get(department_id, []), now, until, zone
            )
    return reminders


# Run by the planning tick (every few minutes) and re-asked at dispatch time.
PLANNERS: tuple[Planner, ...] = (
    Planner("event_tomorrow", frozenset({K.EVENT_TOMORROW}), "event",
            timedelta(days=2), collect_event_tomorrow),
    Planner("registration_deadline", frozenset({K.REGISTRATION_DEADLINE}), "event",
            timedelta(days=2), collect_registration_deadline),
    Planner("placement_starting", frozenset({K.PLACEMENT_STARTING}), "placement",
            timedelta(days=2), collect_placement_starting),
    Planner("placement_report_due", frozenset({K.PLACEMENT_REPORT_DUE}), "placement",
            timedelta(days=2), collect_placement_report_due),
)  # fmt: skip
# Expensive ones (progress evaluation, digests) run nightly, two days ahead.
NIGHTLY_PLANNERS: tuple[Planner, ...] = (
    Planner("verification_digest", frozenset({K.VERIFICATION_DIGEST}), "department",
            timedelta(days=2), collect_verification_digest),
    Planner("department_digest", frozenset({K.DEPARTMENT_DIGEST}), "department",
            timedelta(days=2), collect_department_digest),
    Planner("lapse_warning", frozenset({K.LAPSE_WARNING}), "user", timedelta(days=2),
            collect_lapse_warnings),
)  # fmt: skip


class TickError(Exception):
    """Some parts of a tick failed; the others ran. Carries the counts."""

    def __init__(self, counts: dict[str, Any], errors: list[str]) -> None:
        super().__init__("; ".join(errors))
        self.counts = counts


def run_planners(planners: Iterable[Planner], now: datetime) -> dict[str, Any]:
    """Sync each planner in its own transaction; one failing does not stop the rest."""
    counts: dict[str, Any] = {}
    errors: list[str] = []
    for planner in planners:
        try:
            result = sync(planner, now)
            db.session.commit()
        except Exception as exc:
            db.session.rollback()
            logger.exception("planner %s failed", planner.name)
            errors.append(f"{planner.name}: {exc}")
            continue
        for name, value in result.items():
            counts[name] = counts.get(name, 0) + value
    if errors:
        raise TickError(counts, errors)
    return counts


def plan_reminders(now: datetime) -> dict[str, Any]:
    """The planning tick: reminders for events, registrations and placements."""
    return run_planners(PLANNERS, now)


def nightly_lapse_check(now: datetime) -> dict[str, Any]:
    """The nightly tick: store today's progress evaluations, lapse warnings, weekly
    digests, then housekeeping. Each part runs even if another failed."""
    errors: list[str] = []
    counts: dict[str, Any] = {}
    try:
        today = now.astimezone(app_zone()).date()
        counts["evaluations"] = _progress().store_evaluations(None, today, now)
        db.session.commit()
    except Exception as exc:
        db.session.rollback()
        logger.exception("nightly evaluations failed")
        errors.append(f"evaluations: {exc}")
    try:
        counts |= run_planners(NIGHTLY_PLANNERS, now)
    except TickError as exc:
        counts |= exc.counts
        errors.append(str(exc))
    counts |= prune(now)
    db.session.commit()
    if errors:
        raise TickError(counts, errors)
    return counts


def all_planners() -> tuple[Planner, ...]:
    """Every planner, for re-checking rows at dispatch time."""
    return PLANNERS + NIGHTLY_PLANNERS
