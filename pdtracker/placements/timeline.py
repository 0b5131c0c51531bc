"""The placement timeline: a department's teachers × the coming months."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from pdtracker.activities.models import Activity, ActivityStatus
from pdtracker.auth.models import User
from pdtracker.dates import month_end, next_month
from pdtracker.extensions import db
from pdtracker.org.models import Department
from pdtracker.org.queries import department_teachers
from pdtracker.placements.counting import (
    PRACTICE,
    CountingRule,
    confirmed_days,
    placement_days,
    practice_requirement,
    rule_of,
)
from pdtracker.placements.models import Placement, PlacementStatus
from pdtracker.progress.engine import (
    ActivityFact,
    Level,
    Requirement,
    Ruleset,
    evaluate,
)
from pdtracker.progress.records import active_ruleset_for
from pdtracker.progress.rulebook import load_builtin

MONTHS = 18
REQUIREMENT = PRACTICE


@dataclass(frozen=True)
class Slot:
    """One placement's credited days inside one month."""

    placement_id: int
    days: int
    status: str
    enterprise_name: str
    confirmed: bool = False  # the enterprise mentor's confirmed days


@dataclass
class Row:
    """One teacher: their slots per month and the practice days still needed."""

    teacher: User
    needed: int | float | None  # None: the ruleset has no enterprise-practice rule
    credited: int | float | None
    cells: list[list[Slot]] = field(default_factory=list)

    @property
    def planned_days(self) -> int:
        """Days of open placements shown in the timeline."""
        return sum(s.days for cell in self.cells for s in cell)


@dataclass(frozen=True)
class Timeline:
    """What the timeline page shows."""

    as_of: date
    months: list[date]
    required: int | float | None
    window_years: int
    rows: list[Row]
    rule: CountingRule


def practice_ruleset(full: Ruleset) -> tuple[Ruleset, Requirement] | None:
    """The enterprise-practice requirement alone, from ``full`` (None if it has none).

    Evaluating only this requirement keeps one definition (kinds, measure,
    threshold, window) while skipping work the timeline does not show.
    """
    requirement = practice_requirement(full)
    if requirement is None:
        return None
    single = replace(
        full, levels=(Level(code=REQUIREMENT, requirements=(requirement,)),)
    )
    return single, requirement


def practice_days(
    facts: list[ActivityFact], as_of: date, full: Ruleset | None = None
) -> tuple[int | float, int | float]:
    """(credited, still needed) enterprise-practice days in the window ending as_of.

    Under ``full`` (the built-in default ruleset when None).
    """
    practice = practice_ruleset(full or load_builtin())
    if practice is None:
        return 0, 0
    result = evaluate(practice[0], facts, as_of).requirement(REQUIREMENT)
    return result.credited, result.missing


def _months(as_of: date) -> list[date]:
    months = [as_of.replace(day=1)]
    while len(months) < MONTHS:
        months.append(next_month(months[-1]))
    return months


def _placements(department_id: int, first: date, last: date) -> list[Placement]:
    return list(
        db.session.scalars(
            select(Placement)
            .options(joinedload(Placement.enterprise))
            .join(User, User.id == Placement.teacher_id)
            .where(
                User.department_id == department_id,
                Placement.status != PlacementStatus.CANCELLED.value,
                Placement.starts_on <= last,
                Placement.ends_on >= first,
            )
            .order_by(Placement.starts_on, Placement.id)
        )
    )


def _facts(department_id: int, kinds: frozenset[str]) -> dict[int, list[ActivityFact]]:
    rows = db.session.execute(
        select(
            Activity.id,
            Activity.teacher_id,
            Activity.kind_code,
            Activity.starts_on,
            Activity.ends_on,
            Activity.days,
        )
        .join(User, User.id == Activity.teacher_id)
        .where(
            User.department_id == department_id,
            Activity.kind_code.in_(kinds),
            Activity.status == ActivityStatus.VERIFIED.value,
        )
    )
    facts: dict[int, list[ActivityFact]] = {}
    for id_, teacher_id, kind, starts_on, ends_on, days in rows:
        facts.setdefault(teacher_id, []).append(
            ActivityFact(id=id_, kind=kind, start=starts_on, end=ends_on, days=days)
        )
    return facts


def _slots(
    placement: Placement, months: list[date], rule: CountingRule, confirmed: int | None
) -> list[list[Slot]]:
    """The placement's credited days per month (the same count as its form's)."""
    credit = placement_days(placement, rule, confirmed)
    by_month = credit.by_month()
    name, status = placement.enterprise.name, placement.status
    return [
        [Slot(placement.id, days, status, name, credit.confirmed)] if days else []
        for days in (by_month.get(month, 0) for month in months)
    ]


def build_timeline(
    department_id: int | None, as_of: date, full: Ruleset | None = None
) -> Timeline:
    """Teachers × the next 18 months; five queries whatever the department's size.

    "Still needed" follows ``full``, by default the ruleset the department's
    college applies (its own layer, else the regional one).
    """
    months = _months(as_of)
    if full is None:
        department = (
            db.session.get(Department, department_id) if department_id else None
        )
        institution_id = department.institution_id if department else None
        full = active_ruleset_for(institution_id).ruleset
    practice = practice_ruleset(full)
    required: int | float | None = None
    window_years = full.window_years
    if practice is not None:
        required, window_years = practice[1].threshold, practice[0].window_years
    rule = rule_of(full)
    if department_id is None:
        return Timeline(as_of, months, required, window_years, [], rule)
    teachers = department_teachers(department_id)
    placements = _placements(department_id, months[0], month_end(months[-1]))
    confirmed = confirmed_days(p.id for p in placements)
    facts = {} if practice is None else _facts(department_id, practice[1].kinds)
    rows: dict[int, Row] = {}
    for teacher in teachers:
        if practice is None:
            credited, needed = None, None
        else:
            credited, needed = practice_days(facts.get(teacher.id, []), as_of, full)
        rows[teacher.id] = Row(teacher, needed, credited, cells=[[] for _ in months])
    for placement in placements:
        row = rows.get(placement.teacher_id)
        if row is None:
            continue
        slots = _slots(placement, months, rule, confirmed.get(placement.id))
        for cell, found in zip(row.cells, slots, strict=True):
            cell.extend(found)
    ordered = sorted(
        rows.values(),
        key=lambda r: (-(r.needed or 0), r.teacher.display_name, r.teacher.id),
    )
    return Timeline(as_of, months, required, window_years, ordered, rule)
