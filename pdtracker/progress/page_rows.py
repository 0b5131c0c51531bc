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

A row keeps only what the page, its exports and its ratio comparison read, in the
compact form of :mod:`pdtracker.progress.row_form`. Each is signed with the app's
secret key (HMAC-SHA256 over the key and the payload) and read only if this app
wrote it for this key.
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
from datetime import date, datetime
from pathlib import Path
from typing import Any

from flask import current_app, has_request_context, request
from sqlalchemy import (
    String,
    Table,
    and_,
    cast,
    literal,
    select,
)
from sqlalchemy.exc import SQLAlchemyError

from pdtracker.auth.models import Role, User, UserRole
from pdtracker.calendar.models import FeedState, teacher_feed_key
from pdtracker.database import among, dialect_insert
from pdtracker.extensions import db
from pdtracker.org.models import Department, TeacherProfile
from pdtracker.org.queries import remove_inactive_teachers
from pdtracker.progress import facts
from pdtracker.progress.definitions import Ruleset
from pdtracker.progress.records import ActiveRuleset, active_rulesets_for
from pdtracker.progress.row_form import Held, decode, encode, evaluate_row
from pdtracker.progress.rulebook import STANDARDS_DIR
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
    removed = remove_inactive_teachers(TeacherPageRow.teacher_id)
    return {
        "page_rows": len(rows),
        "page_rows_evaluated": len(due),
        "page_rows_removed": removed,
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
