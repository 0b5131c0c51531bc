"""Activation links: a new account's single-use way to choose its first password.

Imported accounts get no password (an unusable random hash); each gets a token
valid 14 days, of which only the SHA-256 is stored. Using it sets the password
and spends every link of the account, once: the UPDATE that marks it used is
the check, so two requests with the same link cannot both succeed. An account
with an e-mail address gets its link by mail, planned in the outbox within the
import's transaction (so a failed import mails nothing), when mail is set up.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta

from flask import current_app
from werkzeug.security import generate_password_hash

from pdtracker import onetime
from pdtracker.audit import record
from pdtracker.auth.models import User
from pdtracker.extensions import db
from pdtracker.notifications.models import NotificationKind
from pdtracker.notifications.outbox import Reminder, plan
from pdtracker.onboarding.models import ActivationToken
from pdtracker.onetime import token_hash

T = ActivationToken
LIFETIME = timedelta(days=14)


def unusable_password_hash() -> str:
    """A well-formed hash of a random password nobody knows (one per import).

    Well-formed, so a login attempt costs the same work as with a real account
    and simply fails; computed once per import, not once per new account.
    """
    return generate_password_hash(secrets.token_urlsafe(32))


def issue_tokens(users: Iterable[User], now: datetime) -> dict[int, str]:
    """A fresh activation token per account (user id → token). The caller commits."""
    tokens = {user.id: onetime.new_token() for user in users}
    db.session.add_all(
        T(
            user_id=user_id,
            token_hash=token_hash(token),
            created_at=now,
            expires_at=now + LIFETIME,
        )
        for user_id, token in tokens.items()
    )
    return tokens


def mail_links(
    users: Iterable[User],
    tokens: dict[int, str],
    link: Callable[[str], str] | None,
    now: datetime,
) -> set[int]:
    """Plan the activation e-mail of each account with an address; their ids.

    ``link`` turns a token into the activation page's absolute URL; without it,
    or without a mail server, nothing is mailed and every link is listed instead.
    The caller commits (with the accounts: all or nothing).
    """
    if link is None or not current_app.config.get("MAIL_SERVER"):
        return set()
    expires_at = now + LIFETIME
    reminders = [
        Reminder(
            NotificationKind.ACCOUNT_ACTIVATION,
            user.id,
            "user",
            user.id,
            now,
            expires_at,  # the dispatcher drops it once the link has expired
            {
                "url": link(tokens[user.id]),
                "expires_at": expires_at.isoformat(),
                "username": user.username,
            },
        )
        for user in users
        if user.email
    ]
    plan(reminders, now)
    return {r.recipient_id for r in reminders}


def is_usable(token: str, now: datetime) -> bool:
    """The link exists, is unused and unexpired, and its account is active."""
    return onetime.is_usable(T, token, now)


def activate(token: str, password: str, now: datetime) -> User | None:
    """Spend the link and set the first password; None if the link is not usable.

    The caller commits.
    """
    user_id = onetime.spend(T, token, now)
    if user_id is None:
        return None
    user = db.session.get(User, user_id)
    if user is None:  # the account was deleted since the link was made
        return None
    user.set_password(password)
    user.end_other_sessions()
    record(user.id, "account.activate", "user", user.id, now=now)
    return user
