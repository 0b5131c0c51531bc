"""The outbox's planning side: reminders planned idempotently and kept in step.

Work lives in the database, not in APScheduler's job store. Planning inserts rows
keyed by (kind, object, recipient, due date), so planning twice inserts one row.
A planner says which reminders should exist now; :func:`sync` reconciles the
outbox with that list (plan new ones, move changed ones, cancel ones no longer
wanted, revive ones wanted again). Claiming and delivering is :mod:`dispatch`'s.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, func, or_, select, update

from pdtracker.auth.models import Role, User, UserRole
from pdtracker.database import dialect_insert
from pdtracker.extensions import db
from pdtracker.notifications.models import (
    Notification,
    NotificationKind,
    NotificationStatus,
)
from pdtracker.timeutil import app_zone

S = NotificationStatus
INSERT_CHUNK = 200
# On a cancelled row: its planner no longer asks for it (revived if it asks again).
REASON_NO_LONGER_DUE = "no_longer_due"


@dataclass(frozen=True)
class Reminder:
    """A notification a planner wants to exist: who, about what, when, until when."""

    kind: NotificationKind
    recipient_id: int
    object_type: str
    object_id: int | None
    due_at: datetime
    # After this instant the reminder is pointless; every reminder has one.
    stale_after: datetime
    payload: Mapping[str, Any] = field(default_factory=dict)
    # Tells apart reminders of one kind, object, recipient and day (e.g. a requirement).
    extra: str = ""
    # A key of the sender's own (outcomes: what happened, and when), used as it is.
    fixed_key: str = ""

    def key(self, zone: ZoneInfo) -> str:
        """The idempotency key: kind, object, recipient and the local due date."""
        if self.fixed_key:
            return self.fixed_key
        due_on = self.due_at.astimezone(zone).date().isoformat()
        key = (
            f"{self.kind}:{self.object_type}:{self.object_id or 0}:"
            f"{self.recipient_id}:{due_on}"
        )
        return f"{key}:{self.extra}" if self.extra else key


# (now, until, object_ids or None) → every reminder due by `until` and not stale at `now`.
Collector = Callable[[datetime, datetime, Collection[int] | None], Iterable[Reminder]]


@dataclass(frozen=True)
class Planner:
    """Computes the reminders of some kinds from the current data, for reconciliation."""

    name: str
    kinds: frozenset[NotificationKind]
    object_type: str
    horizon: timedelta
    collect: Collector


def begin_write() -> None:
    """On SQLite, take the write lock before reading (call on a fresh session).

    A deferred SQLite transaction that reads and then writes fails at once with
    "database is locked" if another connection wrote in between; BEGIN IMMEDIATE
    waits for the lock instead (busy_timeout). PostgreSQL needs nothing.
    """
    if db.session().in_transaction():
        return
    connection = db.session.connection()
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def _row(reminder: Reminder, key: str, now: datetime) -> dict[str, Any]:
    return {
        "kind": str(reminder.kind),
        "recipient_id": reminder.recipient_id,
        "object_type": reminder.object_type,
        "object_id": reminder.object_id,
        "idempotency_key": key,
        "due_at": reminder.due_at,
        "stale_after": reminder.stale_after,
        "status": S.PENDING.value,
        "attempts": 0,
        "payload": dict(reminder.payload),
        "created_at": now,
        "updated_at": now,
    }


def plan(reminders: Iterable[Reminder], now: datetime) -> int:
    """Insert the reminders that do not exist yet (ON CONFLICT DO NOTHING); return how many."""
    zone = app_zone()
    rows = [_row(r, r.key(zone), now) for r in reminders]
    insert = dialect_insert(db.engine.dialect.name)
    inserted = 0
    for start in range(0, len(rows), INSERT_CHUNK):
        statement = (
            insert(Notification)
            .values(rows[start : start + INSERT_CHUNK])
            .on_conflict_do_nothing(index_elements=["idempotency_key"])
            .returning(Notification.id)
        )
        inserted += len(db.session.execute(statement).all())
    return inserted


def sync(
    planner: Planner, now: datetime, object_ids: Collection[int] | None = None
) -> dict[str, int]:
    """Make the outbox match what the planner wants now: plan, move, cancel, revive.

    Idempotent: running it twice changes nothing the second time. Only pending
    (and cancelled-as-no-longer-due) rows are touched; claimed and sent ones belong
    to the dispatcher. Tick-level: it ends the read phase with a commit so that on
    SQLite the write lock is held only for the writes, not while the planner reads.
    """
    until = now + planner.horizon
    zone = app_zone()
    wanted = {
        r.key(zone): r
        for r in planner.collect(now, until, object_ids)
        if r.due_at <= until and r.stale_after > now
    }
    db.session.commit()
    begin_write()
    counts = {"planned": plan(wanted.values(), now), "moved": 0, "revived": 0}
    counts["moved"], counts["revived"] = _refresh_existing(wanted, now)
    counts["cancelled"] = _cancel_unwanted(planner, wanted, now, until, object_ids)
    return counts


def _refresh_existing(wanted: dict[str, Reminder], now: datetime) -> tuple[int, int]:
    """Move pending rows whose time or payload changed; revive rows wanted again."""
    moved = revived = 0
    keys = list(wanted)
    for start in range(0, len(keys), 500):
        rows = db.session.execute(
            select(
                Notification.id,
                Notification.idempotency_key,
                Notification.status,
                Notification.reason,
                Notification.due_at,
                Notification.stale_after,
                Notification.payload,
            ).where(
                Notification.idempotency_key.in_(keys[start : start + 500]),
                or_(
                    Notification.status == S.PENDING,
                    and_(
                        Notification.status == S.CANCELLED,
                        Notification.reason == REASON_NO_LONGER_DUE,
                    ),
                ),
            )
        ).all()
        for row in rows:
            want = wanted[row.idempotency_key]
            values = {
                "due_at": want.due_at,
                "stale_after": want.stale_after,
                "payload": dict(want.payload),
            }
            if row.status == S.CANCELLED:
                values |= {"status": S.PENDING.value, "reason": None}
                revived += 1
            elif (row.due_at, row.stale_after, row.payload) != tuple(values.values()):
                moved += 1
            else:
                continue
            db.session.execute(
                update(Notification)
                .where(Notification.id == row.id, Notification.status == row.status)
                .values(**values, updated_at=now)
            )
    return moved, revived


def _cancel_unwanted(
    planner: Planner,
    wanted: dict[str, Reminder],
    now: datetime,
    until: datetime,
    object_ids: Collection[int] | None,
) -> int:
    """Cancel pending rows of the planner's kinds that it no longer asks for."""
    query = select(Notification.id, Notification.idempotency_key).where(
        Notification.kind.in_([str(k) for k in planner.kinds]),
        Notification.status == S.PENDING,
        Notification.due_at <= until,
        Notification.stale_after > now,
    )
    if object_ids is not None:
        query = query.where(
            Notification.object_type == planner.object_type,
            Notification.object_id.in_(list(object_ids)),
        )
    ids = [row.id for row in db.session.execute(query) if row[1] not in wanted]
    for start in range(0, len(ids), 500):
        db.session.execute(
            update(Notification)
            .where(
                Notification.id.in_(ids[start : start + 500]),
                Notification.status == S.PENDING,
            )
            .values(
                status=S.CANCELLED.value, reason=REASON_NO_LONGER_DUE, updated_at=now
            )
        )
    return len(ids)


def notify_admins(
    kind: NotificationKind,
    object_type: str,
    object_id: int | None,
    now: datetime,
    payload: Mapping[str, Any],
    *,
    stale_after: timedelta = timedelta(days=3),
    extra: str = "",
) -> int:
    """Plan a notification to every active admin, due now (once per object and day)."""
    admin_ids = db.session.scalars(
        select(User.id)
        .join(UserRole, UserRole.user_id == User.id)
        .where(UserRole.role == Role.ADMIN.value, User.is_active_account.is_(True))
    ).all()
    return plan(
        (
            Reminder(kind, admin_id, object_type, object_id, now, now + stale_after,
                     payload, extra)
            for admin_id in admin_ids
        ),
        now,
    )  # fmt: skip


def outbox_counts() -> dict[str, int]:
    """Rows per status (one query)."""
    rows = db.session.execute(
        select(Notification.status, func.count()).group_by(Notification.status)
    )
    return {status: count for status, count in rows}
