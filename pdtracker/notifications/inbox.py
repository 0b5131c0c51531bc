"""The in-app inbox: a person's delivered notifications, unread counts, marking read."""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, func, select, update

from pdtracker.auth.models import User
from pdtracker.extensions import db
from pdtracker.notifications.models import (
    MAIL_ONLY_KINDS,
    Notification,
    NotificationStatus,
)

S = NotificationStatus


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
    count = db.session.scalar(
        select(func.count(Notification.id)).where(
            Notification.recipient_id == user_id,
            Notification.status == S.SENT,
            Notification.kind.not_in(MAIL_ONLY_KINDS),
            Notification.read_at.is_(None),
        )
    )
    return count or 0


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
    statement = (
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
    return cast(CursorResult[Any], db.session.execute(statement)).rowcount
