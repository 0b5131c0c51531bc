"""Forgotten passwords: a single-use link, valid 30 minutes, mailed through the outbox.

Only the token's SHA-256 is stored with the account. The outbox row that carries
the e-mail holds the link itself, which is why the link lives 30 minutes only and
works once. The answer to a request never tells whether the account exists.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from flask import current_app
from sqlalchemy import func, select

from pdtracker import onetime
from pdtracker.audit import record
from pdtracker.auth import throttle
from pdtracker.auth.models import PasswordResetToken, User
from pdtracker.auth.services import account_limit
from pdtracker.auth.throttle import Limit, Verdict, as_timedelta
from pdtracker.extensions import db
from pdtracker.notifications.models import NotificationKind
from pdtracker.notifications.outbox import Reminder, plan
from pdtracker.onetime import token_hash

T = PasswordResetToken


def request_limits(identifier: str, address: str) -> list[Limit]:
    """Requests are throttled per typed login or e-mail (existing or not) and address."""
    config = current_app.config
    return [
        Limit(
            f"reset:account:{identifier.casefold()[:254]}",
            config["PASSWORD_RESET_MAX_PER_ACCOUNT"],
        ),
        Limit(
            f"reset:address:{address[:64]}", config["PASSWORD_RESET_MAX_PER_ADDRESS"]
        ),
    ]


def find_account(identifier: str) -> User | None:
    """The active account with this login, else with this e-mail address (any case)."""
    user = db.session.scalar(select(User).where(User.username == identifier))
    if user is None and "@" in identifier:
        user = db.session.scalar(
            select(User).where(func.lower(User.email) == identifier.lower())
        )
    return user if user is not None and user.is_active else None


def request_reset(
    identifier: str, address: str, link: Callable[[str], str], now: datetime
) -> Verdict:
    """Mail a reset link to the account, if there is one with an e-mail address.

    ``link`` turns a token into the absolute URL of the reset page. Returns the
    throttle's verdict only: the caller must answer the same either way. Commits.
    """
    verdict = throttle.reserve(request_limits(identifier, address), now)
    if not verdict.allowed:
        return verdict
    user = find_account(identifier)
    if user is not None and user.email:
        _send_link(user, address, link, now)
    db.session.commit()
    return verdict


def _send_link(
    user: User, address: str, link: Callable[[str], str], now: datetime
) -> None:
    token = onetime.new_token()
    life = as_timedelta(current_app.config["PASSWORD_RESET_LIFETIME"])
    row = T(
        user_id=user.id,
        token_hash=token_hash(token),
        created_at=now,
        expires_at=now + life,
    )
    db.session.add(row)
    db.session.flush()
    payload = {"url": link(token), "expires_at": row.expires_at.isoformat()}
    # Due now; pointless once the link has expired (the dispatcher then drops it).
    plan(
        [
            Reminder(
                NotificationKind.PASSWORD_RESET,
                user.id,
                "password_reset",
                row.id,
                now,
                row.expires_at,
                payload,
            )
        ],
        now,
    )
    record(None, "password.reset_requested", "user", user.id, now=now, address=address)


def is_usable(token: str, now: datetime) -> bool:
    """The link exists, is unused and unexpired, and its account is active."""
    return onetime.is_usable(T, token, now)


def reset_password(token: str, new_password: str, now: datetime) -> User | None:
    """Use the token (once: the UPDATE that marks it used is the check) and set the password.

    Every session of the account ends and its other links stop working; the
    account's login failures are forgotten (its owner proved the e-mail address).
    Returns None if the token is not usable. The caller commits.
    """
    user_id = onetime.spend(T, token, now)
    if user_id is None:
        return None
    user = db.session.get_one(User, user_id)  # the token row references it
    user.set_password(new_password)
    user.end_other_sessions()
    throttle.succeeded([account_limit(user.username)])
    record(user.id, "password.reset", "user", user.id, now=now)
    return user
