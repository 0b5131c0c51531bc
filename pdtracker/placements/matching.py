"""Matching both ways: teachers for an offer, offers for a teacher.

A teacher *fits* an offer when they teach at a member college (a teacher with a
college), still need enterprise-practice days under their college's ruleset
(:func:`pdtracker.progress.records.active_rulesets_for`, the engine's
``enterprise_practice`` requirement, as the timeline counts it), their
department serves the offer's sector (a department naming no sector serves
every one) and the offer's dates are free: no open placement, no seat held on
another offer, no event registration overlaps them.

The pages issue a bounded number of queries: candidates are preselected in SQL
(at most :data:`POOL`, from the stored standings: not dual-qualified in 12 months
first) before the engine measures their practice days.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import (
    ColumnElement,
    Date,
    Integer,
    Select,
    and_,
    bindparam,
    exists,
    func,
    literal,
    not_,
    or_,
    select,
    union_all,
)
from sqlalchemy.orm import joinedload

from pdtracker.activities.models import Activity, ActivityStatus
from pdtracker.auth.models import Role, User, UserRole
from pdtracker.events.models import Event, EventStatus, Registration, RegistrationStatus
from pdtracker.extensions import db
from pdtracker.org.models import Department, Institution
from pdtracker.placements.conflicts import (
    Conflict,
    occurrence_within,
    registered_events,
    span_utc,
)
from pdtracker.placements.counting import DAY_MEASURES
from pdtracker.placements.days import basis_for, credited_days
from pdtracker.placements.market import seats_held
from pdtracker.placements.market_models import (
    SEAT_HOLDING,
    DepartmentSector,
    OfferStatus,
    PlacementOffer,
    PlacementRequest,
)
from pdtracker.placements.models import Enterprise, Placement, PlacementStatus
from pdtracker.placements.timeline import practice_ruleset
from pdtracker.progress.definitions import Requirement, Ruleset
from pdtracker.progress.engine import ActivityFact
from pdtracker.progress.measures import calendar_for, series_for
from pdtracker.progress.records import active_rulesets_for
from pdtracker.progress.standings_models import TeacherStanding
from pdtracker.timeutil import app_zone, to_local

# Teachers preselected for one offer, and shown at most.
POOL = 120
SHOWN = 50
# Open offers a teacher's suggestions are chosen from.
OFFER_POOL = 100


@dataclass(frozen=True)
class Candidate:
    """What staff see of a matched teacher: no evidence, no notes."""

    teacher_id: int
    name: str
    department: str
    college: str
    needed: int | float


@dataclass(frozen=True)
class Suggestion:
    """An offer for a teacher, and the practice days still needed after it."""

    offer: PlacementOffer
    seats_left: int
    credit: int | float
    needed_after: int | float


def _sector_fits(sector: str) -> ColumnElement[bool]:
    """Clause on ``User``: the teacher's department serves ``sector`` (or names none)."""
    declared = select(DepartmentSector.department_id).where(
        DepartmentSector.department_id == User.department_id
    )
    return or_(
        not_(exists(declared)),
        exists(declared.where(DepartmentSector.sector == sector)),
    )


def busy_teachers(
    teacher_ids: Sequence[int], starts_on: date, ends_on: date
) -> set[int]:
    """Of these teachers, those whose dates are taken in the span (two queries)."""
    return set(conflicts_by_teacher(teacher_ids, starts_on, ends_on))


def conflicts_by_teacher(
    teacher_ids: Sequence[int], starts_on: date, ends_on: date
) -> dict[int, list[Conflict]]:
    """What takes these teachers' dates in the span: placements, seats, events.

    Two queries whatever the number of teachers.
    """
    found: dict[int, list[Conflict]] = {}
    if not teacher_ids:
        return found
    ids = list(teacher_ids)
    placements = select(
        Placement.teacher_id, Placement.id, Placement.starts_on, Placement.ends_on,
        Enterprise.name,
    ).join(Enterprise, Enterprise.id == Placement.enterprise_id).where(
        Placement.teacher_id.in_(ids),
        Placement.status != PlacementStatus.CANCELLED.value,
        Placement.starts_on <= ends_on,
        Placement.ends_on >= starts_on,
    )  # fmt: skip
    held = (
        select(PlacementRequest.teacher_id, literal(None, Integer),
               PlacementOffer.starts_on, PlacementOffer.ends_on, Enterprise.name)
        .join(PlacementOffer, PlacementOffer.id == PlacementRequest.offer_id)
        .join(Enterprise, Enterprise.id == PlacementOffer.enterprise_id)
        .where(
            PlacementRequest.teacher_id.in_(ids),
            PlacementRequest.status.in_(SEAT_HOLDING),
            PlacementRequest.placement_id.is_(None),
            PlacementOffer.starts_on <= ends_on,
            PlacementOffer.ends_on >= starts_on,
        )
    )  # fmt: skip
    for teacher_id, pid, start, end, name in db.session.execute(
        union_all(placements, held)
    ):
        found.setdefault(teacher_id, []).append(
            Conflict("placement", start, end, placement_id=pid, enterprise_name=name)
        )
    span_start, span_end = span_utc(starts_on, ends_on)
    reaches = Event.rrule.is_not(None) & (
        Event.series_ends_at.is_(None) | (Event.series_ends_at > span_start)
    )
    rows = db.session.execute(
        select(Registration.teacher_id, Event)
        .join(Event, Event.id == Registration.event_id)
        .where(
            Registration.teacher_id.in_(ids),
            Registration.status != RegistrationStatus.CANCELLED.value,
            Event.status != EventStatus.CANCELLED.value,
            Event.starts_at < span_end,
            (Event.ends_at > span_start) | reaches,
        )
    )
    zone = app_zone()
    for teacher_id, event in rows:
        occurrence = occurrence_within(event, span_start, span_end)
        if occurrence is not None:
            first, last = occurrence
            found.setdefault(teacher_id, []).append(
                Conflict(
                    "registration",
                    to_local(first, zone).date(),
                    to_local(last - timedelta(microseconds=1), zone).date(),
                    event_title=event.title,
                )
            )
    return found


def practice_needed(
    teachers: Iterable[tuple[int, int | None]], as_of: date
) -> dict[int, int | float | None]:
    """Practice days still needed per teacher id, under their college's ruleset.

    ``teachers`` are (teacher id, college id). None: the college's ruleset has no
    single enterprise-practice requirement. Two queries.
    """
    pairs = list(teachers)
    rulesets = active_rulesets_for({c for _, c in pairs})
    practices = {c: practice_ruleset(a.ruleset) for c, a in rulesets.items()}
    kinds = set().union(*(p[1].kinds for p in practices.values() if p is not None))
    facts = _facts([t for t, _ in pairs], kinds)
    out: dict[int, int | float | None] = {}
    for teacher_id, college in pairs:
        practice = practices.get(college) or practices.get(None)
        if practice is None:
            out[teacher_id] = None
            continue
        out[teacher_id] = missing_days(practice, facts.get(teacher_id, []), as_of)
    return out


def missing_days(
    practice: tuple[Ruleset, Requirement], facts: Sequence[ActivityFact], as_of: date
) -> int | float:
    """Enterprise-practice days still needed on ``as_of``: the engine's own measure
    of the requirement (:func:`pdtracker.progress.measures.series_for`) over the
    verified facts, without the forecasts a full evaluation adds."""
    ruleset, requirement = practice
    years = requirement.window_years or ruleset.window_years
    acts = [
        f
        for f in sorted(facts, key=lambda f: (f.start, f.last_day))
        if f.kind in requirement.kinds and requirement.matches(f)
    ]
    series = series_for(requirement, acts, calendar_for(years), 0)
    missing = max(0, requirement.threshold - series.value(as_of.toordinal()))
    return int(missing) if float(missing).is_integer() else missing


def offer_credit(requirement: Requirement, offer: PlacementOffer) -> int | float:
    """What the offer's placement would add to the requirement (before caps).

    In days, the count completion credits (:func:`.days.credited_days`, on the
    basis the requirement's measure implies, as :func:`.counting.rule_of` reads
    it from the college's ruleset), so the offer promises what its placement
    credits; a mentor's confirmed days, known only at the end, may differ.
    """
    if requirement.measure in DAY_MEASURES:
        return credited_days(
            offer.starts_on, offer.ends_on, basis_for(str(requirement.measure)),
            working_days=offer.working_days,
        ).days  # fmt: skip
    amount = requirement.amount(_offer_fact(offer))
    return int(amount) if float(amount).is_integer() else amount


def _offer_fact(offer: PlacementOffer, status: str = "verified") -> ActivityFact:
    return ActivityFact(
        id=f"offer:{offer.id}", kind=REQUIREMENT_KIND, start=offer.starts_on,
        end=offer.ends_on, days=offer.working_days, status=status,
    )  # fmt: skip


def _facts(teacher_ids: list[int], kinds: set[str]) -> dict[int, list[ActivityFact]]:
    if not teacher_ids or not kinds:
        return {}
    rows = db.session.execute(
        select(
            Activity.id, Activity.teacher_id, Activity.kind_code,
            Activity.starts_on, Activity.ends_on, Activity.days,
        ).where(
            Activity.teacher_id.in_(teacher_ids),
            Activity.kind_code.in_(kinds),
            Activity.status == ActivityStatus.VERIFIED.value,
        )
    )  # fmt: skip
    facts: dict[int, list[ActivityFact]] = {}
    for id_, teacher_id, kind, starts_on, ends_on, days in rows:
        facts.setdefault(teacher_id, []).append(
            ActivityFact(id=id_, kind=kind, start=starts_on, end=ends_on, days=days)
        )
    return facts


def _member_teachers() -> ColumnElement[bool]:
    is_teacher = exists(
        select(UserRole.user_id).where(
            UserRole.user_id == User.id, UserRole.role == Role.TEACHER.value
        )
    )
    return and_(
        User.is_active_account.is_(True),
        User.institution_id.is_not(None),
        User.department_id.is_not(None),
        is_teacher,
    )


def teachers_for_offer(offer: PlacementOffer, as_of: date) -> list[Candidate]:
    """Member-college teachers whose gap and sector fit and whose dates are free.

    The most days still needed first. Bounded: about eight queries whatever the
    number of teachers.
    """
    # Preselect from the stored standings (kept current by the nightly job and
    # the change listener): those not dual-qualified in 12 months first, then
    # not now; the engine then measures each one's practice days exactly.
    rows = db.session.execute(
        select(User.id, User.display_name, User.institution_id,
               Department.name, Institution.name)
        .join(Department, Department.id == User.department_id)
        .join(Institution, Institution.id == User.institution_id)
        .outerjoin(TeacherStanding, TeacherStanding.teacher_id == User.id)
        .where(_member_teachers(), _sector_fits(offer.sector))
        .order_by(
            func.coalesce(TeacherStanding.qualified_in_12, False),
            func.coalesce(TeacherStanding.qualified_now, False),
            User.id,
        )
        .limit(POOL)
    ).all()  # fmt: skip
    busy = busy_teachers([r[0] for r in rows], offer.starts_on, offer.ends_on)
    free = [r for r in rows if r[0] not in busy]
    needed = practice_needed(((r[0], r[2]) for r in free), as_of)
    found = [
        Candidate(r[0], r[1], r[3], r[4], needed[r[0]] or 0)
        for r in free
        if (needed[r[0]] or 0) > 0
    ]
    found.sort(key=lambda c: (-c.needed, c.name, c.teacher_id))
    return found[:SHOWN]


REQUIREMENT_KIND = "enterprise_placement"


def offers_for_teacher(teacher: User, as_of: date) -> list[Suggestion]:
    """Open offers with a free seat that close the teacher's gap soonest.

    The gap is measured here (:func:`practice_gap`); see :func:`offers_closing`.
    """
    gap = practice_gap(teacher, as_of)
    if gap is None:
        return []
    return offers_closing(teacher, gap[0], gap[1], as_of)


def practice_gap(teacher: User, as_of: date) -> tuple[Requirement, int | float] | None:
    """The practice requirement of the teacher's college and the days still needed.

    None: no college, or its ruleset has no single enterprise-practice
    requirement. Two queries.
    """
    if teacher.institution_id is None:
        return None
    active = active_rulesets_for([teacher.institution_id])[teacher.institution_id]
    practice = practice_ruleset(active.ruleset)
    if practice is None:
        return None
    facts = _facts([teacher.id], set(practice[1].kinds)).get(teacher.id, [])
    return practice[1], missing_days(practice, facts, as_of)


@functools.cache
def _open_offers_statement() -> Select[PlacementOffer, int]:
    """:func:`offers_closing`'s query, built once per process (the dashboard runs
    it on every view, and building it cost more than running it)."""
    held = seats_held().label("held")
    declared = select(DepartmentSector.sector).where(
        DepartmentSector.department_id == bindparam("department_id")
    )
    mine = select(PlacementRequest.id).where(
        PlacementRequest.offer_id == PlacementOffer.id,
        PlacementRequest.teacher_id == bindparam("teacher_id"),
        PlacementRequest.status.in_(SEAT_HOLDING),
    )
    return (
        select(PlacementOffer, held)
        .options(joinedload(PlacementOffer.enterprise))
        .where(
            PlacementOffer.status == OfferStatus.OPEN.value,
            PlacementOffer.starts_on > bindparam("as_of", type_=Date()),
            held < PlacementOffer.seats, ~exists(mine),
            # The department's sectors, when it names any.
            or_(~exists(declared), PlacementOffer.sector.in_(declared.scalar_subquery())),
        )
        .order_by(PlacementOffer.starts_on, PlacementOffer.id)
        .limit(OFFER_POOL)
    )  # fmt: skip


def offers_closing(
    teacher: User,
    requirement: Requirement,
    gap: int | float,
    as_of: date,
    limit: int | None = None,
) -> list[Suggestion]:
    """Open offers with a free seat that close ``gap`` days of ``requirement`` soonest.

    Each suggestion credits practice days (the gap shrinks), starts after
    ``as_of``, fits the teacher's department's sectors, and its dates conflict
    with nothing of the teacher's: no open placement, no seat held, no event
    registration. Ordered by the days still needed after it, then the earliest
    end; at most ``limit``. Only teachers of a member college (with a college)
    get any. Three queries whatever the number of offers (their enterprises
    are loaded with them).
    """
    if gap <= 0 or teacher.institution_id is None:
        return []
    offers = db.session.execute(
        _open_offers_statement(),
        {
            "teacher_id": teacher.id,
            "department_id": teacher.department_id,
            "as_of": as_of,
        },
    ).all()
    if not offers:
        return []
    first = min(o.starts_on for o, _ in offers)
    last = max(o.ends_on for o, _ in offers)
    taken = _taken_spans(teacher.id, first, last)
    events = registered_events(teacher.id, first, last)
    found = []
    for offer, held_now in offers:
        if any(s <= offer.ends_on and e >= offer.starts_on for s, e in taken):
            continue
        span_start, span_end = span_utc(offer.starts_on, offer.ends_on)
        if any(occurrence_within(e, span_start, span_end) for e in events):
            continue
        credit = min(offer_credit(requirement, offer), gap)
        if credit > 0:
            found.append(
                Suggestion(offer, offer.seats - held_now, credit, gap - credit)
            )
    found.sort(key=lambda s: (s.needed_after, s.offer.ends_on, s.offer.id))
    return found if limit is None else found[:limit]


def _taken_spans(teacher_id: int, first: date, last: date) -> list[tuple[date, date]]:
    """Spans of the teacher's open placements and of seats held (one query)."""
    placements = select(Placement.starts_on, Placement.ends_on).where(
        Placement.teacher_id == teacher_id,
        Placement.status != PlacementStatus.CANCELLED.value,
        Placement.starts_on <= last,
        Placement.ends_on >= first,
    )
    held = (
        select(PlacementOffer.starts_on, PlacementOffer.ends_on)
        .join(PlacementRequest, PlacementRequest.offer_id == PlacementOffer.id)
        .where(
            PlacementRequest.teacher_id == teacher_id,
            PlacementRequest.status.in_(SEAT_HOLDING),
            PlacementOffer.starts_on <= last,
            PlacementOffer.ends_on >= first,
        )
    )
    return [(s, e) for s, e in db.session.execute(union_all(placements, held))]
