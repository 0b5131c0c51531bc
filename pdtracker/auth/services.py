"""Login throttling and password changes."""

from __future__ import annotations

from datetime import datetime

from flask import current_app
from sqlalchemy import func, select

from pdtracker.audit import record
from pdtracker.auth.models import LoginAttempt, User
from pdtracker.extensions import db


def is_throttled(username: str, address: str, now: datetime) -> bool:
    """True when the account or the address had too many recent failures."""
    cfg = current_app.config
    since = now - cfg["LOGIN_WINDOW"]
    failed = select(func.count()).where(
        LoginAttempt.succeeded.is_(False), LoginAttempt.created_at >= since
    )
    by_account = db.session.scalar(failed.where(LoginAttempt.username == username))
    if by_account >= cfg["LOGIN_MAX_FAILURES_PER_ACCOUNT"]:
        return True
    by_address = db.session.scalar(failed.where(LoginAttempt.address == address))
    return by_address >= cfg["LOGIN_MAX_FAILURES_PER_ADDRESS"]


def authenticate(
    username: str, password: str, address: str, now: datetime
) -> User | None:
    """Check the credentials and record the attempt."""
    user = db.session.scalar(select(User).where(User.username == username))
    ok = bool(user and user.is_active and user.check_password(password))
    db.session.add(
        LoginAttempt(
            username=username[:64], address=address[:64], succeeded=ok, created_at=now
        )
    )
    return user if ok else None


def change_password(user: User, new_password: str, now: datetime) -> None:
    """Set a new password and end the user's other sessions."""
    user.set_password(new_password)
    user.end_other_sessions()
    record(user.id, "password.change", "user", user.id, now=now)
