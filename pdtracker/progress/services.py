"""The adapter between the database and the pure engine, for teachers and departments.

Facts come from three tables, each read once for any number of teachers:
activities (the log), approved or running placements not credited yet (planned
enterprise practice) and seats at published events still to come (planned
activities of the event's kind and hours).

Definitions used by the pages:

- *dual-qualified* on a date: the teacher reaches the ruleset's first level
  (初级) on that date, i.e. ``evaluate(...).level is not None``.
- *ratio*: dual-qualified professional-course teachers / professional-course
  teachers (the national target is "more than half" of them).
- *forecast on a date D*: the engine run at ``as_of=D`` with planned and
  completed activities treated as verified, i.e. as if everything planned
  happens as planned and gets verified.
- *distance to the next level*: the sum, over the next level's unmet
  requirements, of the share still missing (0 … number of requirements).
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import ColumnElement, delete, func, select
from sqlalchemy.orm import joinedload, lazyload

from pdtracker.activities.models import Activity, ActivityKind, ActivityStatus
from pdtracker.audit import record
from pdtracker.auth.models import Role, User, UserRole
from pdtracker.events.models import Event, EventStatus, Registration, RegistrationStatus
from pdtracker.extensions import db
from pdtracker.org.models import Department
from pdtracker.placements.models import Enterprise, Placement, PlacementStatus
from pdtracker.progress.models import (
    Evaluation,
    RulesetFormat,
    RulesetRecord,
    RulesetStatus,
)
from pdtracker.progress.rules import (
    ActivityFact,
    LevelResult,
    ProgressReport,
    RequirementResult,
    Ruleset,
    add_years,
    evaluate,
    report_to_dict,
)
from pdtracker.progress.ruleset import (
    DEFAULT_RULESET,
    builtin_text,
    detect_format,
    parse_ruleset,
)
from pdtracker.timeutil import to_local, utcnow

TARGET_RATIO = 0.5
LAPSE_SOON_DAYS = 180
FORECAST_MONTHS = (6, 12)
HISTORY_MONTHS = 12
# The walks below move forward at least one day per engine run; this bounds them.
MAX_WALK_STEPS = 60
PLANNED_STATUSES = frozenset({ActivityStatus.PLANNED, ActivityStatus.COMPLETED})


# --- rulesets ---------------------------------------------------------------------


@dataclass(frozen=True)
class ActiveRuleset:
    """The ruleset pages use, with the database version it came from."""

    ruleset: Ruleset
    name: str
    version: int
    record_id: int | None  # None: the built-in default, not recorded yet


class RulesetLocked(Exception):
    """A published ruleset version cannot be changed."""


class DraftRenamed(ValueError):
    """A new document for a draft must keep the draft's name."""


def _with_version(ruleset: Ruleset, version: int) -> Ruleset:
    """The database version is authoritative; reports carry it."""
    return replace(ruleset, version=str(version))


@functools.cache
def _builtin_active() -> ActiveRuleset:
    # The shipped document never changes while the process runs: parse it once.
    text = builtin_text(DEFAULT_RULESET)
    ruleset = parse_ruleset(text, "toml", resolve=builtin_text)
    return ActiveRuleset(_with_version(ruleset, 1), ruleset.name, 1, None)


def _published_records() -> list[RulesetRecord]:
    return list(
        db.session.scalars(
            select(RulesetRecord).where(
                RulesetRecord.status == RulesetStatus.PUBLISHED.value
            )
        )
    )


def _resolver(
    records: Sequence[RulesetRecord], start: RulesetRecord | None
) -> Callable[[str], str]:
    """Resolve ``extends``: a published record's pinned parents, else the newest.

    A published version keeps evaluating the same way: its parent is the version
    it was published against. A draft builds on the newest published version of
    its parent, or on the built-in ruleset of that name.
    """
    by_key = {(r.name, r.version): r for r in records}
    newest: dict[str, RulesetRecord] = {}
    for r in records:
        if r.name not in newest or r.version > newest[r.name].version:
            newest[r.name] = r
    pinned: dict[str, RulesetRecord] = {}
    current = start
    while current is not None and current.extends and current.extends_version:
        parent = by_key.get((current.extends, current.extends_version))
        if parent is None or parent.name in pinned:
            break
        pinned[parent.name] = parent
        current = parent

    def resolve(name: str) -> str:
        found = pinned.get(name) or newest.get(name)
        return found.document if found is not None else builtin_text(name)

    return resolve


def parse_record(
    rec: RulesetRecord, published: Sequence[RulesetRecord] | None = None
) -> Ruleset:
    """Parse a stored ruleset (its extends chain resolved); RulesetError if bad."""
    if published is None:
        published = _published_records() if rec.extends else []
    ruleset = parse_ruleset(
        rec.document,
        rec.format,
        resolve=_resolver(published, rec),
        known_kinds=None,
    )
    return _with_version(ruleset, rec.version)


_PARSED_LOCK = threading.Lock()
_PARSED_SIZE = 8


def active_ruleset() -> ActiveRuleset:
    """The active published ruleset, else the built-in default.

    One small query; the document is read and parsed only the first time a version
    is seen by this app. Published versions never change, and the count of published
    versions in the key covers a parent published later (``extends`` resolves to it).
    """
    published = (
        select(func.count())
        .select_from(RulesetRecord)
        .where(RulesetRecord.status == RulesetStatus.PUBLISHED.value)
        .scalar_subquery()
    )
    row = db.session.execute(
        select(RulesetRecord.id, RulesetRecord.name, RulesetRecord.version, published)
        .where(RulesetRecord.is_active)
    ).first()  # fmt: skip
    if row is None:
        return _builtin_active()
    key = tuple(row)
    parsed: dict = current_app.extensions.setdefault("progress_rulesets", {})
    found = parsed.get(key)
    if found is None:
        rec = db.session.get(RulesetRecord, row[0])
        found = ActiveRuleset(parse_record(rec), rec.name, rec.version, rec.id)
        with _PARSED_LOCK:
            if len(parsed) >= _PARSED_SIZE:
                parsed.clear()  # a new version is rare: no need for an LRU here
            parsed[key] = found
    return found


def known_kinds() -> frozenset[str]:
    """Activity kind codes a ruleset may name."""
    return frozenset(db.session.scalars(select(ActivityKind.code)))


def _next_version(name: str) -> int:
    top = db.session.scalar(
        select(func.max(RulesetRecord.version)).where(RulesetRecord.name == name)
    )
    return (top or 0) + 1


def record_builtin(name: str, now: datetime) -> RulesetRecord | None:
    """Record a shipped ruleset as published version 1 if its name is not stored yet.

    It becomes active when no ruleset is; returns the new row, or None.
    """
    exists = db.session.scalar(
        select(RulesetRecord.id).where(RulesetRecord.name == name).limit(1)
    )
    if exists is not None:
        return None
    try:
        text = builtin_text(name)
    except LookupError:
        return None
    has_active = db.session.scalar(
        select(RulesetRecord.id).where(RulesetRecord.is_active).limit(1)
    )
    parsed = parse_ruleset(text, "toml", resolve=builtin_text)
    rec = RulesetRecord(
        name=name,
        version=1,
        document=text,
        format=RulesetFormat.TOML.value,
        extends=parsed.extends,
        status=RulesetStatus.PUBLISHED.value,
        is_active=has_active is None,
        published_at=now,
        created_at=now,
    )
    db.session.add(rec)
    db.session.flush()
    record(None, "ruleset.record_builtin", "ruleset", rec.id, now=now, name=name)
    return rec


def validate_document(text: str, fmt: str | None) -> tuple[Ruleset, str]:
    """Parse an uploaded document as a draft would be; return it and its format."""
    fmt = (fmt or detect_format(text)).lower()
    fmt = RulesetFormat.YAML.value if fmt == "yml" else fmt
    ruleset = parse_ruleset(
        text,
        fmt,
        resolve=_resolver(_published_records(), None),
        known_kinds=known_kinds(),
    )
    return ruleset, fmt


def create_draft(
    text: str, fmt: str | None, *, actor: User, now: datetime
) -> RulesetRecord:
    """Validate a document and store it as the next draft version of its name."""
    ruleset, fmt = validate_document(text, fmt)
    # Record shipped rulesets first, so versions count on from them and parents pin.
    for name in {ruleset.name, ruleset.extends} - {None}:
        record_builtin(name, now)
    rec = RulesetRecord(
        name=ruleset.name,
        version=_next_version(ruleset.name),
        document=text,
        format=fmt,
        extends=ruleset.extends,
        status=RulesetStatus.DRAFT.value,
        created_by_id=actor.id,
        created_at=now,
    )
    db.session.add(rec)
    db.session.flush()
    record(
        actor.id, "ruleset.create", "ruleset", rec.id, now=now,
        name=rec.name, version=rec.version,
    )  # fmt: skip
    return rec


def update_draft(
    rec: RulesetRecord, text: str, fmt: str | None, *, actor: User, now: datetime
) -> RulesetRecord:
    """Replace a draft's document; published versions are refused."""
    if rec.is_published:
        raise RulesetLocked(rec.id)
    ruleset, fmt = validate_document(text, fmt)
    if ruleset.name != rec.name:
        raise DraftRenamed(ruleset.name)
    rec.document, rec.format, rec.extends = text, fmt, ruleset.extends
    db.session.flush()
    record(
        actor.id, "ruleset.update", "ruleset", rec.id, now=now,
        name=rec.name, version=rec.version,
    )  # fmt: skip
    return rec


def publish(rec: RulesetRecord, *, actor: User, now: datetime) -> RulesetRecord:
    """Publish a draft: pin its parent version, freeze it and make it active."""
    if rec.is_published:
        raise RulesetLocked(rec.id)
    published = _published_records()
    parse_record(rec, published)  # still valid against today's parents
    if rec.extends:
        parents = [r.version for r in published if r.name == rec.extends]
        rec.extends_version = max(parents) if parents else None
    previous = db.session.scalar(select(RulesetRecord).where(RulesetRecord.is_active))
    if previous is not None:
        previous.is_active = False
        db.session.flush()  # the partial unique index allows one active row
    rec.status = RulesetStatus.PUBLISHED.value
    rec.published_at = now
    rec.published_by_id = actor.id
    rec.is_active = True
    db.session.flush()
    record(
        actor.id, "ruleset.publish", "ruleset", rec.id, now=now,
        name=rec.name, version=rec.version,
        replaced=None if previous is None else previous.id,
    )  # fmt: skip
    return rec


def list_rulesets() -> list[RulesetRecord]:
    """Every stored version, newest first per name."""
    return list(
        db.session.scalars(
            select(RulesetRecord).order_by(
                RulesetRecord.name, RulesetRecord.version.desc()
            )
        )
    )


# --- facts ------------------------------------------------------------------------


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


def _by_ids(ids: Iterable[int]) -> TeacherFilter:
    wanted = sorted(set(ids))
    return lambda column: column.in_(wanted)


def _by_department(department_id: int) -> TeacherFilter:
    members = select(User.id).where(User.department_id == department_id)
    return lambda column: column.in_(members.scalar_subquery())


def _zone() -> ZoneInfo:
    return ZoneInfo(current_app.config.get("TIMEZONE", "Asia/Shanghai"))


def local_today() -> date:
    """Today in the deployment's time zone."""
    return to_local(utcnow(), _zone()).date()


def _number(value: Any) -> float | None:
    return None if value is None else float(value)


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
        fact = ActivityFact(
            id=id_, kind=kind, start=start, end=end,
            hours=None if hours is None else float(hours),
            days=None if days is None else float(days),
            role=role, grade=grade, status=status,
        )  # fmt: skip
        entry = out.get(teacher_id)
        if entry is None:
            entry = out[teacher_id] = TeacherFacts()
        entry.facts.append(fact)
        if status == planned and fact.last_day >= today:
            entry.planned.append(PlannedItem("activity", title, fact))


def _placement_rows(where: TeacherFilter, out: dict[int, TeacherFacts]) -> None:
    rows = db.session.execute(
        select(
            Placement.id, Placement.teacher_id, Placement.starts_on,
            Placement.ends_on, Enterprise.name,
        )
        .join(Enterprise, Enterprise.id == Placement.enterprise_id)
        .where(
            where(Placement.teacher_id),
            Placement.status.in_(
                [PlacementStatus.APPROVED.value, PlacementStatus.IN_PROGRESS.value]
            ),
            Placement.activity_id.is_(None),
        )
    )  # fmt: skip
    for id_, teacher_id, start, end, enterprise in rows:
        fact = ActivityFact(
            id=f"placement:{id_}", kind="enterprise_placement", start=start, end=end,
            # Completion credits the calendar days of the span.
            days=float((end - start).days + 1), status=ActivityStatus.PLANNED.value,
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
    zone = _zone()
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


def _gather(where: TeacherFilter, now: datetime) -> dict[int, TeacherFacts]:
    """Three queries, whatever the number of teachers."""
    out: dict[int, TeacherFacts] = {}
    _activity_rows(where, to_local(now, _zone()).date(), out)
    _placement_rows(where, out)
    _registration_rows(where, now, out)
    for entry in out.values():
        entry.planned.sort(key=lambda p: (p.fact.start, p.key))
    return out


def facts_for_teachers(
    teacher_ids: Iterable[int], now: datetime | None = None
) -> dict[int, list[ActivityFact]]:
    """Engine facts per teacher: logged, placements to come and event seats to come."""
    gathered = _gather(_by_ids(teacher_ids), now or utcnow())
    return {teacher_id: entry.facts for teacher_id, entry in gathered.items()}


def as_done(facts: Iterable[ActivityFact]) -> list[ActivityFact]:
    """Planned and completed activities counted as verified: the forecast's premise."""
    return [
        replace(f, status=ActivityStatus.VERIFIED.value)
        if f.status in PLANNED_STATUSES
        else f
        for f in facts
    ]


# --- evaluating -------------------------------------------------------------------


def add_months(d: date, months: int) -> date:
    """Shift by whole months, clamping the day to the month's end."""
    month = d.month - 1 + months
    year, month = d.year + month // 12, month % 12 + 1
    for day in (d.day, 30, 29, 28):
        try:
            return date(year, month, day)
        except ValueError:
            continue
    raise AssertionError("unreachable")


def month_end(d: date) -> date:
    """Last day of d's month."""
    return add_months(d.replace(day=1), 1) - timedelta(days=1)


def _first_level(ruleset: Ruleset, years: int) -> Ruleset:
    """The lowest level alone, searched ``years`` ahead: enough to say 'qualified'."""
    return replace(
        ruleset,
        levels=ruleset.levels[:1],
        horizon_years=max(1, min(ruleset.horizon_years, years)),
    )


def _next_change(level: LevelResult, horizon_end: date) -> date:
    """The first day the level's met/unmet state may differ from the evaluation day's.

    Met: the earliest lapse. Unmet: every unmet requirement stays unmet before its
    own first forecast day, so the latest of those (any None: beyond the horizon).
    """
    beyond = horizon_end + timedelta(days=1)
    if level.met:
        return min(
            (r.lapses_on for r in level.requirements if r.lapses_on), default=beyond
        )
    firsts = [r.forecast_met_on for r in level.requirements if not r.met]
    if any(d is None for d in firsts):
        return beyond
    return max(d for d in firsts if d is not None)


def qualified_on(
    ruleset: Ruleset,
    facts: Sequence[ActivityFact],
    dates: Sequence[date],
    *,
    professional_course: bool = True,
) -> list[bool]:
    """Whether the first level is reached on each (sorted) date.

    Equal to ``evaluate(ruleset, facts, d).level is not None`` for every d, but
    runs the engine only where the state can change, so a year of month-ends
    costs one or two runs.
    """
    if not dates:
        return []
    span = (dates[-1] - dates[0]).days // 365 + 1
    first = _first_level(ruleset, span)
    out: list[bool] = []
    while len(out) < len(dates):
        day = dates[len(out)]
        report = evaluate(first, facts, day, professional_course=professional_course)
        if not report.assessed:
            return [False] * len(dates)
        level = report.levels[0]
        change = _next_change(level, add_years(day, first.horizon_years))
        out.append(level.met)  # exact for this day, even if the next change is today
        while len(out) < len(dates) and dates[len(out)] < change:
            out.append(level.met)
    return out


def forecast_reach(
    ruleset: Ruleset,
    facts: Sequence[ActivityFact],
    report: ProgressReport,
    *,
    professional_course: bool = True,
    done: Sequence[ActivityFact] | None = None,
) -> date | None:
    """The first date the next level is reached if everything planned happens.

    None when the teacher holds the top level or when what is planned is not
    enough within the ruleset's horizon.
    """
    target = report.next_level
    if target is None:
        return None
    index = [lv.code for lv in report.levels].index(target.code)
    upto = replace(ruleset, levels=ruleset.levels[: index + 1])
    done = as_done(facts) if done is None else done
    end = add_years(report.as_of, ruleset.horizon_years)
    day = report.as_of
    current = report
    for _ in range(MAX_WALK_STEPS):
        if current.levels[index].reached:
            return day
        unmet = [
            r
            for lv in current.levels[: index + 1]
            for r in lv.requirements
            if not r.met
        ]
        firsts = [r.forecast_met_on for r in unmet]
        if any(d is None for d in firsts):
            return None
        day = max(d for d in firsts if d is not None)
        if day > end:
            return None
        current = evaluate(upto, done, day, professional_course=professional_course)
    return None


def distance_to_next(report: ProgressReport) -> float:
    """Sum over the next level's unmet requirements of the share still missing."""
    return round(sum(1 - r.share for r in report.next_level_missing()), 4)


def _earliest_lapse(report: ProgressReport) -> RequirementResult | None:
    """The requirement of a reached level that stops being met first."""
    lapsing = [
        r
        for lv in report.levels
        if lv.reached
        for r in lv.requirements
        if r.lapses_on is not None
    ]
    return min(lapsing, key=lambda r: (r.lapses_on, r.code), default=None)


def next_lapses(report: ProgressReport) -> list[RequirementResult]:
    """Every met requirement with a lapse date, soonest first."""
    met = [
        r for lv in report.levels for r in lv.requirements if r.lapses_on is not None
    ]
    return sorted(met, key=lambda r: (r.lapses_on, r.code))


@dataclass(frozen=True)
class TeacherStatus:
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
    # Rendered HTML of the dashboard's data part per (locale, zone, own page), shared
    # by every copy of a cached status so a warm dashboard renders only its frame.
    fragments: dict[tuple[str, str, bool], Any] = field(
        default_factory=dict, compare=False
    )

    @property
    def dual_qualified(self) -> bool:
        """At or above the first level."""
        return self.report.level is not None

    @property
    def lapses_on(self) -> date | None:
        """When the current level is lost unless something new is verified."""
        return None if self.lapse is None else self.lapse.lapses_on

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


def _professional(user: User) -> bool:
    # No profile yet: assume a professional-course teacher, as the profile defaults.
    profile = user.teacher_profile
    return True if profile is None else profile.is_professional_course


def status_for(
    teacher: User,
    entry: TeacherFacts | None,
    ruleset: Ruleset,
    as_of: date,
    professional: bool | None = None,
) -> TeacherStatus:
    """Evaluate one teacher from already-loaded facts (no queries)."""
    entry = entry or TeacherFacts()
    if professional is None:
        professional = _professional(teacher)
    report = evaluate(ruleset, entry.facts, as_of, professional_course=professional)
    done = as_done(entry.facts)
    return TeacherStatus(
        teacher=teacher,
        professional_course=professional,
        report=report,
        facts=entry.facts,
        done=done,
        planned=entry.planned,
        distance=distance_to_next(report),
        lapse=_earliest_lapse(report),
        forecast_on=forecast_reach(
            ruleset, entry.facts, report, professional_course=professional, done=done
        ),
    )


def evaluate_teacher(
    user: User,
    as_of: date | None = None,
    active: ActiveRuleset | None = None,
    now: datetime | None = None,
) -> TeacherStatus:
    """A teacher's status under the active ruleset (four or five queries)."""
    active = active or active_ruleset()
    now = now or utcnow()
    as_of = as_of or to_local(now, _zone()).date()
    gathered = _gather(_by_ids([user.id]), now)
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

    department: Department
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


def department_teachers(department_id: int) -> list[User]:
    """Active teachers of a department with their profiles (one query)."""
    return list(
        db.session.scalars(
            select(User)
            .join(UserRole, UserRole.user_id == User.id)
            .options(joinedload(User.teacher_profile), lazyload(User.roles))
            .where(
                User.department_id == department_id,
                User.is_active_account.is_(True),
                UserRole.role == Role.TEACHER.value,
            )
            .order_by(User.display_name, User.id)
        ).unique()
    )


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
    return (
        tuple(qualified_on(ruleset, verified, past)),
        tuple(qualified_on(ruleset, status.done, future)),
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
    return teachers, _gather(_by_department(department_id), now)


def evaluate_department(
    department_id: int,
    as_of: date | None = None,
    active: ActiveRuleset | None = None,
    *,
    history: bool = True,
    now: datetime | None = None,
) -> DepartmentSummary:
    """The department dashboard's numbers, in a bounded number of queries."""
    department = db.session.get(Department, department_id)
    if department is None:
        raise LookupError(department_id)
    active = active or active_ruleset()
    now = now or utcnow()
    as_of = as_of or to_local(now, _zone()).date()
    teachers, gathered = load_department(department_id, now)
    return summarize(department, teachers, gathered, active, as_of, history=history)


# --- stored evaluations ---------------------------------------------------------------


# Teachers evaluated per batch by the nightly job: their facts are all that is held
# in memory at once (about 100 activities each), whatever the institution's size.
EVALUATION_BATCH = 1000


def store_evaluations(
    department_id: int | None,
    as_of: date,
    now: datetime | None = None,
    *,
    batch: int = EVALUATION_BATCH,
) -> int:
    """Store every teacher's evaluation on ``as_of`` under the active ruleset.

    ``department_id`` None means every department. Idempotent: a second run on
    the same date and ruleset version replaces the rows. Returns how many rows.
    Teachers are read and evaluated ``batch`` at a time (four queries each).
    """
    now = now or utcnow()
    active = active_ruleset()
    if active.record_id is None:
        record_builtin(active.name, now)
    teachers = (
        department_teachers(department_id)
        if department_id is not None
        else _all_teachers()
    )
    stored = 0
    for start in range(0, len(teachers), batch):
        stored += _store_batch(teachers[start : start + batch], active, as_of, now)
    db.session.flush()
    return stored


def _store_batch(
    teachers: list[User], active: ActiveRuleset, as_of: date, now: datetime
) -> int:
    ids = [t.id for t in teachers]
    gathered = _gather(_by_ids(ids), now)
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
            professional_course=_professional(teacher),
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
        db.session.execute(Evaluation.__table__.insert(), rows)
    return len(rows)


def _all_teachers() -> list[User]:
    return list(
        db.session.scalars(
            select(User)
            .join(UserRole, UserRole.user_id == User.id)
            .options(joinedload(User.teacher_profile), lazyload(User.roles))
            .where(
                User.is_active_account.is_(True),
                UserRole.role == Role.TEACHER.value,
            )
            .order_by(User.id)
        ).unique()
    )


def stored_evaluations(teacher_id: int) -> list[Evaluation]:
    """A teacher's stored evaluations, newest first."""
    return list(
        db.session.scalars(
            select(Evaluation)
            .where(Evaluation.teacher_id == teacher_id)
            .order_by(Evaluation.as_of.desc(), Evaluation.id.desc())
        )
    )
