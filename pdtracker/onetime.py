"""Single-use links (password reset, account activation).

Only a token's SHA-256 is stored, so a leaked database holds no working link. A link
is spent by one ``UPDATE … WHERE unused AND unexpired … RETURNING``: the statement
is the check, so two requests with the same link cannot both use it, and spending
one link retires the account's other open links of the same kind.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, select, update

from pdtracker.auth.models import User
from pdtracker.extensions import db

# A table of single-use links: a mapped class with the columns ``id``, ``user_id``,
# ``token_hash`` (unique), ``created_at``, ``expires_at`` and ``used_at``
# (PasswordResetToken, ActivationToken).
TokenTable = Any


def new_token() -> str:
    """A fresh link token (256 bits, URL-safe)."""
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    """What is stored of a token: its SHA-256, in hex."""
    return hashlib.sha256(token.encode()).hexdigest()


def _usable(table: TokenTable, token: str, now: datetime) -> list[Any]:
    active = select(User.id).where(User.is_active_account.is_(True))
    clauses: list[ColumnElement[bool]] = [
        table.token_hash == token_hash(token),
        table.used_at.is_(None),
        table.expires_at > now,
        table.user_id.in_(active),
    ]
    return clauses


def is_usable(table: TokenTable, token: str, now: datetime) -> bool:
    """The link exists, is unused and unexpired, and its account is active."""
    found = db.session.scalar(select(table.id).where(*_usable(table, token, now)))
    return found is not None


def spend(table: TokenTable, token: str, now: datetime) -> int | None:
    """Use the link once; its account's id, or None if it was not usable.

    The account's other open links of this kind stop working too. The caller commits.
    """
    user_id = db.session.scalar(
        update(table)
        .where(*_usable(table, token, now))
        .values(used_at=now)
        .returning(table.user_id)
        .execution_options(synchronize_session=False)
    )
    if user_id is None:
        return None
    db.session.execute(
        update(table)
        .where(table.user_id == user_id, table.used_at.is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    return int(user_id)
