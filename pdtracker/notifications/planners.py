"""The planner tables and the planning ticks; the nightly planners.

Each planner returns every reminder of its kinds that is due within its horizon
and not stale yet; :func:`outbox.sync` reconciles the outbox with that list
(plan new ones, move changed ones, cancel ones no longer wanted). Planners never
send anything and can run any number of times. The frequent ones (events and
placements) live in :mod:`reminders`; the nightly ones here read the progress
area: weekly digests for reviewers and heads, and warnings before a status lapses.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Collection, Iterable, Iterator
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from pdtracker.activities.models import Activity, ActivityStatus
from pdtracker.auth import throttle
from pdtracker.auth.models import Role, User, UserRole
from pdtracker.extensions import db
from pdtracker.notifications.models import NotificationKind
from pdtracker.notifications.outbox import Planner, Reminder, sync
from pdtracker.notifications.reminders import (
    collect_event_tomorrow,
    collect_placement_report_due,
    collect_placement_starting,
    collect_registration_deadline,
    heads_by_department,
    midnight_of,
    morning_of,
)
from pdtracker.notifications.runs import TickError, prune
from pdtracker.placements.models import Placement, PlacementStatus
from pdtracker.progress import services as progress_services
from pdtracker.progress import standings
from pdtracker.timeutil import app_zone, local_today

logger = logging.getLogger(__name__)

K = NotificationKind
WAITING_FOR_VERIFICATION = timedelta(days=7)
DIGEST_ITEMS = 10
DIGEST_KEPT = timedelta(days=3)  # a weekly digest not sent within 3 days is dropped
LAPSE_WARNINGS = (90, 30)  # days before a status lapses
# Requirements whose lapse is warned about: enterprise practice and certificates.
LAPSE_KINDS = frozenset({"enterprise_placement", "certificate"})


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
        if department_id is not None:  # always, by the query
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
    """The progress area's services (one seam, so tests can stand in for it)."""
    return progress_services


def _standings() -> Any:
    """The stored standings (a seam like _progress)."""
    return standings


def collect_department_digest(
    now: datetime, until: datetime, object_ids: Collection[int] | None
) -> list[Reminder]:
    """Monday mornings, to each head: ratio, waiting activities, placements, lapses."""
    zone = app_zone()
    mornings = weekly_mornings(now, until, zone)
    heads = _heads_with_departments(object_ids)
    if not mornings or not heads:
        return []
    today = local_today(now)
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
    reminders = []
    for department_id, head_ids in heads.items():
        # Each department under its own college's ruleset (the default of
        # evaluate_department), not the regional one.
        summary = progress.evaluate_department(
            department_id, today, None, history=False, now=now
        )
        soon = today + timedelta(days=LAPSE_WARNINGS[0])
        payload = {
            "department": summary.department.name,
            "department_en": summary.department.name_en or "",
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
    today = local_today(now)
    progress = _progress()
    query = select(User.department_id).where(User.department_id.is_not(None))
    if object_ids is not None:
        query = query.where(User.id.in_(list(object_ids)))
    departments = sorted(
        {d for d in db.session.scalars(query.distinct()) if d is not None}
    )
    heads = heads_by_department(departments)
    reminders: list[Reminder] = []
    for department_id in departments:
        summary = progress.evaluate_department(
            department_id, today, None, history=False, now=now
        )
        for status in summary.teachers:
            if object_ids is not None and status.teacher.id not in object_ids:
                continue
            reminders += _lapse_reminders(
                status,
                summary.ruleset.ruleset,
                heads.get(department_id, []),
                now,
                until,
                zone,
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
    """The nightly tick: bring the stored standings up to date, lapse warnings,
    weekly digests, then housekeeping. Each part runs even if another failed.

    The standings refresh is incremental: only teachers whose records changed or
    whose status can change today are evaluated (a quiet night evaluates nobody).
    Dated snapshots (progress.services.store_evaluations) are no longer written
    for every teacher every night.
    """
    errors: list[str] = []
    counts: dict[str, Any] = {}
    try:
        counts |= _standings().refresh(now)
        db.session.commit()
    except Exception as exc:
        db.session.rollback()
        logger.exception("nightly standings refresh failed")
        errors.append(f"standings: {exc}")
    try:
        counts |= run_planners(NIGHTLY_PLANNERS, now)
    except TickError as exc:
        counts |= exc.counts
        errors.append(str(exc))
    counts |= prune(now)
    counts["throttle_counters_pruned"] = throttle.prune(now)
    db.session.commit()
    if errors:
        raise TickError(counts, errors)
    return counts


def all_planners() -> tuple[Planner, ...]:
    """Every planner, for re-checking rows at dispatch time."""
    return PLANNERS + NIGHTLY_PLANNERS
