"""Evidence that goes bad, seen at flush time wherever the change comes from.

A verified activity rejected, moved back from verified, or deleted suspends every
standing recognition that rests on it, in the same transaction; the head and the
teacher are notified through the outbox. The activities area needs to know
nothing about recognitions.
"""

from __future__ import annotations

from typing import Any

from flask_sqlalchemy.session import Session as FlaskSession
from sqlalchemy import event, inspect
from sqlalchemy.orm import Session

from pdtracker.activities.models import Activity, ActivityStatus
from pdtracker.recognition import lifecycle
from pdtracker.timeutil import utcnow

VERIFIED = ActivityStatus.VERIFIED.value


def _left_verified(activity: Activity) -> str | None:
    """Why a dirty activity stopped being verified in this flush, else None."""
    history = inspect(activity).attrs.status.history
    if not history.has_changes() or VERIFIED not in (history.deleted or ()):
        return None
    now = activity.status
    if now == VERIFIED:
        return None
    return "rejected" if now == ActivityStatus.REJECTED else "unverified"


def _before_flush(session: Session, _context: Any, _instances: Any) -> None:
    bad: dict[int, str] = {}
    for obj in session.deleted:
        if isinstance(obj, Activity) and obj.id is not None:
            bad[obj.id] = "deleted"
    for obj in session.dirty:
        if isinstance(obj, Activity) and obj.id not in bad:
            reason = _left_verified(obj)
            if reason is not None:
                bad[obj.id] = reason
    if not bad:
        return
    now = utcnow()
    with session.no_autoflush:
        suspended = lifecycle.flag_activities(bad, now, session=session)
        if suspended:
            lifecycle.notify_suspended(suspended, now)


def install() -> None:
    """Listen on Flask-SQLAlchemy sessions, once per process."""
    if not event.contains(FlaskSession, "before_flush", _before_flush):
        event.listen(FlaskSession, "before_flush", _before_flush)
