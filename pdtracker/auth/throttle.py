"""Throttling by delay, not lockout: guessing is slowed down, the owner still gets in.

Every key (an account, a client address) has a counter of recent failures. The
first ``free`` attempts go through at once; after that each attempt must wait a
delay that doubles with every further failure, up to LOGIN_MAX_DELAY. Failures
leak away over time (``free`` of them per LOGIN_WINDOW), so a campus behind one
address is not slowed down forever by everyone's occasional typo.

An attempt is charged *before* the password is checked, under the counter row's
lock (an upsert locks it on PostgreSQL and takes the write lock on SQLite), so
concurrent guesses are counted one after the other and cannot all pass the check.
A success then gives the charge back (or forgets the account's failures).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import CursorResult, case, delete, or_, select, update

from pdtracker.auth.models import ThrottleCounter
from pdtracker.database import dialect_insert
from pdtracker.extensions import db

C = ThrottleCounter


@dataclass(frozen=True)
class Limit:
    """One counter an attempt is charged to, and how many attempts are free."""

    key: str
    free: int
    # On success: "forget" all failures (the account's owner proved the password)
    # or "refund" this attempt only (an address many people share).
    on_success: str = "refund"


@dataclass(frozen=True)
class Verdict:
    """Whether the attempt may go ahead, else how long to wait."""

    allowed: bool
    retry_after: timedelta = timedelta(0)

    @property
    def retry_seconds(self) -> int:
        """The wait in whole seconds, rounded up (for Retry-After)."""
        return max(1, math.ceil(self.retry_after.total_seconds()))


def as_timedelta(value: timedelta | float) -> timedelta:
    """A duration setting: a timedelta, or seconds (as set from the environment)."""
    return value if isinstance(value, timedelta) else timedelta(seconds=value)


def delay_after(failures: int, free: int) -> timedelta | None:
    """The wait before the next attempt, or None while attempts are still free."""
    if failures < free:
        return None
    config = current_app.config
    first = as_timedelta(config["LOGIN_DELAY"])
    cap = as_timedelta(config["LOGIN_MAX_DELAY"])
    return min(first * 2 ** min(failures - free, 30), cap)


def reserve(limits: Sequence[Limit], now: datetime) -> Verdict:
    """Charge one attempt to every key, unless one of them must still wait; commit.

    Ends the caller's transaction first: the counters' lock must be the first
    write of a fresh transaction, and is released by the commit at the end.
    """
    db.session.commit()
    rows = _locked(sorted({limit.key for limit in limits}), now)
    for limit in limits:
        _leak(rows[limit.key], limit.free, now)
    waits = [
        until - now
        for r in rows.values()
        if (until := r.blocked_until) is not None and until > now
    ]
    if waits:
        db.session.commit()
        return Verdict(False, max(waits))
    for limit in limits:
        row = rows[limit.key]
        row.failures += 1
        delay = delay_after(row.failures, limit.free)
        row.blocked_until = now + delay if delay else None
    db.session.commit()
    return Verdict(True)


def succeeded(limits: Sequence[Limit]) -> None:
    """Give back the attempt charged by ``reserve`` (or forget every failure)."""
    for limit in limits:
        if limit.on_success == "forget":
            values: dict[str, Any] = {"failures": 0, "blocked_until": None}
        else:
            remaining = case((C.failures > 0, C.failures - 1), else_=0)
            values = {
                "failures": remaining,
                "blocked_until": case(
                    (C.failures - 1 < limit.free, None), else_=C.blocked_until
                ),
            }
        db.session.execute(
            update(C)
            .where(C.key == limit.key)
            .values(values)
            .execution_options(synchronize_session=False)
        )


def _blocked(row: ThrottleCounter, now: datetime) -> bool:
    return row.blocked_until is not None and row.blocked_until > now


def _leak(row: ThrottleCounter, free: int, now: datetime) -> None:
    """Forget the failures that have leaked away since the row was last brought up to date."""
    step = as_timedelta(current_app.config["LOGIN_WINDOW"]) / max(free, 1)
    leaked = int((now - row.last_at) / step) if now > row.last_at else 0
    if leaked >= row.failures:
        row.failures, row.last_at = 0, now
        if not _blocked(row, now):
            row.blocked_until = None
    elif leaked:
        row.failures -= leaked
        row.last_at += step * leaked  # keep the remainder: frequent calls still leak


def _locked(keys: list[str], now: datetime) -> dict[str, ThrottleCounter]:
    """The counters of the keys, created if new, locked until the transaction ends.

    Keys are taken in sorted order so two requests never wait for each other's.
    """
    insert = dialect_insert(db.session.get_bind().dialect.name)
    for key in keys:
        db.session.execute(
            insert(C)
            .values(key=key, failures=0, last_at=now)
            .on_conflict_do_update(
                index_elements=[C.key], set_={"failures": C.failures}
            )
        )
    rows = db.session.scalars(
        select(C).where(C.key.in_(keys)).execution_options(populate_existing=True)
    )
    return {row.key: row for row in rows}


# A counter untouched this long has leaked to nothing: failures leak at no less than
# 3 per 15 minutes (the smallest free count per window), 288 a day, while the
# longest wait lets at most 96 attempts a day through.
FORGET_AFTER = timedelta(days=1)


def prune(now: datetime) -> int:
    """Delete counters that can no longer delay anyone (the caller commits)."""
    statement = (
        delete(ThrottleCounter)
        .where(
            ThrottleCounter.last_at < now - FORGET_AFTER,
            or_(
                ThrottleCounter.blocked_until.is_(None),
                ThrottleCounter.blocked_until < now,
            ),
        )
        .execution_options(synchronize_session=False)
    )
    result = db.session.execute(statement)
    assert isinstance(result, CursorResult)
    return result.rowcount
