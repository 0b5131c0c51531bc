"""Per-process caches of the dashboards' evaluations, keyed by what they depend on.

Pages compute from data; a cached result is reused only while its key still holds,
so nothing is ever stale and no nightly job is needed. A key is read with one small
query per page:

- the ``feed_states`` change version of the department (or teacher). It is bumped
  at commit by :mod:`pdtracker.changes` for every created, edited or deleted
  activity, placement, registration, recognition and teacher profile of the
  department's teachers, every change of an event they registered for or of an
  enterprise they have a placement at, every role granted or revoked, a newcomer,
  and the user fields that name, move or deactivate a teacher. Core statements
  bypass that listener; changes.py requires such writers to bump;
- the local date (``as_of``) and the identity of the ruleset that applies to the
  department's (or teacher's) college: its own layer or the regional one (its own
  small query, see :func:`records.active_ruleset_for`);
- an expiry: a registered event's end, after which its seat is no longer planned.

So a warm department page reads two rows, not its teachers: with 300 teachers the
teacher rows cost more than the rest of the page (issue 16). Only when the version
moves are the teachers read again (:func:`_department_rows`), and then the page
keeps each teacher's evaluation (a *row*) under that teacher's own key, so when one
teacher logs an activity only that teacher is evaluated again, not the whole
department.

Each gunicorn worker warms its own caches (a small LRU per app). Cached statuses
keep neither the engine facts nor ORM objects: pages and exports do not read the
facts, and ORM objects belong to one request's session.
"""

from __future__ import annotations

import functools
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any

from flask import current_app
from sqlalchemy import Select, String, and_, bindparam, cast, exists, literal, select

from pdtracker.auth.models import Role, User, UserRole
from pdtracker.caching import LRU, per_app
from pdtracker.calendar.models import (
    MARKET_KEY,
    PUBLIC_FEED_KEY,
    FeedState,
    department_feed_key,
    teacher_feed_key,
)
from pdtracker.extensions import db
from pdtracker.org.models import Department, TeacherProfile
from pdtracker.papers.official import COUNTING_STATES
from pdtracker.progress import facts, page_rows, row_form, services
from pdtracker.progress.records import (
    ActiveRuleset,
    active_ruleset_for,
    active_rulesets_for,
)
from pdtracker.progress.row_form import TeacherRow
from pdtracker.progress.services import DepartmentSummary, TeacherStatus
from pdtracker.recognition.models import Recognition
from pdtracker.timeutil import local_today, utcnow

_TEACHER_KEY_PREFIX = literal(teacher_feed_key(0).removesuffix("0"))
DEPARTMENT_ENTRIES = 32
TEACHER_ENTRIES = 1024
# Teachers' department-page rows (row_form.RowStatus): a few departments' worth.
ROW_ENTRIES = 4096


# The progress pages' LRU (tests and older callers know it by this name).
LRUCache = LRU


@dataclass
class Caches:
    """The app's caches (one set per process and app)."""

    departments: LRU[Hashable, DepartmentSummary]
    teachers: LRU[Hashable, TeacherStatus]
    rows: LRU[Hashable, tuple[TeacherRow, datetime | None]]


def caches() -> Caches:
    """The current app's caches, created on first use."""
    return per_app(
        current_app,
        "progress_cache",
        lambda: Caches(LRU(DEPARTMENT_ENTRIES), LRU(TEACHER_ENTRIES), LRU(ROW_ENTRIES)),
    )


@dataclass(frozen=True)
class ProfileSnapshot:
    """The teacher profile fields pages and exports read."""

    staff_number: str
    title: str | None
    is_professional_course: bool
    prior_industry_years: int


@dataclass(frozen=True)
class TeacherSnapshot:
    """A teacher as the department page shows them, detached from any session."""

    id: int
    username: str
    display_name: str
    teacher_profile: ProfileSnapshot | None
    # Holds a recognition on the summary's date (its key reads this): the ratio
    # comparison's figure, without a query of its own.
    recognised: bool = False


def _ruleset_key(active: ActiveRuleset) -> tuple:
    return active.identity


_detached = row_form.detached


def _department_rows(
    department_ids: Sequence[int], as_of: date
) -> dict[int, list[tuple]]:
    """The departments' teachers, each with their own change version.

    One query for any number of departments; per department, its rows in page order.
    Each row also says whether the teacher holds a recognition on ``as_of``
    (as :func:`pdtracker.papers.official.recognised_on` counts them).
    """
    own_version = (
        select(FeedState.version)
        .where(FeedState.feed_key == _TEACHER_KEY_PREFIX.concat(cast(User.id, String)))
        .scalar_subquery()
    )
    recognised = exists().where(
        Recognition.teacher_id == User.id,
        Recognition.state.in_(COUNTING_STATES),
        Recognition.valid_from <= as_of,
        Recognition.valid_until >= as_of,
    )
    # Same membership and order as services.department_teachers.
    stmt = (
        select(
            User.id, User.username, User.display_name, TeacherProfile.user_id,
            TeacherProfile.staff_number, TeacherProfile.title,
            TeacherProfile.is_professional_course,
            TeacherProfile.prior_industry_years, own_version, recognised,
            User.department_id,
        )
        .join(UserRole, and_(UserRole.user_id == User.id,
                             UserRole.role == Role.TEACHER.value))
        .outerjoin(TeacherProfile, TeacherProfile.user_id == User.id)
        .where(User.department_id.in_(list(department_ids)),
               User.is_active_account.is_(True))
        .order_by(User.display_name, User.id)
    )  # fmt: skip
    rows: dict[int, list[tuple]] = {d: [] for d in department_ids}
    for row in db.session.execute(stmt):
        rows[row[-1]].append(tuple(row)[:-1])
    return rows


@functools.cache
def _versions_statement() -> Select[str, int]:
    """Built once per process: a statement is immutable, and building one costs
    more than the warm page's other work (SQLAlchemy then reuses its compiled SQL)."""
    return select(FeedState.feed_key, FeedState.version).where(
        FeedState.feed_key.in_(bindparam("keys", expanding=True))
    )


def _department_versions(department_ids: Sequence[int]) -> dict[int, int]:
    """The departments' change versions (a department never changed has none)."""
    keys = {department_feed_key(d): d for d in department_ids}
    rows = db.session.execute(_versions_statement(), {"keys": sorted(keys)})
    return {keys[key]: version for key, version in rows}


def _snapshot(row: tuple) -> TeacherSnapshot:
    id_, username, name, profile_id, staff, title, professional, years = row[:8]
    recognised = bool(row[9])
    profile = (
        None
        if profile_id is None
        else ProfileSnapshot(staff, title, professional, years)
    )
    return TeacherSnapshot(id_, username, name, profile, recognised)


def department_summary(
    department: Department,
    *,
    active: ActiveRuleset | None = None,
    now: datetime | None = None,
) -> DepartmentSummary:
    """The department dashboard's summary, from the cache while its key holds.

    Its teachers are evaluated under their college's ruleset unless ``active`` is
    given. A hit costs two queries (ruleset, version); a miss adds the teachers, and
    then evaluates only the teachers whose own key changed.
    """
    active = active or active_ruleset_for(department.institution_id)
    return department_summaries([department], {department.id: active}, now=now)[0]


def department_summaries(
    departments: Sequence[Department],
    actives: Mapping[int, ActiveRuleset] | None = None,
    *,
    now: datetime | None = None,
) -> list[DepartmentSummary]:
    """:func:`department_summary` for several departments (a college's view).

    ``actives`` maps a department id to the ruleset it is evaluated under (by
    default its college's). A warm view costs two queries whatever the number of
    departments; the teachers evaluated again have their facts read together.
    """
    if actives is None:
        by_college = active_rulesets_for(d.institution_id for d in departments)
        actives = {d.id: by_college[d.institution_id] for d in departments}
    now = now or utcnow()
    as_of = local_today(now)
    versions = _department_versions([d.id for d in departments])
    cache = caches().departments
    found: dict[int, DepartmentSummary] = {}
    keys: dict[int, tuple] = {}
    for department in departments:
        keys[department.id] = (
            department.id, as_of, _ruleset_key(actives[department.id]),
            versions.get(department.id),
        )  # fmt: skip
        hit = cache.get(keys[department.id], now)
        if hit is not None:
            found[department.id] = hit
    missing = [d for d in departments if d.id not in found]
    if missing:
        # Read after the versions: a change committed in between is in these rows,
        # kept under the older key, which no later request asks for.
        all_rows = _department_rows([d.id for d in missing], as_of)
        made = _summarize(
            [(all_rows[d.id], actives[d.id]) for d in missing], as_of, now
        )
        for department, (summary, expires) in zip(missing, made, strict=True):
            cache.put(keys[department.id], summary, expires)
            found[department.id] = summary
    # The department row itself is the caller's (names may change with no bump).
    return [replace(found[d.id], department=d) for d in departments]


def _summarize(
    groups: Sequence[tuple[list[tuple], ActiveRuleset]], as_of: date, now: datetime
) -> list[tuple[DepartmentSummary, datetime | None]]:
    """Each summary from its teachers' rows: cached ones reused, the others evaluated.

    The facts of the teachers evaluated are read in three queries, whatever their
    number and department; a summary holds no facts and no department (the caller
    adds it).
    """
    cache = caches().rows
    plans = []
    missing: list[tuple[TeacherSnapshot, tuple, ActiveRuleset]] = []
    found: dict[tuple, tuple[TeacherRow, datetime | None]] = {}
    for rows, active in groups:
        ruleset_key = _ruleset_key(active)
        teachers = [_snapshot(row) for row in rows]
        keys = [
            (
                t.id,
                as_of,
                ruleset_key,
                row[8],
                services.is_professional(t),
                services.industry_years(t),
            )  # fmt: skip
            for t, row in zip(teachers, rows, strict=True)
        ]
        for t, key in zip(teachers, keys, strict=True):
            hit = cache.get(key, now)
            if hit is None:
                missing.append((t, key, active))
            else:
                found[key] = hit
        plans.append((teachers, keys, active))
    if missing:
        found |= _stored_or_evaluated(missing, as_of, now)
    made = []
    for teachers, keys, active in plans:
        mine = [found[k] for k in keys]
        # Rows read like a TeacherStatus for all that summaries, pages and exports
        # use of one (row_form.RowStatus).
        statuses: list[Any] = [
            r.status.with_teacher(t) for t, (r, _e) in zip(teachers, mine, strict=True)
        ]
        flags = {t.id: r.flags for t, (r, _e) in zip(teachers, mine, strict=True)}
        summary = services.assemble(None, statuses, flags, active, as_of)
        expiries = [e for _r, e in mine if e is not None]
        made.append((summary, min(expiries, default=None)))
    return made


def _stored_or_evaluated(
    missing: Sequence[tuple[TeacherSnapshot, tuple, ActiveRuleset]],
    as_of: date,
    now: datetime,
) -> dict[tuple, tuple[TeacherRow, datetime | None]]:
    """The rows this process does not hold: stored ones (one query) where their key
    still holds, the others evaluated (three queries for their facts) and stored.

    Only teachers whose records, profile or ruleset changed since their row was
    stored (or whose department was never viewed) are evaluated.
    """
    cache = caches().rows
    stored_keys = {
        t.id: page_rows.row_key(t.id, as_of, active, *key[3:6])
        for t, key, active in missing
    }
    stored = page_rows.load(
        {t.id: (stored_keys[t.id], active.ruleset) for t, _k, active in missing}, now
    )
    found: dict[tuple, tuple[TeacherRow, datetime | None]] = {}
    for t, key, _active in missing:
        if t.id in stored:
            found[key] = stored[t.id]
            cache.put(key, stored[t.id], stored[t.id][1])
    evaluate = [(t, key, active) for t, key, active in missing if t.id not in stored]
    if not evaluate:
        return found
    gathered = facts.gather(facts.by_ids(t.id for t, _k, _a in evaluate), now)
    made = []
    for t, key, active in evaluate:
        held = row_form.evaluate_row(
            t, gathered.get(t.id), active, as_of, professional=key[4], years=key[5]
        )
        cache.put(key, held, held[1])
        found[key] = held
        made.append((t.id, as_of, stored_keys[t.id], held))
    page_rows.save_aside(made, now)
    return found


@functools.cache
def _teacher_key_statement() -> Select[
    int | None, bool | None, int | None, int | None, int | None
]:
    """A teacher's key in one row: their version, the profile fields the engine
    reads, and the published events' version (they change the path to the next
    level); and the marketplace's version, which is not in the key (the path's
    offers key on it). Built once per process, as :func:`_versions_statement`."""
    version = select(FeedState.version).where(
        FeedState.feed_key == bindparam("feed_key")
    )
    mine = TeacherProfile.user_id == bindparam("teacher_id")
    profile = select(TeacherProfile.is_professional_course).where(mine)
    years = select(TeacherProfile.prior_industry_years).where(mine)
    public = select(FeedState.version).where(FeedState.feed_key == PUBLIC_FEED_KEY)
    market = select(FeedState.version).where(FeedState.feed_key == MARKET_KEY)
    return select(
        version.scalar_subquery(), profile.scalar_subquery(),
        years.scalar_subquery(), public.scalar_subquery(), market.scalar_subquery(),
    )  # fmt: skip


def teacher_status(
    teacher: User,
    *,
    active: ActiveRuleset | None = None,
    now: datetime | None = None,
) -> TeacherStatus:
    """A teacher's status for the dashboard, from the cache while its key holds.

    A hit costs two queries (ruleset, key); a miss adds four (the facts and
    the events open to the teacher, for the path to the next level).
    """
    active = active or active_ruleset_for(teacher.institution_id)
    now = now or utcnow()
    as_of = local_today(now)
    fp_version, flag, years, events_version, market_version = db.session.execute(
        _teacher_key_statement(),
        {"feed_key": teacher_feed_key(teacher.id), "teacher_id": teacher.id},
    ).one()
    # No profile yet: a professional-course teacher, as the profile defaults.
    professional = True if flag is None else bool(flag)
    years = years or 0
    key = (
        teacher.id, as_of, _ruleset_key(active), fp_version, professional, years,
        events_version,
    )  # fmt: skip
    cache = caches().teachers
    found = cache.get(key, now)
    if found is None:
        gathered = facts.gather(facts.by_ids([teacher.id]), now)
        entry = gathered.get(teacher.id)
        offers, closes = facts.open_events(teacher.id, now)
        status = services.status_for(
            teacher, entry, active.ruleset, as_of, professional=professional,
            years=years, opportunities=offers,
        )  # fmt: skip
        found = _detached(status)
        expires = None if entry is None else entry.expires_at
        expiries = [e for e in (closes, expires) if e is not None]
        cache.put(key, found, min(expiries, default=None))
    return replace(found, teacher=teacher, market_version=market_version)
