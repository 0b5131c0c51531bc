"""The outbox: plan reminders idempotently, claim due ones with a lease, deliver, record.

Work lives in the database, not in APScheduler's job store. Planning inserts rows
keyed by (kind, object, recipient, due date), so planning twice inserts one row.
A dispatcher claims due rows in one short transaction (``FOR UPDATE SKIP LOCKED``
on PostgreSQL, ``BEGIN IMMEDIATE`` on SQLite), sends outside it, and marks each
row sent in a transaction of its own that checks its claim token, so a dispatcher
whose lease ran out cannot mark or send a row another one took over.

E-mail is at most once. Before handing a message to SMTP the dispatcher commits
that it is doing so (reason "sending" on the claimed row). If it dies after that
(kill -9, a crash, a lost machine) nobody knows whether the mail server got the
message, and a retry could mail the same reminder twice. So a row found still
"sending" once its lease ran out is settled as in doubt: sent, shown in-app,
reason "in_doubt", logged, and never mailed again. For reminders a rare missing
e-mail (the in-app notification still shows) is the better failure than a
duplicate. A dispatcher that dies before that commit leaves a plain claimed row,
which is retried after its lease as before.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.orm import selectinload

from pdtracker.auth.models import Role, User, UserRole
from pdtracker.extensions import db
from pdtracker.notifications.models import (
    Channel,
    Notification,
    NotificationKind,
    NotificationPreference,
    NotificationStatus,
    SchedulerHeartbeat,
    SchedulerRun,
)

logger = logging.getLogger(__name__)

S = NotificationStatus
INSERT_CHUNK = 200
# Reasons recorded on dropped / cancelled rows.
REASON_STALE = "stale"
REASON_NO_LONGER_DUE = "no_longer_due"
REASON_SWITCHED_OFF = "switched_off"
REASON_INACTIVE = "inactive"
REASON_GAVE_UP = "gave_up"
# On a claimed row: its e-mail is being handed to the mail server right now.
REASON_SENDING = "sending"
# On a sent row: its dispatcher died while sending; the e-mail may or may not exist.
REASON_IN_DOUBT = "in_doubt"
IN_DOUBT_ERROR = (
    "in doubt: the dispatcher stopped while handing this e-mail to the mail server;"
    " not sent again (it may or may not have been delivered)"
)


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

    def key(self, zone: ZoneInfo) -> str:
        """The idempotency key: kind, object, recipient and the local due date."""
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


@dataclass
class DispatchResult:
    """What one dispatch tick did."""

    claimed: int = 0
    sent: int = 0
    emailed: int = 0
    dropped: int = 0
    cancelled: int = 0
    retried: int = 0
    failed: int = 0
    lost: int = 0
    in_doubt: int = 0

    def as_dict(self) -> dict[str, int]:
        """Counts for the tick record."""
        return dict(vars(self))


def app_zone() -> ZoneInfo:
    """The deployment's zone: idempotency keys use its calendar dates."""
    return ZoneInfo(current_app.config["TIMEZONE"])


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


def _insert(dialect: str) -> Any:
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert


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
    insert = _insert(db.engine.dialect.name)
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


def _claimable(now: datetime) -> Any:
    """Pending rows, or claimed rows whose lease ran out (their dispatcher died).

    Not a row whose e-mail was being handed to SMTP: that one is in doubt.
    """
    return or_(
        Notification.status == S.PENDING,
        and_(
            Notification.status == S.CLAIMED,
            Notification.claimed_until < now,
            Notification.reason.is_distinct_from(REASON_SENDING),
        ),
    )


def settle_in_doubt(now: datetime) -> list[int]:
    """Mark sent, without mailing again, rows whose dispatcher died while sending them.

    A claimed row still "sending" after its lease ran out: the mail server may or
    may not have the message. It becomes sent (so it shows in-app, at the time it
    was handed over) with reason "in_doubt" and no emailed_at. Runs in its own
    short transaction; returns the ids, each logged.
    """
    with db.engine.connect() as conn:
        if conn.dialect.name == "sqlite":
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        ids = sorted(
            conn.execute(
                update(Notification)
                .where(
                    Notification.status == S.CLAIMED,
                    Notification.claimed_until < now,
                    Notification.reason == REASON_SENDING,
                )
                .values(
                    status=S.SENT.value,
                    reason=REASON_IN_DOUBT,
                    sent_at=Notification.updated_at,  # when it was handed over
                    emailed_at=None,
                    last_error=IN_DOUBT_ERROR,
                    claim_token=None,
                    claimed_until=None,
                    updated_at=now,
                )
                .returning(Notification.id)
                .execution_options(synchronize_session=False)
            ).scalars()
        )
        conn.commit()
    for row_id in ids:
        logger.warning(
            "notification %s: e-mail in doubt (the dispatcher stopped while handing"
            " it to the mail server); marked sent, not mailed again",
            row_id,
        )
    return ids


def claim_due(now: datetime, *, limit: int, lease: timedelta, token: str) -> list[int]:
    """Atomically claim up to `limit` due rows for `token`; drop stale ones first.

    Runs in its own short transaction on a connection of its own.
    """
    with db.engine.connect() as conn:
        if conn.dialect.name == "sqlite":
            # Take the write lock first: a deferred transaction that read before
            # writing could fail with "database is locked" under concurrency.
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        conn.execute(
            update(Notification)
            .where(_claimable(now), Notification.stale_after <= now)
            .values(
                status=S.DROPPED.value,
                reason=REASON_STALE,
                claim_token=None,
                claimed_until=None,
                updated_at=now,
            )
        )
        # A materialised CTE runs once. As a plain IN (subquery), PostgreSQL may
        # re-run the LIMIT … FOR UPDATE SKIP LOCKED subquery per row and claim more.
        due = (
            select(Notification.id)
            .where(_claimable(now), Notification.due_at <= now)
            .order_by(Notification.due_at, Notification.id)
            .limit(limit)
            .with_for_update(skip_locked=True)  # ignored by SQLite
            .cte("due")
            .prefix_with("MATERIALIZED")
        )
        ids = conn.execute(
            update(Notification)
            .where(Notification.id.in_(select(due.c.id)), _claimable(now))
            .values(
                status=S.CLAIMED.value,
                claim_token=token,
                claimed_until=now + lease,
                attempts=Notification.attempts + 1,
                updated_at=now,
            )
            .returning(Notification.id)
            .execution_options(synchronize_session=False)
        ).scalars()
        claimed = sorted(ids)
        conn.commit()
    return claimed


def _finish(row_id: int, token: str, now: datetime, **values: Any) -> bool:
    """Change a row we hold (claimed, our token) in its own transaction; False if lost."""
    result = db.session.execute(
        update(Notification)
        .where(
            Notification.id == row_id,
            Notification.status == S.CLAIMED,
            Notification.claim_token == token,
        )
        .values(**values, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    if result.rowcount != 1:
        logger.warning("notification %s: lease lost before it was marked", row_id)
    return result.rowcount == 1


def mark_sent(
    row_id: int, token: str, now: datetime, *, channel: Channel, emailed: bool,
    error: str | None = None, payload: Mapping[str, Any] | None = None,
) -> bool:  # fmt: skip
    """Mark a claimed row sent; a row marked sent is never claimed again."""
    extra = {} if payload is None else {"payload": dict(payload)}
    return _finish(
        row_id,
        token,
        now,
        **extra,
        status=S.SENT.value,
        reason=None,
        sent_at=now,
        emailed_at=now if emailed else None,
        channel=channel.value,
        last_error=error,
        claim_token=None,
        claimed_until=None,
    )


def mark_sending(row_id: int, token: str, now: datetime, *, channel: Channel) -> bool:
    """Record, committed, that the row's e-mail is about to go to SMTP; False if lost.

    Call right before handing the message over, and do not send if it fails: then
    another dispatcher took the row over, so this one must not mail it.
    """
    return _finish(row_id, token, now, reason=REASON_SENDING, channel=channel.value)


def release_for_retry(
    row_id: int, token: str, now: datetime, retry_at: datetime, error: str
) -> bool:
    """Keep the claim until `retry_at` under a fresh token: then any dispatcher retries.

    Only after a definite failure (the server refused or was unreachable): the row
    is no longer "sending", so it is retried rather than settled as in doubt.
    """
    return _finish(
        row_id,
        token,
        now,
        reason=None,
        claim_token=uuid.uuid4().hex,
        claimed_until=retry_at,
        last_error=error[:500],
    )


def close(row_id: int, token: str, now: datetime, status: S, reason: str) -> bool:
    """Drop, cancel or fail a claimed row with a reason."""
    return _finish(
        row_id,
        token,
        now,
        status=status.value,
        reason=reason,
        claim_token=None,
        claimed_until=None,
    )


def retry_delay(attempts: int) -> timedelta:
    """Back off 2, 4, 8… minutes, at most an hour."""
    return timedelta(minutes=min(2**attempts, 60))


def channels_for(pairs: Iterable[tuple[int, str]]) -> dict[tuple[int, str], Channel]:
    """Each (user, kind)'s chosen channel, e-mail and in-app by default (one query)."""
    pairs = set(pairs)
    users = {user_id for user_id, _ in pairs}
    chosen = {
        (p.user_id, p.kind): Channel(p.channel)
        for p in db.session.scalars(
            select(NotificationPreference).where(
                NotificationPreference.user_id.in_(users)
            )
        )
    }
    return {pair: chosen.get(pair, Channel.EMAIL_AND_APP) for pair in pairs}


def preferences_of(user: User) -> dict[NotificationKind, Channel]:
    """The user's channel for every kind."""
    chosen = channels_for((user.id, str(kind)) for kind in NotificationKind)
    return {kind: chosen[(user.id, str(kind))] for kind in NotificationKind}


def set_preferences(user: User, choices: Mapping[NotificationKind, Channel]) -> None:
    """Store the user's channels (the default is stored too: it is explicit then)."""
    current = {
        p.kind: p
        for p in db.session.scalars(
            select(NotificationPreference).where(
                NotificationPreference.user_id == user.id
            )
        )
    }
    for kind, channel in choices.items():
        row = current.get(str(kind))
        if row is None:
            db.session.add(
                NotificationPreference(
                    user_id=user.id, kind=str(kind), channel=channel.value
                )
            )
        else:
            row.channel = channel.value
    db.session.flush()


def load_claimed(ids: Collection[int]) -> list[Notification]:
    """The claimed rows with their recipients, oldest due first."""
    return list(
        db.session.scalars(
            select(Notification)
            .where(Notification.id.in_(list(ids)))
            .options(selectinload(Notification.recipient))
            .order_by(Notification.due_at, Notification.id)
        )
    )


def revalidate(
    rows: list[Notification], planners: Iterable[Planner], now: datetime
) -> dict[int, dict[str, Any] | None]:
    """Ask each row's planner again: a fresh payload, or None when no longer wanted.

    Catches an event cancelled or moved since the last planning tick. Rows of
    kinds no planner owns (sent directly, like feed failures) keep their payload.
    """
    zone = app_zone()
    by_kind = {kind: p for p in planners for kind in p.kinds}
    verdict: dict[int, dict[str, Any] | None] = {
        r.id: r.payload for r in rows if r.kind not in by_kind
    }
    groups: dict[str, list[Notification]] = {}
    for row in rows:
        if row.kind in by_kind:
            groups.setdefault(by_kind[row.kind].name, []).append(row)
    for planner in {p.name: p for p in by_kind.values()}.values():
        members = groups.get(planner.name, [])
        if not members:
            continue
        ids = {r.object_id for r in members if r.object_id is not None}
        wanted = {
            r.key(zone): r
            for r in planner.collect(now, now, ids)
            if r.stale_after > now
        }
        for row in members:
            match = wanted.get(row.idempotency_key)
            verdict[row.id] = None if match is None else dict(match.payload)
    return verdict


def dispatch_due(
    now: datetime,
    *,
    limit: int | None = None,
    lease: timedelta | None = None,
    planners: Iterable[Planner] | None = None,
) -> dict[str, int]:
    """The dispatch tick: claim due rows, re-check them, deliver, mark each sent."""
    from pdtracker.notifications import delivery
    from pdtracker.notifications.planners import all_planners

    config = current_app.config
    limit = limit or config["NOTIFICATION_BATCH"]
    lease = lease or timedelta(seconds=config["NOTIFICATION_LEASE"])
    token = uuid.uuid4().hex
    db.session.commit()  # start from a fresh snapshot
    in_doubt = len(settle_in_doubt(now))
    ids = claim_due(now, limit=limit, lease=lease, token=token)
    result = DispatchResult(claimed=len(ids), in_doubt=in_doubt)
    if not ids:
        return result.as_dict()
    rows = load_claimed(ids)
    payloads = revalidate(rows, all_planners() if planners is None else planners, now)
    channels = channels_for((r.recipient_id, r.kind) for r in rows)
    # Keep the loaded rows, and end the read transaction before talking to SMTP.
    db.session.expunge_all()
    db.session.commit()
    with delivery.Mailer.from_config(config) as mailer:
        for row in rows:
            _deliver_one(row, token, now, payloads[row.id], channels, mailer, result)
    return result.as_dict()


def _deliver_one(
    row: Notification,
    token: str,
    now: datetime,
    payload: dict[str, Any] | None,
    channels: dict[tuple[int, str], Channel],
    mailer: Any,
    result: DispatchResult,
) -> None:
    """Deliver one claimed row (detached, with its recipient) and record the outcome."""
    from pdtracker.notifications import delivery

    if payload is None:
        result.cancelled += close(row.id, token, now, S.CANCELLED, REASON_NO_LONGER_DUE)
        return
    channel = channels[(row.recipient_id, row.kind)]
    if channel == Channel.OFF:
        result.dropped += close(row.id, token, now, S.DROPPED, REASON_SWITCHED_OFF)
        return
    if not row.recipient.is_active:
        result.dropped += close(row.id, token, now, S.DROPPED, REASON_INACTIVE)
        return
    row.payload = payload  # detached: only what we render, stored by mark_sent
    max_attempts = current_app.config["NOTIFICATION_MAX_ATTEMPTS"]
    to_mail = (
        channel == Channel.EMAIL_AND_APP and mailer.enabled and row.recipient.email
    )
    try:
        message = delivery.render_email(row, row.recipient) if to_mail else None
    except Exception as exc:  # a bad template must not stop the other rows
        logger.exception("notification %s: rendering failed", row.id)
        _retry_or_fail(row, token, now, f"render: {exc}", max_attempts, result)
        return
    error = None
    if message is not None:
        # Committed before SMTP: if we die from here on, the row is in doubt, not
        # retried (see the module docstring).
        if not mark_sending(row.id, token, now, channel=channel):
            result.lost += 1
            return
        try:
            mailer.send(message)
        except Exception as exc:  # SMTP down, recipient refused: retry later
            logger.warning("notification %s: e-mail failed: %s", row.id, exc)
            if row.attempts < max_attempts:
                retry_at = now + retry_delay(row.attempts)
                result.retried += release_for_retry(
                    row.id, token, now, retry_at, f"smtp: {exc}"
                )
                return
            error = f"smtp: {exc}"[:500]  # give up on e-mail; in-app still shows it
    emailed = message is not None and error is None
    if mark_sent(
        row.id, token, now, channel=channel, emailed=emailed, error=error,
        payload=payload,
    ):  # fmt: skip
        result.sent += 1
        result.emailed += emailed
    else:
        result.lost += 1


def _retry_or_fail(
    row: Notification,
    token: str,
    now: datetime,
    error: str,
    max_attempts: int,
    result: DispatchResult,
) -> None:
    if row.attempts < max_attempts:
        retry_at = now + retry_delay(row.attempts)
        result.retried += release_for_retry(row.id, token, now, retry_at, error)
    else:
        _finish(
            row.id,
            token,
            now,
            status=S.FAILED.value,
            reason=REASON_GAVE_UP,
            last_error=error[:500],
            claim_token=None,
            claimed_until=None,
        )
        result.failed += 1


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


# In-app notifications.

# E-mail only: a password-reset link in the inbox would let anyone holding a session
# set a new password without knowing the current one.
MAIL_ONLY_KINDS = (NotificationKind.PASSWORD_RESET.value,)


def inbox_query(user: User) -> Any:
    """The user's delivered notifications, newest first."""
    return (
        select(Notification)
        .where(
            Notification.recipient_id == user.id,
            Notification.status == S.SENT,
            Notification.kind.not_in(MAIL_ONLY_KINDS),
        )
        .order_by(Notification.sent_at.desc(), Notification.id.desc())
    )


def unread_count(user_id: int) -> int:
    """How many delivered notifications the user has not read (one query)."""
    return db.session.scalar(
        select(func.count(Notification.id)).where(
            Notification.recipient_id == user_id,
            Notification.status == S.SENT,
            Notification.kind.not_in(MAIL_ONLY_KINDS),
            Notification.read_at.is_(None),
        )
    )


def get_own(user: User, notification_id: int) -> Notification | None:
    """One of the user's delivered notifications, or None (someone else's looks absent)."""
    return db.session.scalar(
        select(Notification).where(
            Notification.id == notification_id,
            Notification.recipient_id == user.id,
            Notification.status == S.SENT,
            Notification.kind.not_in(MAIL_ONLY_KINDS),
        )
    )


def mark_read(notification: Notification, now: datetime) -> None:
    """Mark one notification read (reading twice keeps the first time)."""
    if notification.read_at is None:
        notification.read_at = now
    db.session.flush()


def mark_all_read(user: User, now: datetime) -> int:
    """Mark every unread notification of the user read; return how many."""
    result = db.session.execute(
        update(Notification)
        .where(
            Notification.recipient_id == user.id,
            Notification.status == S.SENT,
            Notification.kind.not_in(MAIL_ONLY_KINDS),
            Notification.read_at.is_(None),
        )
        .values(read_at=now)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount


# Scheduler records: runs and the heartbeat.


def start_run(tick: str, scheduler_id: str, now: datetime) -> SchedulerRun:
    """Record that a tick started (the caller commits)."""
    run = SchedulerRun(tick=tick, scheduler_id=scheduler_id, started_at=now, counts={})
    db.session.add(run)
    db.session.flush()
    return run


def finish_run(
    run: SchedulerRun, now: datetime, counts: Mapping[str, Any], error: str | None
) -> None:
    """Record how a tick ended (the caller commits)."""
    run.finished_at = now
    run.counts = dict(counts)
    run.error = error
    db.session.flush()


def beat(scheduler_id: str, started_at: datetime, now: datetime) -> None:
    """Upsert the single heartbeat row in one statement (the caller commits).

    INSERT … ON CONFLICT DO UPDATE, not read-then-insert: on a first start every
    catch-up tick beats at the same moment, and with no row yet all of them would
    insert it; on PostgreSQL all but one would then fail on the primary key.
    """
    values = {"scheduler_id": scheduler_id, "started_at": started_at, "beat_at": now}
    insert = _insert(db.session.connection().dialect.name)
    statement = insert(SchedulerHeartbeat).values(id=1, **values)
    db.session.execute(
        statement.on_conflict_do_update(
            index_elements=["id"],
            set_={name: statement.excluded[name] for name in values},
        )
    )


def last_heartbeat() -> SchedulerHeartbeat | None:
    """The scheduler's heartbeat row, if it ever ran."""
    return db.session.get(SchedulerHeartbeat, 1)


def heartbeat_is_fresh(heartbeat: SchedulerHeartbeat | None, now: datetime) -> bool:
    """Whether the scheduler beat recently enough (SCHEDULER_HEARTBEAT_MAX_AGE)."""
    max_age = timedelta(seconds=current_app.config["SCHEDULER_HEARTBEAT_MAX_AGE"])
    return heartbeat is not None and now - heartbeat.beat_at <= max_age


def last_success(tick: str) -> datetime | None:
    """When the tick last finished without error."""
    return db.session.scalar(
        select(func.max(SchedulerRun.started_at)).where(
            SchedulerRun.tick == tick,
            SchedulerRun.finished_at.is_not(None),
            SchedulerRun.error.is_(None),
        )
    )


def recent_runs(per_tick: int = 10) -> dict[str, list[SchedulerRun]]:
    """The last runs of every tick (one query, whatever the history's size)."""
    rank = (
        func.row_number()
        .over(partition_by=SchedulerRun.tick, order_by=SchedulerRun.started_at.desc())
        .label("rank")
    )
    ranked = select(SchedulerRun.id, rank).subquery()
    runs = db.session.scalars(
        select(SchedulerRun)
        .join(ranked, ranked.c.id == SchedulerRun.id)
        .where(ranked.c.rank <= per_tick)
        .order_by(SchedulerRun.tick, SchedulerRun.started_at.desc())
    )
    grouped: dict[str, list[SchedulerRun]] = {}
    for run in runs:
        grouped.setdefault(run.tick, []).append(run)
    return grouped


def outbox_counts() -> dict[str, int]:
    """Rows per status (one query)."""
    rows = db.session.execute(
        select(Notification.status, func.count()).group_by(Notification.status)
    )
    return {status: count for status, count in rows}


def prune(now: datetime) -> dict[str, int]:
    """Delete run records older than SCHEDULER_RUNS_KEEP_DAYS (the caller commits)."""
    keep = timedelta(days=current_app.config["SCHEDULER_RUNS_KEEP_DAYS"])
    result = db.session.execute(
        SchedulerRun.__table__.delete().where(SchedulerRun.started_at < now - keep)
    )
    return {"runs_pruned": result.rowcount}


def local_date(value: datetime) -> date:
    """The calendar date of an instant in the deployment's zone."""
    return value.astimezone(app_zone()).date()


def refresh_feeds(now: datetime) -> dict[str, Any]:
    """The feed tick: re-import each subscribed calendar URL; failures go to admins.

    One failing source never stops the others. Uses the events area's URL import
    (conditional GET with the stored ETag / Last-Modified).
    """
    try:
        from pdtracker.events import importing
        from pdtracker.events.models import ImportSource, ImportSourceKind
    except ImportError:  # the events area has no URL import yet
        return {"sources": 0}
    ids = db.session.scalars(
        select(ImportSource.id)
        .where(ImportSource.kind == ImportSourceKind.URL.value)
        .order_by(ImportSource.id)
    ).all()
    counts = {"sources": len(ids), "refreshed": 0, "not_modified": 0, "failed": 0}
    for source_id in ids:
        source = db.session.get(ImportSource, source_id)
        try:
            report = importing.refresh_url_source(source, now)
            db.session.commit()
            counts["not_modified" if report.not_modified else "refreshed"] += 1
        except Exception as exc:  # one failing feed must not stop the others
            db.session.rollback()
            logger.warning("feed %s failed: %s", source_id, exc)
            counts["failed"] += 1
            _report_feed_failure(source_id, now, str(exc))
    return counts


def _report_feed_failure(source_id: int, now: datetime, error: str) -> None:
    """Record the error on the source and tell the admins (once per source and day)."""
    from pdtracker.events.models import ImportSource

    begin_write()
    source = db.session.get(ImportSource, source_id)
    if source is None:
        return
    source.last_error = error[:500]
    notify_admins(
        NotificationKind.FEED_FAILED,
        "import_source",
        source.id,
        now,
        {"source": source.name or source.url or "", "url": source.url or "",
         "error": error[:300], "failed_at": now.isoformat()},
    )  # fmt: skip
    db.session.commit()
