"""Carrying a plan out: the valid rows, in the caller's one transaction.

The service flushes and never commits: the caller commits once, or rolls back
on any error, so a file is applied whole or not at all. Inserts go to the
session together (SQLAlchemy batches them), not one round trip per row.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Table, insert, select

from pdtracker.activities.models import Activity, ActivitySource, ActivityStatus
from pdtracker.audit import record
from pdtracker.auth.models import Role, User
from pdtracker.calendar.models import department_feed_key, teacher_feed_key
from pdtracker.changes import bump
from pdtracker.extensions import db
from pdtracker.onboarding import activation
from pdtracker.onboarding.plan import (
    ENTERPRISE_ATTRS,
    PERSON_ATTRS,
    RECORD_ATTRS,
    Action,
    Plan,
    PlannedRow,
)
from pdtracker.org.models import TeacherProfile
from pdtracker.placements.models import Enterprise

INSERT_CHUNK = 500  # ids per IN (...) list
INSERT_PAGE = 1000  # rows per INSERT statement
ACTIVITY_COLUMNS = tuple(c.name for c in Activity.__table__.columns if c.name != "id")


@dataclass(frozen=True)
class NewAccount:
    """An account the import created, with its activation token (shown once).

    ``mailed``: the link goes to the account's e-mail address, so it is not listed.
    """

    user_id: int
    staff_number: str
    name: str
    email: str | None
    token: str
    mailed: bool = False
    # The login: the staff number, unless another college's person has it.
    username: str = ""


@dataclass
class Applied:
    """What applying did: the plan's counts, and the accounts it created."""

    summary: dict[str, int]
    accounts: list[NewAccount] = field(default_factory=list)


def apply_plan(
    plan: Plan,
    *,
    actor: User | None,
    now: datetime,
    link: Callable[[str], str] | None = None,
) -> Applied:
    """Create and update the plan's rows, audit the import; the caller commits.

    ``link`` makes a new account's absolute activation URL from its token; with
    it (and a mail server) accounts with an e-mail address get the link mailed.
    """
    actor_id = actor.id if actor is not None else None
    if plan.importer == "people":
        created, accounts = _people(plan, actor_id, now, link)
    else:
        writer = {"enterprises": _enterprises, "records": _records}
        created, accounts = writer[plan.importer](plan, actor_id, now)
    updated = [r for r in plan.rows if r.action == Action.UPDATE]
    db.session.flush()
    summary = plan.summary()
    record(
        actor_id,
        f"import.{plan.importer}",
        "import",
        None,
        now=now,
        filename=plan.filename,
        sha256=plan.sha256,
        verified=plan.verified,
        errors=len([r for r in plan.rows if r.action == Action.ERROR]),
        created_ids=[obj.id for obj in created],
        updated_ids=[r.target.id for r in updated],
        **summary,
    )
    return Applied(summary, accounts)


def _rows(plan: Plan, action: Action) -> list[PlannedRow]:
    return [r for r in plan.rows if r.action == action]


def _set(obj: Any, attrs: dict[str, str], changes: dict[str, tuple]) -> None:
    for key, (_, new) in changes.items():
        setattr(obj, attrs.get(key, key), new)


def _people(
    plan: Plan, actor_id: int | None, now: datetime, link: Callable[[str], str] | None
) -> tuple[list, list[NewAccount]]:
    for row in _rows(plan, Action.UPDATE):
        user: User = row.target
        changes = dict(row.changes)
        if roles := changes.pop("roles", None):
            user.set_roles({Role(r) for r in roles[1]})
        for key in [k for k in changes if k not in PERSON_ATTRS]:
            setattr(user.teacher_profile, key, changes.pop(key)[1])
        _set(user, PERSON_ATTRS, changes)
        user.updated_at = now
    password_hash = activation.unusable_password_hash()
    created = _rows(plan, Action.CREATE)
    users = [_new_user(row.values, password_hash, now) for row in created]
    db.session.add_all(users)
    db.session.flush()
    tokens = activation.issue_tokens(users, now)
    mailed = activation.mail_links(users, tokens, link, now)
    accounts = [
        NewAccount(u.id, row.values["staff_number"], u.display_name, u.email,
                   tokens[u.id], u.id in mailed, u.username)
        for u, row in zip(users, created, strict=True)
    ]  # fmt: skip
    return users, accounts


def _new_user(values: dict[str, Any], password_hash: str, now: datetime) -> User:
    user = User(
        username=values["username"],
        display_name=values["name"],
        email=values.get("email"),
        department_id=values.get("department"),
        # The row's college, as the plan found it (the one imported into, else
        # the department's); a department's members follow its college anyway.
        institution_id=values["institution_id"],
        password_hash=password_hash,
        created_at=now,
        updated_at=now,
    )
    user.set_roles({Role(r) for r in values.get("roles") or {"teacher"}})
    user.teacher_profile = TeacherProfile(
        staff_number=values["staff_number"],
        title=values.get("title"),
        is_professional_course=values.get("is_professional_course") is not False,
        prior_industry_years=values.get("prior_industry_years") or 0,
        phone=values.get("phone"),
        id_number_hash=values.get("id_number_hash"),
    )
    return user


def _enterprises(plan: Plan, actor_id: int | None, now: datetime) -> tuple[list, list]:
    for row in _rows(plan, Action.UPDATE):
        _set(row.target, ENTERPRISE_ATTRS, row.changes)
    created = []
    for row in _rows(plan, Action.CREATE):
        fields = {ENTERPRISE_ATTRS.get(k, k): x for k, x in row.values.items()}
        if fields.get("placement_capacity") is None:
            fields.pop("placement_capacity", None)  # the model's default
        created.append(Enterprise(created_at=now, **fields))
    db.session.add_all(created)
    return created, []


def _records(plan: Plan, actor_id: int | None, now: datetime) -> tuple[list, list]:
    updates = _rows(plan, Action.UPDATE)
    # The plan matched column rows; the changed ones are loaded as objects here.
    ids = [row.target.id for row in updates]
    objects: dict[int, Activity] = {}
    for start in range(0, len(ids), INSERT_CHUNK):
        chunk = ids[start : start + INSERT_CHUNK]
        objects |= {
            a.id: a
            for a in db.session.scalars(select(Activity).where(Activity.id.in_(chunk)))
        }
    for row in updates:
        activity = objects[row.target.id]
        _set(activity, RECORD_ATTRS, row.changes)
        activity.updated_at = now
    rows = [_activity_row(row.values, plan.verified, actor_id, now)
            for row in _rows(plan, Action.CREATE)]  # fmt: skip
    return _insert_activities(rows, now), []


def _insert_activities(rows: list[dict[str, Any]], now: datetime) -> list[_Created]:
    """Batched INSERTs (a few statements for thousands of rows), feeds bumped.

    The ORM would send one INSERT per row on SQLite (it cannot match RETURNING
    rows to objects there), and a Core statement bypasses the feed listener, so
    the teachers' and departments' feeds are bumped here, in the same transaction.
    """
    table = Activity.__table__
    assert isinstance(table, Table)  # a mapped class's table, for Core's insert()
    ids: list[int] = []
    if rows:
        # Columns empty in every row are left to the database (NULL): shorter
        # statements, which PostgreSQL's driver parses faster.
        used = [c for c in ACTIVITY_COLUMNS if any(r[c] is not None for r in rows)]
        rows = [{c: r[c] for c in used} for r in rows]
        # One compiled statement, sent in batches of many rows (insertmanyvalues).
        stmt = insert(table).returning(table.c.id)
        stmt = stmt.execution_options(insertmanyvalues_page_size=INSERT_PAGE)
        result = db.session.connection().execute(stmt, rows)
        ids = list(result.scalars())
    teachers = sorted({r["teacher_id"] for r in rows})
    keys = {teacher_feed_key(t) for t in teachers}
    for start in range(0, len(teachers), INSERT_CHUNK):
        chunk = teachers[start : start + INSERT_CHUNK]
        departments = db.session.scalars(
            select(User.department_id).where(User.id.in_(chunk)).distinct()
        )
        keys |= {department_feed_key(d) for d in departments if d is not None}
    if keys:
        bump(db.session.connection(), keys, now)
    return [_Created(i) for i in ids]


@dataclass(frozen=True)
class _Created:
    id: int


def _activity_row(
    values: dict[str, Any], verified: bool, actor_id: int | None, now: datetime
) -> dict[str, Any]:
    """Every column of a new imported activity (a multi-row INSERT needs them all)."""
    row = dict.fromkeys(ACTIVITY_COLUMNS)
    row.update(
        {RECORD_ATTRS.get(k, k): x for k, x in values.items() if k != "teacher_name"}
    )
    status = ActivityStatus.VERIFIED if verified else ActivityStatus.COMPLETED
    row.update(
        source=ActivitySource.IMPORT.value,
        status=status.value,
        role=row["role"] or "attendee",
        verified_by_id=actor_id if verified else None,
        verified_at=now if verified else None,
        sequence=0,
        created_at=now,
        updated_at=now,
    )
    return row
