"""Logging in and checking passwords (throttled), logging out, password changes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask import current_app
from sqlalchemy import select

from pdtracker.audit import record
from pdtracker.auth import throttle
from pdtracker.auth.models import LoginAttempt, User
from pdtracker.auth.throttle import Limit, Verdict
from pdtracker.extensions import db


@dataclass(frozen=True)
class Attempt:
    """The outcome of a password check: the user if it was right, or a wait."""

    user: User | None
    verdict: Verdict

    @property
    def throttled(self) -> bool:
        """Refused without checking the password: the caller must wait."""
        return not self.verdict.allowed


def account_limit(username: str) -> Limit:
    """Guesses at one account's password; its owner's success forgets them."""
    return Limit(
        f"login:account:{username[:64]}",
        current_app.config["LOGIN_MAX_FAILURES_PER_ACCOUNT"],
        on_success="forget",
    )


def address_limit(address: str) -> Limit:
    """Guesses from one client address (maybe a whole campus behind one NAT)."""
    return Limit(
        f"login:address:{address[:64]}",
        current_app.config["LOGIN_MAX_FAILURES_PER_ADDRESS"],
    )


def password_limits(username: str, address: str) -> list[Limit]:
    """The counters a guess at this account's password is charged to."""
    return [account_limit(username), address_limit(address)]


def authenticate(username: str, password: str, address: str, now: datetime) -> Attempt:
    """Check the credentials, throttled per account and address; record the attempt.

    Unknown and inactive accounts cost one password hash too, so the response
    time does not tell which logins exist. Commits (the throttle counters).
    """
    limits = password_limits(username, address)
    verdict = throttle.reserve(limits, now)
    if not verdict.allowed:
        return Attempt(None, verdict)
    user = db.session.scalar(select(User).where(User.username == username))
    if user is None:
        ok = User.check_no_password(password)
    else:
        ok = user.check_password(password) and user.is_active
    db.session.add(
        LoginAttempt(
            username=username[:64], address=address[:64], succeeded=ok, created_at=now
        )
    )
    if ok:
        throttle.succeeded(limits)
    db.session.commit()
    return Attempt(user if ok else None, verdict)


def check_current_password(
    user: User, password: str, address: str, now: datetime
) -> Attempt:
    """The password-change form's check, throttled like a login to the same account."""
    limits = password_limits(user.username, address)
    verdict = throttle.reserve(limits, now)
    if not verdict.allowed:
        return Attempt(None, verdict)
    ok = user.check_password(password)
    if ok:
        throttle.succeeded(limits)
    db.session.commit()
    return Attempt(user if ok else None, verdict)


def end_sessions(user: User) -> None:
    """Log out everywhere: every session and remember-me cookie issued so far stops working.

    A copied cookie is then useless, whichever device it was taken from.
    """
    user.end_other_sessions()


def change_password(user: User, new_password: str, now: datetime) -> None:
    """Set a new password and end the user's other sessions."""
    user.set_password(new_password)
    user.end_other_sessions()
    record(user.id, "password.change", "user", user.id, now=now)
