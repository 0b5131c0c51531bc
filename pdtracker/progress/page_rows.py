"""Stored department-page rows: a new process reads its teachers' evaluations.

The department page (and the college page and the exports, which share it) shows,
per teacher, the engine's report, the distance to the next level, the next lapse,
the forecast date and the chart flags. :mod:`pdtracker.progress.cache` keeps these
rows per process; this module also keeps them in ``teacher_page_rows`` so the first
view after a restart reads 1,000 rows in one query instead of evaluating 1,000
teachers (issue 14: a cold 1,000-teacher page within 300 ms).

A stored row is used only under the key it was computed for, the same key as the
per-process cache: the local date, the ruleset's identity, the teacher's change
version (bumped at commit by :mod:`pdtracker.changes` for every record of theirs),
their profile fields, and a digest of the code that evaluates (a deploy that
changes the progress code or the shipped rulesets invalidates every row). Before
``expires_at`` only: a registered event's end drops its seat from the plan. A
teacher whose key no longer holds (their records changed since) is evaluated
afresh and their row stored again, so the page never shows a stale row, and the
work is bounded by the teachers who changed.

A row keeps only what the page, its exports and its ratio comparison read (a
:class:`RowStatus`: level, the next level's missing amounts, each requirement's
credited amount, distance, lapse, forecast date, chart flags), stored as a short
JSON array of plain values whose names come back from the ruleset when read; not
the engine's whole report (8 KB pickled, some 64 objects to unpickle per
teacher). Each is signed with the app's secret key (HMAC-SHA256 over the key and
the payload) and read only if this app wrote it for this key.
:func:`refresh` (the standings tick) brings yesterday's rows to today's date, so
the first view of a new day is served from storage too; it evaluates only
teachers who have a row, i.e. whose department page has been viewed.
"""

from __future__ import annotations

import functools
import gc
import hashlib
import hmac
import json
import logging
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import date, datetime
from pathlib import Path
from typing import Any

from flask import current_app, has_request_context, request
from sqlalchemy import (
    String,
    Table,
    and_,
    cast,
    delete,
    literal,
    select,
)
from sqlalchemy.exc import SQLAlchemyError

from pdtracker.auth.models import Role, User, UserRole
from pdtracker.calendar.models import FeedState, teacher_feed_key
from pdtracker.database import among, dialect_insert
from pdtracker.extensions import db
from pdtracker.org.models import Department, TeacherProfile
from pdtracker.org.queries import active_teacher_ids
from pdtracker.progress import facts, services
from pdtracker.progress.definitions import Level, LocalizedText, Ruleset
from pdtracker.progress.records import ActiveRuleset, active_rulesets_for
from pdtracker.progress.rulebook import STANDARDS_DIR
from pdtracker.progress.services import TeacherStatus
from pdtracker.progress.standings_models import TeacherPageRow
from pdtracker.timeutil import local_today, utcnow

logger = logging.getLogger(__name__)
# Bump when the stored form changes without a change to the progress code.
ROW_FORMAT = "2"
PROGRESS_DIR = Path(__file__).resolve().parent
# Teachers evaluated at once by the refresh (their facts are all it holds), as many
# as one query reads well.
BATCH = facts.GATHER_BATCH
_TEACHER_KEY_PREFIX = literal(teacher_feed_key(0).removesuffix("0"))


class RowResult:
    """A requirement as the page names it: code, unit, name and the amounts shown."""

    __slots__ = ("code", "credited", "lapses_on", "missing", "name", "unit")

    def __init__(
        self,
        code: str,
        unit: str,
        name: LocalizedText,
        *,
        missing: int | float = 0,
        credited: int | float = 0,
        lapses_on: date | None = None,
    ) -> None:
        self.code, self.unit, self.name = code, unit, name
        self.missing, self.credited, self.lapses_on = missing, credited, lapses_on


class RowReport:
    """What the pages read of a :class:`~.engine.ProgressReport`.

    ``levels`` and ``next_level`` are the ruleset's own levels (code, name and
    requirements, one result each in the full report); :meth:`requirement`
    answers for the levels' requirements and groups, not for a group's members.
    """

    __slots__ = ("_missing", "_rules", "assessed", "credited", "level", "next_level")

    def __init__(
        self,
        rules: _Rules,
        assessed: bool,
        level: str | None,
        next_level: Level | None,
        missing: tuple[RowResult, ...],
        credited: Sequence[int | float],
    ) -> None:
        self._rules, self._missing = rules, missing
        # Each level requirement's credited amount, in report order.
        self.credited = credited
        self.assessed, self.level, self.next_level = assessed, level, next_level

    @property
    def levels(self) -> tuple[Level, ...]:
        """The ruleset's levels, lowest first."""
        return self._rules.levels

    @property
    def rank(self) -> int:
        """0 for none, 1 for the first level, …"""
        return 0 if self.level is None else self._rules.rank[self.level]

    def next_level_missing(self) -> tuple[RowResult, ...]:
        """The unmet requirements of the next level, with what each still needs."""
        return self._missing

    def requirement(self, code: str) -> RowResult:
        """A level's requirement or group ``code`` with its credited amount."""
        index = self._rules.index[code]
        code, unit, name = self._rules.requirements[index]
        return RowResult(code, unit, name, credited=self.credited[index])


class RowStatus(services.LevelFacts):
    """What the department page, its exports and its ratio comparison read of a
    :class:`~.services.TeacherStatus` (same names), and nothing else."""

    __slots__ = ("distance", "forecast_on", "lapse", "professional_course", "report",
                 "teacher")  # fmt: skip
    report: RowReport
    lapse: RowResult | None

    def __init__(
        self,
        teacher: Any,
        professional_course: bool,
        report: RowReport,
        distance: float,
        lapse: RowResult | None,
        forecast_on: date | None,
    ) -> None:
        self.teacher, self.professional_course, self.report = (
            teacher, professional_course, report,
        )  # fmt: skip
        self.distance, self.lapse, self.forecast_on = distance, lapse, forecast_on

    @property
    def level_rank(self) -> int:
        """0 for none, 1 for the first level, …"""
        return self.report.rank

    def with_teacher(self, teacher: Any) -> RowStatus:
        """The same row for ``teacher`` (a snapshot or a User)."""
        return RowStatus(
            teacher, self.professional_course, self.report, self.distance,
            self.lapse, self.forecast_on,
        )  # fmt: skip


@dataclass(frozen=True)
class TeacherRow:
    """One teacher's part of the department page: status and chart flags."""

    status: RowStatus  # without its teacher
    flags: services.ChartFlags


# (row, the expiry of its facts) as the caches hold it
Held = tuple[TeacherRow, datetime | None]


def detached(status: TeacherStatus) -> TeacherStatus:
    """The status as kept: no teacher (an ORM object) and no facts.

    The facts are the bulk of a status's memory and no page reads them; the caller
    puts its own teacher back on every use.
    """
    return replace(status, facts=[], done=[], teacher=None)  # type: ignore[arg-type]


def evaluate_row(
    teacher: Any,
    entry: facts.TeacherFacts | None,
    active: ActiveRuleset,
    as_of: date,
    *,
    professional: bool,
    years: float,
) -> Held:
    """One teacher's page row from their already-loaded facts (no queries).

    ``teacher`` (a User, a snapshot or None) is only passed through to the engine's
    adapter; the row keeps none of it. The row is what a stored one reads back as
    (:func:`encode`, then :func:`decode`), so a page shows the same either way.
    """
    status = services.status_for(
        teacher, entry, active.ruleset, as_of, professional=professional, years=years,  # type: ignore[arg-type]
    )  # fmt: skip
    flags = services.chart_flags(status, active.ruleset, as_of)
    row = decode(encode(status, flags), active.ruleset)
    return row, None if entry is None else entry.expires_at


# --- the stored form ----------------------------------------------------------------


@dataclass
class _Rules:
    """What a ruleset lends every row read under it: names, units, level ranks."""

    levels: tuple[Level, ...]
    rank: dict[str, int]
    # (code, unit, name) of each level's requirements and groups, in report order.
    requirements: list[tuple[str, str, LocalizedText]]
    index: dict[str, int]
    # Codes with a unit and a name, members of groups included.
    named: dict[str, tuple[str, LocalizedText]]
    # Rows share their missing amounts and lapses: most repeat.
    shared: dict[tuple, RowResult]


_RULES: dict[int, tuple[Ruleset, _Rules]] = {}
_FLAGS: dict[str, tuple[bool, ...]] = {}


def _rules(ruleset: Ruleset) -> _Rules:
    held = _RULES.get(id(ruleset))
    if held is not None and held[0] is ruleset:
        return held[1]
    if len(_RULES) > 64:
        _RULES.clear()
    tops = [r for lv in ruleset.levels for r in lv.requirements]
    named = {
        r.code: (r.unit, r.name)
        for top in tops
        for r in (top, *getattr(top, "members", ()))
    }
    index: dict[str, int] = {}
    for i, r in enumerate(tops):
        index.setdefault(r.code, i)
    rules = _Rules(
        levels=ruleset.levels,
        rank={lv.code: i + 1 for i, lv in enumerate(ruleset.levels)},
        requirements=[(r.code, r.unit, r.name) for r in tops],
        index=index,
        named=named,
        shared={},
    )
    _RULES[id(ruleset)] = (ruleset, rules)
    return rules


def _shared(rules: _Rules, code: str, field: str, value: Any) -> RowResult:
    """The requirement ``code`` with ``field`` (missing or lapses_on) set to ``value``."""
    key = (code, field, type(value), value)  # 1 and 1.0 are shown differently
    found = rules.shared.get(key)
    if found is None:
        if len(rules.shared) > 100_000:
            rules.shared.clear()
        unit, name = rules.named[code]
        found = rules.shared[key] = RowResult(code, unit, name, **{field: value})
    return found


def _bits(flags: Sequence[bool]) -> str:
    return "".join("1" if f else "0" for f in flags)


def _flags(bits: str) -> tuple[bool, ...]:
    found = _FLAGS.get(bits)
    if found is None:
        found = _FLAGS[bits] = tuple(b == "1" for b in bits)
    return found


def _ordinal(day: date | None) -> int | None:
    return None if day is None else day.toordinal()


def _day(ordinal: int | None) -> date | None:
    return None if ordinal is None else date.fromordinal(ordinal)


def encode(status: TeacherStatus | RowStatus, flags: services.ChartFlags) -> list:
    """The stored form of a row: a list of plain values (JSON), no names.

    [assessed, level, next level's position, [[code, missing], ...] of the next
    level's unmet requirements, each level requirement's credited amount in
    report order, distance, [lapse code, lapses on] or None, forecast date,
    professional course, past flags, future flags]; dates as ordinals.
    """
    report = status.report
    nxt = report.next_level
    codes = [lv.code for lv in report.levels]
    lapse = status.lapse
    if isinstance(report, RowReport):
        credited: Sequence[int | float] = report.credited
    else:
        credited = [r.credited for lv in report.levels for r in lv.requirements]
    return [
        report.assessed,
        report.level,
        None if nxt is None else codes.index(nxt.code),
        [[r.code, r.missing] for r in report.next_level_missing()],
        list(credited),
        status.distance,
        None if lapse is None else [lapse.code, _ordinal(lapse.lapses_on)],
        _ordinal(status.forecast_on),
        status.professional_course,
        _bits(flags[0]),
        _bits(flags[1]),
    ]


def decode(data: Sequence[Any], ruleset: Ruleset) -> TeacherRow:
    """The row :func:`encode` stored, named again from ``ruleset`` (no teacher)."""
    (assessed, level, nxt, missing, credited, distance, lapse, forecast, professional,
     past, future) = data  # fmt: skip
    rules = _rules(ruleset)
    report = RowReport(
        rules,
        assessed,
        level,
        None if nxt is None else rules.levels[nxt],
        tuple(_shared(rules, code, "missing", amount) for code, amount in missing),
        credited,
    )
    status = RowStatus(
        None,
        professional,
        report,
        distance,
        None
        if lapse is None
        else _shared(rules, lapse[0], "lapses_on", _day(lapse[1])),
        _day(forecast),
    )
    return TeacherRow(status, (_flags(past), _flags(future)))


# --- keys -------------------------------------------------------------------------


@functools.cache
def code_digest() -> str:
    """What evaluates: the progress package's source and the shipped rulesets."""
    digest = hashlib.sha256(f"{ROW_FORMAT}:{sys.version_info[:2]}".encode())
    for path in sorted((*PROGRESS_DIR.glob("*.py"), *STANDARDS_DIR.glob("*"))):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def row_key(
    teacher_id: int,
    as_of: date,
    active: ActiveRuleset,
    version: int | None,
    professional: bool,
    years: float,
) -> str:
    """The digest of everything a stored row depends on, besides its expiry."""
    parts = (teacher_id, as_of.isoformat(), active.identity, version or 0,
             bool(professional), float(years), code_digest())  # fmt: skip
    return hashlib.sha256(repr(parts).encode()).hexdigest()


def _signer() -> Callable[[str, bytes], str]:
    """HMAC-SHA256 of a row's key and payload under the app's secret key."""
    base = hmac.new(
        str(current_app.config["SECRET_KEY"]).encode(),
        b"pdtracker.page_rows\0",
        hashlib.sha256,
    )

    def sign(key: str, payload: bytes) -> str:
        mac = base.copy()
        mac.update(key.encode())
        mac.update(payload)
        return mac.hexdigest()

    return sign


# --- reading and writing ----------------------------------------------------------


def load(keys: Mapping[int, tuple[str, Ruleset]], now: datetime) -> dict[int, Held]:
    """The stored rows whose key is ``keys[teacher_id][0]`` and still unexpired,
    named from the ruleset beside it (1 query)."""
    if not keys:
        return {}
    r = TeacherPageRow
    stmt = select(r.teacher_id, r.key, r.expires_at, r.signature, r.payload).where(
        among(r.teacher_id, sorted(keys))
    )
    sign = _signer()
    valid: list[tuple[int, datetime | None]] = []
    payloads: list[bytes] = []
    for teacher_id, key, expires, signature, payload in db.session.execute(stmt):
        if key != keys[teacher_id][0] or (expires is not None and expires <= now):
            continue
        if not hmac.compare_digest(signature, sign(key, payload)):
            continue
        valid.append((teacher_id, expires))
        payloads.append(bytes(payload))
    if not valid:
        return {}
    with collector_paused():
        # One parse for every row: each payload is a JSON array.
        datas = json.loads(b"[" + b",".join(payloads) + b"]")
        return {
            teacher_id: (decode(data, keys[teacher_id][1]), expires)
            for (teacher_id, expires), data in zip(valid, datas, strict=True)
        }


@contextmanager
def collector_paused() -> Iterator[None]:
    """Python's cyclic garbage collector off for a block, then as it was.

    A thousand stored rows are read into thousands of objects that all stay alive
    (in the page cache): the collector's passes over them while they were being
    made took most of reading them when rows were whole pickled reports (250-580
    ms of CPU, then 120-170 ms). The rows hold no reference cycles. Nested or
    threaded use leaves the collector on at the end.
    """
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()


def save(rows: Iterable[tuple[int, date, str, Held]], now: datetime) -> int:
    """Store (teacher id, as_of, key, row) for each teacher, replacing theirs.

    Written through the session (the caller commits): the refresh's way.
    """
    statement, out = _upsert(rows, now)
    if out:
        db.session.execute(statement, out)
    return len(out)


def save_aside(rows: Iterable[tuple[int, date, str, Held]], now: datetime) -> int:
    """:func:`save` in a transaction of its own, for a page's GET request.

    A page commits nothing, and the rows it evaluated are worth keeping whatever
    the request does next. Within a GET request only: elsewhere (a service called
    with uncommitted rows of its own) a second connection could wait on them.
    Failing to store is logged, not raised: the page has its figures.
    """
    if not has_request_context() or request.method not in ("GET", "HEAD"):
        return 0
    statement, out = _upsert(rows, now)
    if not out:
        return 0
    try:
        with db.engine.begin() as conn:
            conn.execute(statement, out)
    except SQLAlchemyError:
        logger.warning(
            "could not store %s department-page rows", len(out), exc_info=True
        )
        return 0
    return len(out)


def _upsert(
    rows: Iterable[tuple[int, date, str, Held]], now: datetime
) -> tuple[Any, list[dict[str, Any]]]:
    out = []
    sign = _signer()
    for teacher_id, as_of, key, (row, expires) in sorted(rows, key=lambda r: r[0]):
        data = encode(row.status, row.flags)
        payload = json.dumps(data, separators=(",", ":")).encode()
        out.append(
            {
                "teacher_id": teacher_id,
                "as_of": as_of,
                "key": key,
                "expires_at": expires,
                "signature": sign(key, payload),
                "payload": payload,
                "computed_at": now,
            }
        )
    table = TeacherPageRow.__table__
    assert isinstance(table, Table)  # a mapped class's table, for Core's insert
    # Sorted by teacher: two requests storing overlapping rows cannot deadlock.
    insert = dialect_insert(db.engine.dialect.name)(table)
    columns = [c.name for c in table.columns if c.name != "teacher_id"]
    statement = insert.on_conflict_do_update(
        index_elements=[table.c.teacher_id],
        set_={c: insert.excluded[c] for c in columns},
    )
    return statement, out


# --- the refresh (the standings tick) ---------------------------------------------


def _stored_teachers() -> list[Any]:
    """Every stored row's teacher, if still an active teacher, with their key's parts."""
    version = FeedState.feed_key == _TEACHER_KEY_PREFIX.concat(cast(User.id, String))
    r = TeacherPageRow
    stmt = (
        select(
            r.teacher_id, r.key, r.expires_at, Department.institution_id,
            TeacherProfile.is_professional_course,
            TeacherProfile.prior_industry_years, FeedState.version,
        )
        .join(User, User.id == r.teacher_id)
        .join(UserRole, and_(UserRole.user_id == User.id,
                             UserRole.role == Role.TEACHER.value))
        .join(Department, Department.id == User.department_id)
        .outerjoin(TeacherProfile, TeacherProfile.user_id == User.id)
        .outerjoin(FeedState, version)
        .where(User.is_active_account.is_(True))
        .order_by(r.teacher_id)
    )  # fmt: skip
    return list(db.session.execute(stmt))


def refresh(now: datetime | None = None, *, batch: int = BATCH) -> dict[str, int]:
    """Bring every stored row to ``now``'s date and its teacher's records (flushes).

    Only teachers who already have a row are evaluated, and only if its key no
    longer holds or its facts expired; rows of teachers who stopped teaching are
    dropped. Returns the counts; the caller commits.
    """
    now = now or utcnow()
    as_of = local_today(now)
    rows = _stored_teachers()
    actives = active_rulesets_for({row[3] for row in rows})
    due: list[tuple[int, str, ActiveRuleset, bool, float]] = []
    for teacher_id, key, expires, college, flag, years, version in rows:
        professional = True if flag is None else bool(flag)
        active = actives[college]
        want = row_key(teacher_id, as_of, active, version, professional, years or 0)
        if want != key or (expires is not None and expires <= now):
            due.append((teacher_id, want, active, professional, years or 0))
    for start in range(0, len(due), batch):
        _evaluate_and_save(due[start : start + batch], as_of, now)
    removed = db.session.execute(
        delete(TeacherPageRow).where(
            TeacherPageRow.teacher_id.not_in(active_teacher_ids())
        )
    )
    db.session.flush()
    return {
        "page_rows": len(rows),
        "page_rows_evaluated": len(due),
        "page_rows_removed": int(getattr(removed, "rowcount", 0) or 0),
    }


def _evaluate_and_save(
    due: Sequence[tuple[int, str, ActiveRuleset, bool, float]],
    as_of: date,
    now: datetime,
) -> None:
    gathered = facts.gather(facts.by_ids(t[0] for t in due), now)
    save(
        (
            (teacher_id, as_of, key, evaluate_row(
                None, gathered.get(teacher_id), active, as_of,
                professional=professional, years=years,
            ))
            for teacher_id, key, active, professional, years in due
        ),
        now,
    )  # fmt: skip
