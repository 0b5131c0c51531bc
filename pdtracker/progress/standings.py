"""Stored standings: every active teacher's status, re-evaluated only when it can change.

A standing (:class:`~pdtracker.progress.standings_models.TeacherStanding`) holds a
teacher's level, whether they are dual-qualified now and in 12 months (if
everything planned happens), and ``next_change_on``: the first date on which
either answer may differ with the same records (a window lapses, a requirement
is first met, the 12-month look-ahead reaches a date where the answer flips).

:func:`refresh` re-evaluates a teacher only when the stored row may be wrong:

- no row yet (a new teacher);
- their change version moved: :mod:`pdtracker.changes` bumps it at commit for
  every activity, placement and registration of theirs, every change of an event
  they registered for, and of their department, roles or account (the version is
  read *before* the facts, so a change committed in between is seen next time);
- their profile (professional course, industry years), department or college
  differs from the row's;
- their college's active ruleset is another version than the row's;
- ``next_change_on`` is today or earlier, or ``facts_expire_at`` has passed (a
  registered event ended: its seat no longer counts as planned).

Anything else cannot change the stored answers, so skipping it is exact; the
tests check that the incremental job agrees with a full run on generated
histories. A full run (``full=True``) re-evaluates everyone. Teachers who are no
longer active teachers lose their row.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from flask import Flask, current_app
from sqlalchemy import (
    String,
    Table,
    and_,
    cast,
    literal,
    select,
)

from pdtracker.auth.models import Role, User, UserRole
from pdtracker.calendar.models import FeedState, teacher_feed_key
from pdtracker.database import dialect_insert
from pdtracker.extensions import db
from pdtracker.org.models import TeacherProfile
from pdtracker.org.queries import remove_inactive_teachers
from pdtracker.progress import page_rows
from pdtracker.progress.definitions import ActivityFact, Ruleset
from pdtracker.progress.engine import RequirementResult, evaluate
from pdtracker.progress.facts import (
    GATHER_BATCH,
    TeacherFacts,
    by_ids,
    gather,
    gather_each,
)
from pdtracker.progress.forecast import as_done
from pdtracker.progress.forecast import first_level_only as _first_level
from pdtracker.progress.forecast import next_change as _next_change
from pdtracker.progress.measures import LAST_DAY, add_months, add_years
from pdtracker.progress.records import ActiveRuleset, active_rulesets_for
from pdtracker.progress.standings_models import TeacherStanding
from pdtracker.timeutil import app_zone, local_today, to_local, utcnow

FORECAST_MONTHS = 12
# Teachers evaluated at once (their facts are all that is held in memory), as many
# as one query reads well (facts.GATHER_BATCH).
BATCH = GATHER_BATCH
_TEACHER_KEY_PREFIX = literal(teacher_feed_key(0).removesuffix("0"))


@dataclass(frozen=True)
class Standing:
    """What a standing row says about one teacher on ``as_of`` (pure)."""

    assessed: bool
    level: str | None
    qualified_now: bool
    qualified_in_12: bool
    next_change_on: date


def _horizon(ruleset: Ruleset, day: date) -> date:
    return min(add_years(day, ruleset.horizon_years), LAST_DAY)


def _first_day_reaching(target: date, months: int) -> date:
    """The earliest date ``d`` with ``add_months(d, months) >= target``."""
    day = add_months(target, -months)
    while add_months(day - timedelta(days=1), months) >= target:
        day -= timedelta(days=1)
    while add_months(day, months) < target:
        day += timedelta(days=1)
    return day


def evaluate_standing(
    ruleset: Ruleset,
    facts: Sequence[ActivityFact],
    as_of: date,
    *,
    professional_course: bool,
    industry_years: float,
) -> Standing:
    """The standing on ``as_of`` and the first date it may change (no queries).

    ``qualified_in_12`` equals the department page's 12-month forecast point:
    ``evaluate(ruleset, as_done(facts), add_months(as_of, 12)).level is not None``.
    """
    report = evaluate(
        ruleset, facts, as_of, professional_course=professional_course,
        industry_years=industry_years, itemized=False,
    )  # fmt: skip
    beyond = _horizon(ruleset, as_of) + timedelta(days=1)
    if not report.assessed:
        return Standing(False, None, False, False, beyond)
    horizon = _horizon(ruleset, as_of)
    change = min(
        (_next_change(level, horizon) for level in report.levels), default=beyond
    )
    ahead = add_months(as_of, FORECAST_MONTHS)
    known = _known_ahead(report.levels[0].requirements, ahead, beyond)
    if known is None:
        # The 12-month look-ahead: the first level alone, everything planned done.
        first = _first_level(ruleset, 1)
        later = evaluate(
            first, as_done(facts), ahead, professional_course=professional_course,
            industry_years=industry_years, itemized=False,
        )  # fmt: skip
        met = later.levels[0].met
        flips = _next_change(later.levels[0], _horizon(first, ahead))
    else:
        met, flips = known
    change = min(change, _first_day_reaching(flips, FORECAST_MONTHS))
    return Standing(
        assessed=True,
        level=report.level,
        qualified_now=report.level is not None,
        qualified_in_12=met,
        next_change_on=max(change, as_of + timedelta(days=1)),
    )


def _known_ahead(
    requirements: Sequence[RequirementResult], ahead: date, beyond: date
) -> tuple[bool, date] | None:
    """The first level on ``ahead`` with everything planned done, when today's
    report already decides it (else None: evaluate on that date).

    With everything planned counted as verified, each requirement credits at least
    what it credits today (the measures only grow with more activities), and its
    first met day from today is today's ``forecast_met_on`` (that search already
    counts planned and completed activities). So a requirement met today that does
    not lapse by ``ahead`` is met then, and one whose first met day lies after
    ``ahead`` is not. The date returned is no later than the next day the answer
    may differ (the soonest lapse; the latest first met day): a lower bound is
    all the standings need.
    """
    if all(
        r.met and (r.lapses_on is None or r.lapses_on > ahead) for r in requirements
    ):
        lapses = [r.lapses_on for r in requirements if r.lapses_on is not None]
        return True, min(lapses, default=beyond)
    later = [
        beyond if r.forecast_met_on is None else r.forecast_met_on
        for r in requirements
        if not r.met and (r.forecast_met_on is None or r.forecast_met_on > ahead)
    ]
    if later:
        return False, max(later)
    return None


# --- which teachers to evaluate ----------------------------------------------------


def rulesets_for(
    institution_ids: Iterable[int | None],
) -> dict[int | None, ActiveRuleset]:
    """Each college's active ruleset (its own layer, else the regional one); one query."""
    return active_rulesets_for(set(institution_ids) | {None})


def _candidates() -> list[Any]:
    """Every active teacher with what decides staleness, and their row if any."""
    version = FeedState.feed_key == _TEACHER_KEY_PREFIX.concat(cast(User.id, String))
    s = TeacherStanding
    stmt = (
        select(
            User.id, User.institution_id, User.department_id,
            TeacherProfile.is_professional_course,
            TeacherProfile.prior_industry_years, FeedState.version,
            s.teacher_id, s.institution_id, s.department_id, s.professional_course,
            s.industry_years, s.ruleset_name, s.ruleset_version, s.next_change_on,
            s.facts_expire_at, s.change_version,
        )
        .join(UserRole, and_(UserRole.user_id == User.id,
                             UserRole.role == Role.TEACHER.value))
        .outerjoin(TeacherProfile, TeacherProfile.user_id == User.id)
        .outerjoin(FeedState, version)
        .outerjoin(s, s.teacher_id == User.id)
        .where(User.is_active_account.is_(True))
        .order_by(User.id)
    )  # fmt: skip
    return list(db.session.execute(stmt))


@dataclass(frozen=True)
class _Teacher:
    id: int
    institution_id: int | None
    department_id: int | None
    professional: bool
    years: int
    version: int


def _teacher(row: Any) -> _Teacher:
    # No profile yet: a professional-course teacher, as the profile defaults.
    professional = True if row[3] is None else bool(row[3])
    return _Teacher(row[0], row[1], row[2], professional, row[4] or 0, row[5] or 0)


def _is_stale(
    row: Any, t: _Teacher, active: ActiveRuleset, today: date, now: datetime
) -> bool:
    (_id, _i, _d, _p, _y, _v, stored, inst, dept, professional, years, name,
     version, change_on, expires, seen) = row  # fmt: skip
    return (
        stored is None
        or seen != t.version
        or inst != t.institution_id
        or dept != t.department_id
        or professional != t.professional
        or years != t.years
        or (name, version) != (active.name, active.version)
        or change_on <= today
        or (expires is not None and expires <= now)
    )


# --- the job ------------------------------------------------------------------------


def refresh(
    now: datetime | None = None,
    *,
    full: bool = False,
    batch: int = BATCH,
    workers: int = 1,
) -> dict[str, int]:
    """Bring every stored standing up to date on ``now``'s local date.

    Incremental unless ``full``: only the teachers whose row may be wrong are
    evaluated (see the module docstring). Idempotent. Returns the counts for the
    scheduler's record; the caller commits. With ``workers`` > 1 (a full run from
    the command line) the teachers are evaluated by that many forked processes,
    each committing its own batches: the engine is CPU-bound, so a full run uses
    every core.
    """
    now = now or utcnow()
    today = to_local(now, app_zone()).date()
    rows = _candidates()
    teachers = [_teacher(row) for row in rows]
    rulesets = rulesets_for(t.institution_id for t in teachers)
    due = [
        t
        for row, t in zip(rows, teachers, strict=True)
        if full or _is_stale(row, t, rulesets[t.institution_id], today, now)
    ]
    if workers > 1 and len(due) > batch:
        _store_in_processes(due, rulesets, today, now, batch, workers)
    else:
        for start in range(0, len(due), batch):
            _store(due[start : start + batch], rulesets, today, now)
    removed = remove_inactive_teachers(TeacherStanding.teacher_id)
    return {
        "standings_teachers": len(rows),
        "standings_evaluated": len(due),
        "standings_removed": removed,
    }


def _store_in_processes(
    due: list[_Teacher],
    rulesets: dict[int | None, ActiveRuleset],
    today: date,
    now: datetime,
    batch: int,
    workers: int,
) -> None:
    """Evaluate ``due`` in ``workers`` forked processes, each committing its batches."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    db.session.commit()  # no transaction or connection of ours crosses the fork
    db.engine.dispose()
    fork = multiprocessing.get_context("fork")
    processes = [
        fork.Process(
            target=_work, args=(app, due[i::workers], rulesets, today, now, batch)
        )
        for i in range(workers)
    ]
    for process in processes:
        process.start()
    for process in processes:
        process.join()
    failed = [p.exitcode for p in processes if p.exitcode != 0]
    if failed:
        raise RuntimeError(f"standings: a worker process failed ({failed})")


def _work(
    app: Flask,
    teachers: list[_Teacher],
    rulesets: dict[int | None, ActiveRuleset],
    today: date,
    now: datetime,
    batch: int,
) -> None:
    """One worker process: its own connections, its share of the teachers."""
    with app.app_context():
        db.engine.dispose(close=False)  # the parent's pooled connections stay its own
        for start in range(0, len(teachers), batch):
            _store(teachers[start : start + batch], rulesets, today, now)
            db.session.commit()
        db.session.remove()


def _store(
    teachers: list[_Teacher],
    rulesets: dict[int | None, ActiveRuleset],
    today: date,
    now: datetime,
) -> None:
    gathered = gather(by_ids([t.id for t in teachers]), now)
    out = []
    for t in teachers:
        active = rulesets[t.institution_id]
        entry = gathered.get(t.id) or TeacherFacts()
        found = evaluate_standing(
            active.ruleset, entry.facts, today,
            professional_course=t.professional, industry_years=t.years,
        )  # fmt: skip
        out.append(
            {
                "teacher_id": t.id,
                "institution_id": t.institution_id,
                "department_id": t.department_id,
                "ruleset_name": active.name,
                "ruleset_version": active.version,
                "professional_course": t.professional,
                "industry_years": t.years,
                "assessed": found.assessed,
                "level": found.level,
                "qualified_now": found.qualified_now,
                "qualified_in_12": found.qualified_in_12,
                "as_of": today,
                "next_change_on": found.next_change_on,
                "facts_expire_at": entry.expires_at,
                "change_version": t.version,
                "computed_at": now,
            }
        )
    table = TeacherStanding.__table__
    assert isinstance(table, Table)  # a mapped class's table, for Core's insert
    # An upsert: a refresh from the command line while the tick runs stores the
    # same rows twice instead of failing on the key.
    insert = dialect_insert(db.session.get_bind().dialect.name)(table)
    columns = [c for c in out[0] if c != "teacher_id"]
    db.session.execute(
        insert.on_conflict_do_update(
            index_elements=[table.c.teacher_id],
            set_={c: insert.excluded[c] for c in columns},
        ),
        out,
    )


def refresh_tick(now: datetime) -> dict[str, Any]:
    """The scheduler's tick: the incremental refresh, then the stored department-page
    rows brought to today (only the teachers who have one), committed."""
    counts = refresh(now)
    db.session.commit()
    counts |= page_rows.refresh(now)
    db.session.commit()
    return counts


def compute_all(now: datetime | None = None) -> dict[int, Standing]:
    """Every active teacher's standing evaluated afresh, stored nowhere (for checks)."""
    now = now or utcnow()
    today = local_today(now)
    teachers = [_teacher(row) for row in _candidates()]
    rulesets = rulesets_for(t.institution_id for t in teachers)
    gathered = gather_each((t.id for t in teachers), now)
    return {
        t.id: evaluate_standing(
            rulesets[t.institution_id].ruleset,
            (gathered.get(t.id) or TeacherFacts()).facts,
            today,
            professional_course=t.professional,
            industry_years=t.years,
        )
        for t in teachers
    }
