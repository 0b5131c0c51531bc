"""The association's view across its member colleges: aggregates only.

Every figure here is a count or a sum per college, enterprise or month; no query
reads names of people, evidence, notes or anything else personal. Each table is
one query whatever the number of colleges, teachers or records, so the dashboard
costs the same number of queries at 3 colleges as at 100:

- member colleges: stored standings (:mod:`pdtracker.progress.standings`), not
  the engine; recognitions (the recognition area's ``recognitions`` table) in a
  second query;
- association events over the last 12 months: registrations and attendance per
  college;
- placements per college: days completed over the last 12 months and days planned,
  counted as the colleges credit them (:mod:`pdtracker.placements.counting`):
  a completed placement its activity's days, a planned one the mentor's confirmed
  days or its college's basis (each college's ruleset read once, one query);
- enterprises: placements and days hosted per college over the last 12 months;
- events' demand against seats: registrations (waitlist included) per event of
  the last and next 12 months, grouped by kind and local month in Python.

Services take ``today`` and ``now`` explicitly; views pass the request's.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Integer, and_, case, cast, func, literal, select

from pdtracker.activities.models import Activity, ActivityKind
from pdtracker.auth.models import User
from pdtracker.events.models import Event, EventStatus, Registration, RegistrationStatus
from pdtracker.extensions import db
from pdtracker.org.models import Institution
from pdtracker.placements.counting import counting_rules
from pdtracker.placements.days import DayBasis
from pdtracker.placements.market_models import MentorAssessment
from pdtracker.placements.models import Enterprise, Placement, PlacementStatus
from pdtracker.progress.measures import add_months
from pdtracker.progress.standings_models import TeacherStanding
from pdtracker.recognition.models import STANDING, Recognition

WINDOW_MONTHS = 12
PAGE_ENTERPRISES = 30  # the page lists the busiest hosts; the export lists all
TARGET_RATIO = 0.5  # the national target: more than half
# How events are grouped when demand is compared with seats. Events carry no
# sector of their own yet: their kind (lecture, conference, seminar) stands in.
EVENT_GROUP = Event.kind_code
SEAT_HOLDERS = (RegistrationStatus.REGISTERED.value, RegistrationStatus.ATTENDED.value)
DEMAND = (*SEAT_HOLDERS, RegistrationStatus.WAITLISTED.value)
PLANNED_PLACEMENTS = (
    PlacementStatus.PROPOSED.value,
    PlacementStatus.APPROVED.value,
    PlacementStatus.IN_PROGRESS.value,
)
HOSTED_PLACEMENTS = (
    PlacementStatus.APPROVED.value,
    PlacementStatus.IN_PROGRESS.value,
    PlacementStatus.COMPLETED.value,
)


# The college figures that add up to the association's.
SUMMED = (
    "teachers", "professional", "qualified", "qualified_in_12", "registrations",
    "attended", "days_completed", "days_planned",
)  # fmt: skip


def _share(part: int, whole: int) -> float | None:
    return None if whole == 0 else part / whole


@dataclass
class CollegeRow:
    """One member college's figures."""

    id: int
    code: str
    name: str
    teachers: int = 0
    professional: int = 0
    qualified: int = 0
    qualified_in_12: int = 0
    recognised: int | None = None  # None: no recognitions table in this deployment
    registrations: int = 0
    attended: int = 0
    days_completed: int = 0
    days_planned: int = 0

    @property
    def ratio(self) -> float | None:
        """Dual-qualified professional-course teachers / professional-course teachers."""
        return _share(self.qualified, self.professional)

    @property
    def ratio_in_12(self) -> float | None:
        """The same in 12 months, if everything planned happens."""
        return _share(self.qualified_in_12, self.professional)

    @property
    def recognised_ratio(self) -> float | None:
        """Recognised professional-course teachers / professional-course teachers."""
        return (
            None
            if self.recognised is None
            else _share(self.recognised, self.professional)
        )

    @property
    def attendance_rate(self) -> float | None:
        """Attended / seats taken at events that ended in the window."""
        return _share(self.attended, self.registrations)


@dataclass
class EnterpriseRow:
    """One enterprise's placements hosted in the window, per college."""

    id: int
    name: str
    sector: str | None
    placements: int = 0
    days: int = 0
    # (college code, college name, placements, days), most days first.
    by_college: list[tuple[str, str, int, int]] = field(default_factory=list)


@dataclass(frozen=True)
class DemandRow:
    """Events of one kind in one local month: seats offered against demand."""

    group: str
    label_zh: str
    label_en: str
    month: date  # the first of the month
    events: int
    seats: int
    demand: int  # seats taken plus the waitlist

    def label(self, locale: str) -> str:
        """The group's name in the locale (Chinese unless English is asked for)."""
        return self.label_en if locale.startswith("en") else self.label_zh

    @property
    def outruns(self) -> bool:
        """More people wanted a seat than there were seats."""
        return self.demand > self.seats


@dataclass(frozen=True)
class Overview:
    """Everything the association dashboard shows."""

    today: date
    window_start: date
    computed_at: datetime | None  # the newest stored standing
    colleges: list[CollegeRow]
    enterprises: list[EnterpriseRow]
    demand: list[DemandRow]

    @property
    def target(self) -> float:
        """The national target ratio."""
        return TARGET_RATIO

    @property
    def totals(self) -> CollegeRow:
        """The association as a whole."""
        total = CollegeRow(0, "", "")
        for c in self.colleges:
            for name in SUMMED:
                setattr(total, name, getattr(total, name) + getattr(c, name))
            if c.recognised is not None:
                total.recognised = (total.recognised or 0) + c.recognised
        return total

    @property
    def shortfalls(self) -> list[DemandRow]:
        """The kinds and months where demand outran the seats."""
        return [d for d in self.demand if d.outruns]


def _midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(), zone)


def _sum(condition: ColumnElement[bool], value: Any = None) -> ColumnElement[Any]:
    """SUM of ``value`` (1 by default) over the rows meeting ``condition``."""
    counted = literal(1) if value is None else value
    return func.coalesce(func.sum(case((condition, counted), else_=0)), 0)


def colleges(today: date) -> tuple[list[CollegeRow], datetime | None]:
    """Every member college with its standings counts (one query)."""
    s = TeacherStanding
    professional = s.professional_course.is_(True)
    rows = db.session.execute(
        select(
            Institution.id, Institution.code, Institution.name,
            func.count(s.teacher_id), _sum(professional),
            _sum(and_(professional, s.qualified_now.is_(True))),
            _sum(and_(professional, s.qualified_in_12.is_(True))),
            func.max(s.computed_at),
        )
        .outerjoin(s, s.institution_id == Institution.id)
        .group_by(Institution.id, Institution.code, Institution.name)
        .order_by(Institution.code)
    ).all()  # fmt: skip
    out = [
        CollegeRow(id_, code, name, int(n), int(p), int(q), int(q12))
        for id_, code, name, n, p, q, q12, _at in rows
    ]
    computed = [r[-1] for r in rows if r[-1] is not None]
    return out, max(computed, default=None)


def recognised_counts(today: date) -> dict[int, int]:
    """The recognition hook: recognised professional-course teachers per college on
    ``today`` (one query on the recognition area's ``recognitions`` table).

    A recognition counts while it stands (active or due for review) and ``today``
    lies in its validity; the teacher is counted in the college of their standing.
    """
    s = TeacherStanding
    rows = db.session.execute(
        select(s.institution_id, func.count(func.distinct(Recognition.teacher_id)))
        .join(s, s.teacher_id == Recognition.teacher_id)
        .where(
            s.professional_course.is_(True),
            Recognition.state.in_(STANDING),
            Recognition.valid_from <= today,
            Recognition.valid_until >= today,
        )
        .group_by(s.institution_id)
    ).all()
    return {inst: int(n) for inst, n in rows if inst is not None}


def attendance(start: datetime, now: datetime) -> dict[int, tuple[int, int]]:
    """Per college: seats taken and attended at events that ended in [start, now)."""
    rows = db.session.execute(
        select(
            User.institution_id, func.count(Registration.id),
            _sum(Registration.status == RegistrationStatus.ATTENDED.value),
        )
        .join(Event, Event.id == Registration.event_id)
        .join(User, User.id == Registration.teacher_id)
        .where(
            Event.status == EventStatus.PUBLISHED.value,
            Event.ends_at >= start, Event.ends_at < now,
            Registration.status.in_(SEAT_HOLDERS),
            User.institution_id.is_not(None),
        )
        .group_by(User.institution_id)
    ).all()  # fmt: skip
    return {inst: (int(n), int(a)) for inst, n, a in rows}


def working_colleges(institution_ids: list[int]) -> set[int]:
    """The colleges whose active ruleset credits placements' working days (one
    query for all of them); the others credit calendar days."""
    rules = counting_rules(institution_ids)
    return {
        i
        for i, rule in rules.items()
        if i is not None and rule.basis is DayBasis.WORKING
    }


def _within(value: Any, span: Any) -> ColumnElement[Any]:
    """``value`` held between 0 and ``span``, as credited_days holds it."""
    return case((value < 0, 0), (value > span, span), else_=value)


def _credited(working: set[int]) -> ColumnElement[Any]:
    """The days a placement row credits, as :mod:`pdtracker.placements.counting`
    counts them, in SQL: a completed placement its credited activity's days; else
    the days its enterprise mentor confirmed; else its college's basis (the span's
    calendar days, or its working days). Needs the query to outer-join Activity on
    ``Placement.activity_id`` and MentorAssessment on the placement."""
    if db.session.get_bind().dialect.name == "sqlite":
        gap: Any = func.julianday(Placement.ends_on) - func.julianday(
            Placement.starts_on
        )
    else:
        gap = Placement.ends_on - Placement.starts_on
    span = cast(gap, Integer) + 1
    on_working = User.institution_id.in_(sorted(working)) if working else literal(False)
    counted = case((on_working, _within(Placement.working_days, span)), else_=span)
    confirmed = and_(
        Placement.mentor_id.is_not(None), MentorAssessment.confirmed_days.is_not(None)
    )
    planned = case(
        (confirmed, _within(MentorAssessment.confirmed_days, span)), else_=counted
    )
    return case(
        (
            and_(
                Placement.status == PlacementStatus.COMPLETED.value,
                Activity.days.is_not(None),
            ),
            Activity.days,
        ),
        else_=planned,
    )


def placement_days(
    window_start: date, today: date, working: set[int]
) -> dict[int, tuple[int, int]]:
    """Per college: credited days completed in the window, and days planned."""
    completed = and_(
        Placement.status == PlacementStatus.COMPLETED.value,
        Placement.ends_on >= window_start,
        Placement.ends_on <= today,
    )
    planned = Placement.status.in_(PLANNED_PLACEMENTS)
    credited = _credited(working)
    rows = db.session.execute(
        select(
            User.institution_id,
            _sum(completed, credited), _sum(planned, credited),
        )
        .select_from(Placement)
        .join(User, User.id == Placement.teacher_id)
        .outerjoin(Activity, Activity.id == Placement.activity_id)
        .outerjoin(MentorAssessment, MentorAssessment.placement_id == Placement.id)
        .where(User.institution_id.is_not(None), completed | planned)
        .group_by(User.institution_id)
    ).all()  # fmt: skip
    return {
        inst: (int(done), int(todo)) for inst, done, todo in rows if inst is not None
    }


def enterprises(
    window_start: date, names: dict[int, tuple[str, str]], working: set[int]
) -> list[EnterpriseRow]:
    """Enterprises that hosted placements overlapping the window, with their colleges."""
    rows = db.session.execute(
        select(
            Enterprise.id, Enterprise.name, Enterprise.sector, User.institution_id,
            func.count(Placement.id), func.sum(_credited(working)),
        )
        .join(Placement, Placement.enterprise_id == Enterprise.id)
        .join(User, User.id == Placement.teacher_id)
        .outerjoin(Activity, Activity.id == Placement.activity_id)
        .outerjoin(MentorAssessment, MentorAssessment.placement_id == Placement.id)
        .where(
            Placement.status.in_(HOSTED_PLACEMENTS),
            Placement.ends_on >= window_start,
            User.institution_id.is_not(None),
        )
        .group_by(Enterprise.id, Enterprise.name, Enterprise.sector, User.institution_id)
    ).all()  # fmt: skip
    found: dict[int, EnterpriseRow] = {}
    for id_, name, sector, inst, n, days in rows:
        row = found.setdefault(id_, EnterpriseRow(id_, name, sector))
        row.placements += int(n)
        row.days += int(days or 0)
        code, college = names.get(inst or 0, ("", ""))
        row.by_college.append((code, college, int(n), int(days or 0)))
    for row in found.values():
        row.by_college.sort(key=lambda c: (-c[3], c[0]))
    return sorted(found.values(), key=lambda e: (-e.days, -e.placements, e.name))


def demand(start: datetime, end: datetime, zone: ZoneInfo) -> list[DemandRow]:
    """Seats against demand per event kind and local month, for events with seats."""
    wanted = (
        select(func.count(Registration.id))
        .where(Registration.event_id == Event.id, Registration.status.in_(DEMAND))
        .scalar_subquery()
    )
    rows = db.session.execute(
        select(
            EVENT_GROUP, ActivityKind.label_zh, ActivityKind.label_en,
            Event.starts_at, Event.capacity, wanted.cast(Integer),
        )
        .join(ActivityKind, ActivityKind.code == Event.kind_code)
        .where(
            Event.status == EventStatus.PUBLISHED.value,
            Event.capacity.is_not(None),
            Event.starts_at >= start, Event.starts_at < end,
        )
    ).all()  # fmt: skip
    groups: dict[tuple[str, date], list[int]] = defaultdict(lambda: [0, 0, 0])
    labels: dict[str, tuple[str, str]] = {}
    for group, zh, en, starts_at, capacity, taken in rows:
        labels[group] = (zh, en)
        month = starts_at.astimezone(zone).date().replace(day=1)
        totals = groups[(group, month)]
        totals[0] += 1
        totals[1] += capacity or 0
        totals[2] += int(taken or 0)
    return [
        DemandRow(group, *labels[group], month, n, seats, want)
        for (group, month), (n, seats, want) in sorted(
            groups.items(), key=lambda kv: (kv[0][1], kv[0][0])
        )
    ]


def fingerprint() -> tuple[Any, ...]:
    """What says the overview may have changed, in one small query: the newest
    stored standing (every refresh that evaluates anyone moves it) and the member
    colleges (a college added, or one removed). Events, registrations and
    placements are not in it: a cached overview also expires after a while."""
    newest = select(func.max(TeacherStanding.computed_at)).scalar_subquery()
    count = select(func.count()).select_from(Institution).scalar_subquery()
    top = select(func.max(Institution.id)).scalar_subquery()
    return tuple(db.session.execute(select(newest, count, top)).one())


def overview(today: date, now: datetime, zone: ZoneInfo) -> Overview:
    """The whole dashboard: seven queries, whatever the association's size."""
    window_start = add_months(today, -WINDOW_MONTHS)
    start = _midnight(window_start, zone)
    rows, computed_at = colleges(today)
    recognised = recognised_counts(today)
    seats = attendance(start, now)
    working = working_colleges([r.id for r in rows])
    days = placement_days(window_start, today, working)
    for row in rows:
        row.recognised = recognised.get(row.id, 0)
        row.registrations, row.attended = seats.get(row.id, (0, 0))
        row.days_completed, row.days_planned = days.get(row.id, (0, 0))
    names = {r.id: (r.code, r.name) for r in rows}
    horizon = _midnight(add_months(today, WINDOW_MONTHS), zone)
    return Overview(
        today=today,
        window_start=window_start,
        computed_at=computed_at,
        colleges=rows,
        enterprises=enterprises(window_start, names, working),
        demand=demand(start, horizon, zone),
    )
