"""The in-app inbox: a person's delivered notifications, unread counts, marking read."""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from flask import g, has_app_context
from flask_sqlalchemy.session import Session as FlaskSession
from sqlalchemy import CursorResult, Select, event, func, select, update
from sqlalchemy.orm import ORMExecuteState, Session
from sqlalchemy.sql.elements import ColumnElement

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


def unread_statement(user_id: int | ColumnElement[int]) -> Select[int]:
    """The count of the user's delivered notifications not yet read (the user's id,
    or a bound parameter standing for it)."""
    return select(func.count(Notification.id)).where(
        Notification.recipient_id == user_id,
        Notification.status == S.SENT,
        Notification.kind.not_in(MAIL_ONLY_KINDS),
        Notification.read_at.is_(None),
    )


def unread_count(user_id: int) -> int:
    """How many delivered notifications the user has not read (one query)."""
    return db.session.scalar(unread_statement(user_id)) or 0


# The signed-in user's unread count, read with the user at the start of a request
# (pdtracker.auth.session.load_user), so the badge costs no query of its own.
_READ_WITH_USER = "pdtracker_unread_with_user"


def remember_unread(user_id: int, count: int) -> None:
    """Keep the count read with the signed-in user for the rest of this request."""
    setattr(g, _READ_WITH_USER, (user_id, count))


def unread_for_badge(user_id: int) -> int:
    """The badge's count: the one read with the user, unless this request has since
    written notifications (then, as for any other user, one query)."""
    kept = g.get(_READ_WITH_USER) if has_app_context() else None
    if kept is not None and kept[0] == user_id:
        return int(kept[1])
    return unread_count(user_id)


def _forget_unread() -> None:
    if has_app_context():
        g.pop(_READ_WITH_USER, None)


def _on_execute(state: ORMExecuteState) -> None:
    """An UPDATE, DELETE or INSERT of notifications (mark all read, the outbox)."""
    if state.is_select:
        return
    mapper = state.bind_mapper
    if mapper is None or mapper.class_ is Notification:
        _forget_unread()


def _on_flush(session: Session, _context: Any, _instances: Any) -> None:
    """A notification added, changed (marked read) or deleted through the ORM."""
    for obj in (*session.new, *session.dirty, *session.deleted):
        if isinstance(obj, Notification):
            _forget_unread()
            return


def install() -> None:
    """Drop the count read with the user once the request writes notifications.

    Once per process, on Flask-SQLAlchemy's sessions.
    """
    for name, fn in (("do_orm_execute", _on_execute), ("before_flush", _on_flush)):
        if not event.contains(FlaskSession, name, fn):
            event.listen(FlaskSession, name, fn)


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
