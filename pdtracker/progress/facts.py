"""The adapter from the database to the engine: one teacher's or many teachers' facts.

Facts come from three tables, each read once for any number of teachers:
activities (the log), approved or running placements not credited yet (planned
enterprise practice, counted as completion will credit it, see
:mod:`pdtracker.placements.counting`) and seats at published events still to
come (planned activities of the event's kind and hours).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import ColumnElement, func, or_, select

from pdtracker.activities.models import Activity, ActivityStatus
from pdtracker.auth.models import User
from pdtracker.database import among
from pdtracker.events.models import Event, EventStatus, Registration, RegistrationStatus
from pdtracker.extensions import db
from pdtracker.placements.counting import counting_rules, credited_end
from pdtracker.placements.days import credited_days
from pdtracker.placements.market_models import MentorAssessment
from pdtracker.placements.models import Enterprise, Placement, PlacementStatus
from pdtracker.progress.definitions import ActivityFact
from pdtracker.progress.path import Opportunity
from pdtracker.timeutil import to_local, utcnow


@dataclass(frozen=True)
class PlannedItem:
    """Something planned that will credit the teacher: shown as 'coming up'."""

    source: str  # activity | placement | registration
    title: str
    fact: ActivityFact

    @property
    def key(self) -> str:
        """Unique across the three sources."""
        return f"{self.source}:{self.fact.id}"


@dataclass
class TeacherFacts:
    """One teacher's facts for the engine and the planned items behind them."""

    facts: list[ActivityFact] = field(default_factory=list)
    planned: list[PlannedItem] = field(default_factory=list)
    # The earliest end of a registered event among the facts: after it, a new
    # gathering drops that seat (it is no longer "to come").
    expires_at: datetime | None = None


TeacherFilter = Callable[[Any], ColumnElement[bool]]

# Teachers whose facts are read by one gather. Past a few hundred teachers (~100
# records each) PostgreSQL's planner turns the activities query from an index scan
# into a parallel scan of the whole table: at 60,000 teachers and 6 million records,
# a batch of 1,000 took 0.99 ms a teacher and one of 500 or fewer 0.26 ms, and the full
# standings run fell from 62 s to 36 s. 250 leaves room for colleges with more records
# per teacher than the benchmark's.
GATHER_BATCH = 250


def by_ids(ids: Iterable[int]) -> TeacherFilter:
    """The teachers ``ids`` (one array parameter on PostgreSQL: database.among)."""
    wanted = sorted(set(ids))
    return lambda column: among(column, wanted)


def by_department(department_id: int) -> TeacherFilter:
    members = select(User.id).where(User.department_id == department_id)
    return lambda column: column.in_(members.scalar_subquery())


def app_zone() -> ZoneInfo:
    return ZoneInfo(current_app.config.get("TIMEZONE", "Asia/Shanghai"))


def local_today() -> date:
    """Today in the deployment's time zone."""
    return to_local(utcnow(), app_zone()).date()


def _number(value: Any) -> float | None:
    return None if value is None else float(value)


_new_fact = ActivityFact.__new__
_set = object.__setattr__


def _logged_fact(
    id_: int, kind: str, start: date, end: date | None, hours: float | None,
    days: float | None, role: str | None, grade: str | None, status: str,
) -> ActivityFact:  # fmt: skip
    """``ActivityFact(id_, kind, ...)`` for an activity row, without its ``__init__``.

    The frozen dataclass sets each field through ``object.__setattr__`` and checks
    what the table's constraints already hold (dates in order, hours and days not
    negative): a full standings run builds six million facts, and this is 2.5
    times quicker. tests/progress/test_engine_fast_paths.py keeps it equal.
    """
    fact = _new_fact(ActivityFact)
    _set(fact, "__dict__", {
        "id": id_, "kind": kind, "start": start, "end": end, "hours": hours,
        "days": days, "role": role, "grade": grade, "status": status,
    })  # fmt: skip
    return fact


def _activity_rows(
    where: TeacherFilter, today: date, out: dict[int, TeacherFacts]
) -> None:
    rows = db.session.execute(
        select(
            Activity.id, Activity.teacher_id, Activity.kind_code, Activity.title,
            Activity.starts_on, Activity.ends_on, Activity.hours, Activity.days,
            Activity.role, Activity.grade, Activity.status,
        ).where(
            where(Activity.teacher_id),
            Activity.status != ActivityStatus.REJECTED.value,
        )
    )  # fmt: skip
    planned = ActivityStatus.PLANNED.value
    # Plain tuples: attribute access by name on 30 000 rows shows in profiles.
    for row in rows:
        id_, teacher_id, kind, title, start, end, hours, days, role, grade, status = row
        fact = _logged_fact(
            id_, kind, start, end, None if hours is None else float(hours),
            None if days is None else float(days), role, grade, status,
        )  # fmt: skip
        entry = out.get(teacher_id)
        if entry is None:
            entry = out[teacher_id] = TeacherFacts()
        entry.facts.append(fact)
        if status == planned and fact.last_day >= today:
            entry.planned.append(PlannedItem("activity", title, fact))


def _placement_rows(where: TeacherFilter, out: dict[int, TeacherFacts]) -> None:
    """Approved or running placements not credited yet, as completion will credit
    them (:mod:`pdtracker.placements.counting`: the days the teacher's college's
    ruleset counts, or the enterprise mentor's confirmed days). One query, and
    one more for the colleges' rules when there are any."""
    rows = db.session.execute(
        select(
            Placement.id, Placement.teacher_id, Placement.starts_on,
            Placement.ends_on, Placement.working_days, Enterprise.name,
            User.institution_id, MentorAssessment.confirmed_days,
        )
        .join(Enterprise, Enterprise.id == Placement.enterprise_id)
        .join(User, User.id == Placement.teacher_id)
        # Confirmed days count only for placements a mentor hosts, as on completion.
        .outerjoin(
            MentorAssessment,
            (MentorAssessment.placement_id == Placement.id)
            & Placement.mentor_id.is_not(None),
        )
        .where(
            where(Placement.teacher_id),
            Placement.status.in_(
                [PlacementStatus.APPROVED.value, PlacementStatus.IN_PROGRESS.value]
            ),
            Placement.activity_id.is_(None),
        )
    ).all()  # fmt: skip
    if not rows:
        return
    rules = counting_rules({row.institution_id for row in rows})
    for id_, teacher_id, start, end, working, enterprise, college, confirmed in rows:
        credit = credited_days(
            start, end, rules[college].basis, working_days=working, confirmed=confirmed
        )
        fact = ActivityFact(
            id=f"placement:{id_}", kind="enterprise_placement", start=start,
            end=credited_end(credit, end), days=float(credit.days),
            status=ActivityStatus.PLANNED.value,
        )  # fmt: skip
        entry = out.get(teacher_id)
        if entry is None:
            entry = out[teacher_id] = TeacherFacts()
        entry.facts.append(fact)
        entry.planned.append(PlannedItem("placement", enterprise, fact))


def _event_days(event_row: Any, zone: ZoneInfo) -> tuple[date, date]:
    """Local first and last day, as attendance will credit them."""
    if event_row.is_all_day and event_row.start_on and event_row.end_on:
        return event_row.start_on, event_row.end_on - timedelta(days=1)
    start = event_row.starts_at.astimezone(zone)
    end = (event_row.ends_at - timedelta(microseconds=1)).astimezone(zone)
    return start.date(), max(end, start).date()


def _registration_rows(
    where: TeacherFilter, now: datetime, out: dict[int, TeacherFacts]
) -> None:
    zone = app_zone()
    rows = db.session.execute(
        select(
            Registration.id, Registration.teacher_id, Event.kind_code, Event.title,
            Event.starts_at, Event.ends_at, Event.is_all_day, Event.start_on,
            Event.end_on, Event.credited_hours,
        )
        .join(Event, Event.id == Registration.event_id)
        .where(
            where(Registration.teacher_id),
            Registration.status == RegistrationStatus.REGISTERED.value,
            Registration.activity_id.is_(None),
            Event.status == EventStatus.PUBLISHED.value,
            Event.ends_at >= now,
        )
    )  # fmt: skip
    for row in rows:
        start, end = _event_days(row, zone)
        fact = ActivityFact(
            id=f"registration:{row.id}", kind=row.kind_code, start=start, end=end,
            hours=_number(row.credited_hours), role="attendee",
            status=ActivityStatus.PLANNED.value,
        )  # fmt: skip
        entry = out.get(row.teacher_id)
        if entry is None:
            entry = out[row.teacher_id] = TeacherFacts()
        entry.facts.append(fact)
        entry.planned.append(PlannedItem("registration", row.title, fact))
        if entry.expires_at is None or row.ends_at < entry.expires_at:
            entry.expires_at = row.ends_at


def gather(where: TeacherFilter, now: datetime) -> dict[int, TeacherFacts]:
    """Three queries (four with planned placements), whatever the number of teachers."""
    out: dict[int, TeacherFacts] = {}
    _activity_rows(where, to_local(now, app_zone()).date(), out)
    _placement_rows(where, out)
    _registration_rows(where, now, out)
    for entry in out.values():
        entry.planned.sort(key=lambda p: (p.fact.start, p.key))
    return out


def gather_each(ids: Iterable[int], now: datetime) -> dict[int, TeacherFacts]:
    """:func:`gather` for any number of teachers, ``GATHER_BATCH`` at a time."""
    wanted = sorted(set(ids))
    out: dict[int, TeacherFacts] = {}
    for start in range(0, len(wanted), GATHER_BATCH):
        out |= gather(by_ids(wanted[start : start + GATHER_BATCH]), now)
    return out


def facts_for_teachers(
    teacher_ids: Iterable[int], now: datetime | None = None
) -> dict[int, list[ActivityFact]]:
    """Engine facts per teacher: logged, placements to come and event seats to come."""
    gathered = gather_each(teacher_ids, now or utcnow())
    return {teacher_id: entry.facts for teacher_id, entry in gathered.items()}


# Upcoming events offered on one teacher's path: the soonest first, at most this many.
MAX_OPPORTUNITIES = 50
SEAT_HOLDERS = (RegistrationStatus.REGISTERED.value, RegistrationStatus.ATTENDED.value)


def open_events(
    teacher_id: int, now: datetime
) -> tuple[list[Opportunity], datetime | None]:
    """Published events the teacher can still take a seat at, as planned facts.

    One query: single (not recurring) events whose registration is open, with a
    free seat, that the teacher holds no active registration for. Also returns when
    the first of them closes (the list is stale after that).
    """
    zone = app_zone()
    seats = (
        select(func.count())
        .select_from(Registration)
        .where(Registration.event_id == Event.id, Registration.status.in_(SEAT_HOLDERS))
        .scalar_subquery()
    )
    mine = select(Registration.id).where(
        Registration.event_id == Event.id,
        Registration.teacher_id == teacher_id,
        Registration.status != RegistrationStatus.CANCELLED.value,
    )
    closes = func.coalesce(Event.registration_deadline, Event.starts_at)
    rows = db.session.execute(
        select(
            Event.id, Event.kind_code, Event.title, Event.starts_at, Event.ends_at,
            Event.is_all_day, Event.start_on, Event.end_on, Event.credited_hours,
            Event.registration_deadline,
        )
        .where(
            Event.status == EventStatus.PUBLISHED.value,
            Event.rrule.is_(None),
            closes > now,
            or_(Event.capacity.is_(None), seats < Event.capacity),
            ~mine.exists(),
        )
        .order_by(Event.starts_at, Event.id)
        .limit(MAX_OPPORTUNITIES)
    )  # fmt: skip
    found, first_close = [], None
    for row in rows:
        start, end = _event_days(row, zone)
        fact = ActivityFact(
            id=f"event:{row.id}", kind=row.kind_code, start=start, end=end,
            hours=_number(row.credited_hours), role="attendee",
            status=ActivityStatus.PLANNED.value,
        )  # fmt: skip
        found.append(Opportunity(row.id, row.title, fact))
        close = row.registration_deadline or row.starts_at
        first_close = close if first_close is None else min(first_close, close)
    return found, first_close
