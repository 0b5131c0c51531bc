"""The outbox's delivery side: claim due rows with a lease, deliver, record.

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
which is retried after its lease as before. See docs/deployment.md D11.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from flask import current_app
from sqlalchemy import CursorResult, and_, or_, select, update
from sqlalchemy.orm import selectinload

from pdtracker.extensions import db
from pdtracker.notifications import delivery
from pdtracker.notifications.models import Channel, Notification, NotificationStatus
from pdtracker.notifications.outbox import REASON_NO_LONGER_DUE, Planner
from pdtracker.notifications.planners import all_planners
from pdtracker.notifications.preferences import channels_for
from pdtracker.timeutil import app_zone

logger = logging.getLogger(__name__)

S = NotificationStatus
# Reasons recorded on dropped / failed rows.
REASON_STALE = "stale"
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
    statement = (
        update(Notification)
        .where(
            Notification.id == row_id,
            Notification.status == S.CLAIMED,
            Notification.claim_token == token,
        )
        .values(**values, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    result = cast(CursorResult[Any], db.session.execute(statement))
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
    by_kind = {str(kind): p for p in planners for kind in p.kinds}
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
