"""Teachers' and departments' progress as the pages show it, and stored evaluations.

Facts come from :mod:`.facts`, the engine runs through :mod:`.forecast`, and the
ruleset from :mod:`.records`: a dashboard goes view → cache → here → forecast →
engine, each once.

Definitions used by the pages:

- *dual-qualified* on a date: the teacher reaches the ruleset's first level
  (初级) on that date, i.e. ``evaluate(...).level is not None``.
- *ratio*: dual-qualified professional-course teachers / professional-course
  teachers (the national target is "more than half" of them).
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import Table, delete, select

from pdtracker.activities.models import ActivityStatus
from pdtracker.auth.models import User
from pdtracker.extensions import db
from pdtracker.org.models import Department
from pdtracker.org.queries import active_teachers, department_teachers
from pdtracker.progress.definitions import ActivityFact, Ruleset
from pdtracker.progress.engine import (
    ProgressReport,
    RequirementResult,
    evaluate,
    report_to_dict,
)
from pdtracker.progress.facts import (
    GATHER_BATCH,
    PlannedItem,
    TeacherFacts,
    app_zone,
    by_department,
    by_ids,
    gather,
)
from pdtracker.progress.forecast import outlook, qualified_on
from pdtracker.progress.measures import add_months, month_end
from pdtracker.progress.models import Evaluation
from pdtracker.progress.path import Opportunity, PathToNext, path_to_next
from pdtracker.progress.records import (
    ActiveRuleset,
    active_ruleset,  # noqa: F401  (callers read it here: the regional ruleset)
    active_ruleset_for,
    active_rulesets_for,
    record_builtin,
)
from pdtracker.timeutil import to_local, utcnow

TARGET_RATIO = 0.5
LAPSE_SOON_DAYS = 180
FORECAST_MONTHS = (6, 12)
HISTORY_MONTHS = 12


class LevelFacts:
    """What a status says of its level and its lapse, read off ``report`` and
    ``lapse``: shared by :class:`TeacherStatus` and the stored page rows'
    :class:`~.row_form.RowStatus`, which answer under the same names."""

    __slots__ = ()
    report: Any  # a ProgressReport or a RowReport: ``level`` is the one read here
    lapse: Any  # a RequirementResult, a RowResult or None

    @property
    def dual_qualified(self) -> bool:
        """At or above the first level."""
        return self.report.level is not None

    @property
    def lapses_on(self) -> date | None:
        """When the current level is lost unless something new is verified."""
        return None if self.lapse is None else self.lapse.lapses_on


@dataclass(frozen=True)
class TeacherStatus(LevelFacts):
    """One teacher's evaluation, with what the pages derive from it."""

    teacher: User
    professional_course: bool
    report: ProgressReport
    facts: list[ActivityFact]
    done: list[ActivityFact]  # the facts with everything planned counted as verified
    planned: list[PlannedItem]
    distance: float
    lapse: RequirementResult | None
    forecast_on: date | None
    industry_years: float = 0
    path: PathToNext | None = None
    # Rendered HTML of the dashboard's data part per (locale, zone, own page), and
    # the path's offers, shared by every copy of a cached status so a warm
    # dashboard renders only its frame.
    fragments: dict[Hashable, Any] = field(default_factory=dict, compare=False)
    # Not part of the status: the marketplace's change version, read with the
    # status's key in the same query (the path's offers are kept under it).
    market_version: int | None = field(default=None, compare=False)

    @property
    def level_rank(self) -> int:
        """0 for none, 1 for the first level, …"""
        codes = [lv.code for lv in self.report.levels]
        return 0 if self.report.level is None else codes.index(self.report.level) + 1

    def helps(self, item: PlannedItem, ruleset: Ruleset) -> list[RequirementResult]:
        """The unmet requirements of the next level that a planned item counts for."""
        return [
            r for r in self.report.next_level_missing()
            if ruleset.requirement(r.code).matches(item.fact)
        ]  # fmt: skip


class _Profile(Protocol):
    @property
    def is_professional_course(self) -> bool: ...
    @property
    def prior_industry_years(self) -> int: ...


class _Teacher(Protocol):
    """What the status helpers read: a User, or the page cache's detached snapshot."""

    @property
    def teacher_profile(self) -> _Profile | None: ...


def is_professional(user: _Teacher) -> bool:
    # No profile yet: assume a professional-course teacher, as the profile defaults.
    profile = user.teacher_profile
    return True if profile is None else profile.is_professional_course


def industry_years(user: _Teacher) -> float:
    """Years of industry work before joining (the ``profile_years`` measure)."""
    profile = user.teacher_profile
    return 0 if profile is None else profile.prior_industry_years or 0


def status_for(
    teacher: User,
    entry: TeacherFacts | None,
    ruleset: Ruleset,
    as_of: date,
    professional: bool | None = None,
    years: float | None = None,
    opportunities: Sequence[Opportunity] | None = None,
) -> TeacherStatus:
    """Evaluate one teacher from already-loaded facts (no queries).

    With ``opportunities`` (events open to the teacher), the status carries the
    path to the next level too.
    """
    entry = entry or TeacherFacts()
    if professional is None:
        professional = is_professional(teacher)
    if years is None:
        years = industry_years(teacher)
    seen = outlook(
        ruleset, entry.facts, as_of, professional_course=professional,
        industry_years=years,
    )  # fmt: skip
    return TeacherStatus(
        teacher=teacher,
        professional_course=professional,
        report=seen.report,
        facts=entry.facts,
        done=seen.done,
        planned=entry.planned,
        distance=seen.distance,
        lapse=seen.lapse,
        forecast_on=seen.forecast_on,
        industry_years=years,
        path=None
        if opportunities is None
        else path_to_next(
            ruleset, entry.facts, seen.report, opportunities,
            professional_course=professional, industry_years=years,
        ),
    )  # fmt: skip


def evaluate_teacher(
    user: User,
    as_of: date | None = None,
    active: ActiveRuleset | None = None,
    now: datetime | None = None,
) -> TeacherStatus:
    """A teacher's status under their college's ruleset (four or five queries)."""
    active = active or active_ruleset_for(user.institution_id)
    now = now or utcnow()
    as_of = as_of or to_local(now, app_zone()).date()
    gathered = gather(by_ids([user.id]), now)
    return status_for(user, gathered.get(user.id), active.ruleset, as_of)


@dataclass(frozen=True)
class ChartPoint:
    """The department's ratio on one date; forecast points count what is planned."""

    on: date
    qualified: int
    total: int
    forecast: bool

    @property
    def ratio(self) -> float | None:
        """Share of professional-course teachers who are dual-qualified."""
        return None if self.total == 0 else self.qualified / self.total


@dataclass(frozen=True)
class DepartmentSummary:
    """What the department dashboard and its exports show."""

    # None only inside the page cache, which serves one summary to whoever asks for
    # that department and sets the department on the way out.
    department: Department | None
    as_of: date
    ruleset: ActiveRuleset
    teachers: list[TeacherStatus]
    now: ChartPoint
    forecasts: dict[int, ChartPoint]
    history: list[ChartPoint]
    lapsing: list[TeacherStatus]
    # Rendered HTML of the data part per (locale, zone), shared by every copy of a
    # cached summary so a warm page does not render 300 rows again.
    fragments: dict[tuple[str, str], Any] = field(default_factory=dict, compare=False)

    @property
    def target(self) -> float:
        """The national target: more than half."""
        return TARGET_RATIO

    @property
    def requirements(self) -> list[tuple[str, Any]]:
        """(level code, requirement) for every requirement, lowest level first."""
        return [
            (lv.code, r) for lv in self.ruleset.ruleset.levels for r in lv.requirements
        ]


def chart_dates(as_of: date) -> tuple[list[date], list[date]]:
    """Month-ends of the last 12 months plus today; month-ends of the next 12 and the
    exact +6 and +12 month dates."""
    past = [month_end(add_months(as_of, -k)) for k in range(HISTORY_MONTHS, 0, -1)]
    future = {month_end(add_months(as_of, k)) for k in range(0, HISTORY_MONTHS + 1)}
    future |= {add_months(as_of, k) for k in FORECAST_MONTHS}
    return [*past, as_of], sorted(d for d in future if d > as_of)


# Per chart date (past, then future): does the teacher count as dual-qualified?
ChartFlags = tuple[tuple[bool, ...], tuple[bool, ...]]


def chart_flags(status: TeacherStatus, ruleset: Ruleset, as_of: date) -> ChartFlags:
    """Whether the teacher counts as dual-qualified on each chart date.

    Past dates from verified facts, future ones with everything planned done; empty
    for a teacher outside the ratio (not a professional-course teacher).
    """
    if not status.professional_course:
        return (), ()
    past, future = chart_dates(as_of)
    verified = [f for f in status.facts if f.status == ActivityStatus.VERIFIED]
    years = status.industry_years
    return (
        tuple(qualified_on(ruleset, verified, past, industry_years=years)),
        tuple(qualified_on(ruleset, status.done, future, industry_years=years)),
    )


def _points(
    statuses: Sequence[TeacherStatus],
    flags: Mapping[int, ChartFlags],
    as_of: date,
) -> dict[date, ChartPoint]:
    """The ratio on each chart date: verified facts up to today, planned ones after."""
    past, future = chart_dates(as_of)
    counts = {d: 0 for d in (*past, *future)}
    professional = [s for s in statuses if s.professional_course]
    for s in professional:
        past_flags, future_flags = flags[s.teacher.id]
        for d, ok in zip(past, past_flags, strict=True):
            counts[d] += ok
        for d, ok in zip(future, future_flags, strict=True):
            counts[d] += ok
    total = len(professional)
    return {d: ChartPoint(d, n, total, d > as_of) for d, n in counts.items()}


def summarize(
    department: Department,
    teachers: Sequence[User],
    gathered: dict[int, TeacherFacts],
    active: ActiveRuleset,
    as_of: date,
    *,
    history: bool = True,
) -> DepartmentSummary:
    """Evaluate already-loaded teachers and facts (no queries)."""
    ruleset = active.ruleset
    statuses = [status_for(t, gathered.get(t.id), ruleset, as_of) for t in teachers]
    flags = (
        {s.teacher.id: chart_flags(s, ruleset, as_of) for s in statuses}
        if history
        else {}
    )
    return assemble(department, statuses, flags, active, as_of, history=history)


def assemble(
    department: Department | None,
    statuses: Sequence[TeacherStatus],
    flags: Mapping[int, ChartFlags],
    active: ActiveRuleset,
    as_of: date,
    *,
    history: bool = True,
) -> DepartmentSummary:
    """The department's summary from its teachers' statuses and chart flags."""
    # Lowest level first, then furthest from the next one; not assessed last.
    statuses = sorted(
        statuses,
        key=lambda s: (
            not s.report.assessed, s.level_rank, -s.distance,
            s.teacher.display_name, s.teacher.id,
        ),
    )  # fmt: skip
    professional = [s for s in statuses if s.professional_course]
    now = ChartPoint(
        as_of, sum(s.dual_qualified for s in professional), len(professional), False
    )
    points = _points(statuses, flags, as_of) if history else {}
    if not history:
        forecasts: dict[int, ChartPoint] = {}
    else:
        forecasts = {k: points[add_months(as_of, k)] for k in FORECAST_MONTHS}
    soon = as_of + timedelta(days=LAPSE_SOON_DAYS)
    lapsing = sorted(
        (s for s in statuses if s.lapses_on is not None and s.lapses_on <= soon),
        key=lambda s: (s.lapses_on, s.teacher.display_name, s.teacher.id),
    )
    past, future = chart_dates(as_of)
    month_ends = [d for d in (*past, *future) if d == as_of or d == month_end(d)]
    return DepartmentSummary(
        department=department,
        as_of=as_of,
        ruleset=active,
        teachers=statuses,
        now=now,
        forecasts=forecasts,
        history=[points[d] for d in month_ends if d in points],
        lapsing=lapsing,
    )


def load_department(department_id: int, now: datetime) -> tuple[list[User], dict]:
    """The department's teachers and their facts: four queries, whatever the size."""
    teachers = department_teachers(department_id)
    return teachers, gather(by_department(department_id), now)


def evaluate_department(
    department_id: int,
    as_of: date | None = None,
    active: ActiveRuleset | None = None,
    *,
    history: bool = True,
    now: datetime | None = None,
) -> DepartmentSummary:
    """The department dashboard's numbers, in a bounded number of queries.

    Its teachers are evaluated under their college's ruleset unless ``active``
    says otherwise (the ruleset preview compares a candidate).
    """
    department = db.session.get(Department, department_id)
    if department is None:
        raise LookupError(department_id)
    active = active or active_ruleset_for(department.institution_id)
    now = now or utcnow()
    as_of = as_of or to_local(now, app_zone()).date()
    teachers, gathered = load_department(department_id, now)
    return summarize(department, teachers, gathered, active, as_of, history=history)


# --- stored evaluations ---------------------------------------------------------------


# Teachers evaluated per batch by the nightly job: their facts are all that is held
# in memory at once (about 100 activities each), whatever the institution's size.
EVALUATION_BATCH = GATHER_BATCH  # as many as one query reads well


def store_evaluations(
    department_id: int | None,
    as_of: date,
    now: datetime | None = None,
    *,
    batch: int = EVALUATION_BATCH,
) -> int:
    """Store every teacher's evaluation on ``as_of`` under their college's ruleset.

    ``department_id`` None means every department. Idempotent: a second run on
    the same date and ruleset version replaces the rows. Returns how many rows.
    Teachers are read and evaluated ``batch`` at a time (four queries each), per
    college, since each college may have its own layer.
    """
    now = now or utcnow()
    teachers = (
        department_teachers(department_id)
        if department_id is not None
        else active_teachers()
    )
    by_college: dict[int | None, list[User]] = {}
    for teacher in teachers:
        by_college.setdefault(teacher.institution_id, []).append(teacher)
    rulesets = active_rulesets_for(by_college)
    stored = 0
    for institution_id, members in by_college.items():
        active = rulesets[institution_id]
        if active.record_id is None:
            record_builtin(active.name, now)
        for start in range(0, len(members), batch):
            stored += _store_batch(members[start : start + batch], active, as_of, now)
    db.session.flush()
    return stored


def _store_batch(
    teachers: list[User], active: ActiveRuleset, as_of: date, now: datetime
) -> int:
    ids = [t.id for t in teachers]
    gathered = gather(by_ids(ids), now)
    db.session.execute(
        delete(Evaluation).where(
            Evaluation.teacher_id.in_(ids),
            Evaluation.ruleset_name == active.name,
            Evaluation.ruleset_version == active.version,
            Evaluation.as_of == as_of,
        )
    )
    rows = []
    for teacher in teachers:
        # The stored row needs the report only: no forecast, distance or lapse.
        entry = gathered.get(teacher.id) or TeacherFacts()
        report = evaluate(
            active.ruleset,
            entry.facts,
            as_of,
            professional_course=is_professional(teacher),
            industry_years=industry_years(teacher),
        )
        rows.append(
            {
                "teacher_id": teacher.id,
                "ruleset_name": active.name,
                "ruleset_version": active.version,
                "as_of": as_of,
                "assessed": report.assessed,
                "level": report.level,
                "report": report_to_dict(report),
                "computed_at": now,
            }
        )
    if rows:
        table = Evaluation.__table__
        assert isinstance(table, Table)  # a mapped class's table, for Core's insert
        db.session.execute(table.insert(), rows)
    return len(rows)


def stored_evaluations(teacher_id: int) -> list[Evaluation]:
    """A teacher's stored evaluations, newest first."""
    return list(
        db.session.scalars(
            select(Evaluation)
            .where(Evaluation.teacher_id == teacher_id)
            .order_by(Evaluation.as_of.desc(), Evaluation.id.desc())
        )
    )
