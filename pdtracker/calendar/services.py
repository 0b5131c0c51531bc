"""Feed operations the views call: private feed tokens, and a feed's bytes.

A token is the secret in a private feed's URL (calendar apps cannot log in): one
per user and feed, created on first use and rotated on request. A feed's bytes
are built once per version and worker and then served from the cache, keyed by
the feed's ETag (docs/calendar-feeds.md F18).
"""

from __future__ import annotations

import secrets
from datetime import datetime

from flask import Flask, current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from pdtracker.audit import record
from pdtracker.auth.models import Role, User
from pdtracker.caching import LRU, per_app
from pdtracker.calendar.content import build_feed
from pdtracker.calendar.handles import FeedHandle, FeedWindow, etag_of
from pdtracker.calendar.models import FeedScope, FeedToken
from pdtracker.extensions import db

CACHE_SIZE = 128


def new_token() -> str:
    """A fresh unguessable URL token (256 bits)."""
    return secrets.token_urlsafe(32)


def token_for(user: User, scope: FeedScope, now: datetime) -> FeedToken:
    """The user's token for this feed, created on first use."""
    found = db.session.scalar(
        select(FeedToken).where(
            FeedToken.user_id == user.id, FeedToken.scope == scope.value
        )
    )
    if found is not None:
        return found
    token = FeedToken(
        user_id=user.id, scope=scope.value, token=new_token(), created_at=now
    )
    try:
        with db.session.begin_nested():
            db.session.add(token)
    except IntegrityError:  # created meanwhile by a parallel request
        return db.session.scalars(
            select(FeedToken).where(
                FeedToken.user_id == user.id, FeedToken.scope == scope.value
            )
        ).one()
    return token


def rotate_token(user: User, scope: FeedScope, now: datetime) -> FeedToken:
    """Replace the user's token: the old URL stops working at once (audited)."""
    token = token_for(user, scope, now)
    token.token = new_token()
    token.rotated_at = now
    db.session.flush()
    # The audit keeps the fact, never the secret.
    record(user.id, "feed_token.rotate", "feed_token", token.id, now=now, scope=scope)
    return token


def feed_scopes(user: User) -> list[FeedScope]:
    """The private feeds this user may have."""
    scopes = []
    if user.has_role(Role.TEACHER):
        scopes.append(FeedScope.TEACHER)
    if user.has_role(Role.HEAD) and user.department_id is not None:
        scopes.append(FeedScope.DEPARTMENT)
    return scopes


def feed_cache(app: Flask | None = None) -> LRU[str, bytes]:
    """This app's rendered feeds, by ETag (each worker has its own)."""
    return per_app(app or current_app, "pdtracker_feed_cache", lambda: LRU(CACHE_SIZE))


def render_feed(
    handle: FeedHandle, window: FeedWindow, base: str, *, etag: str | None = None
) -> bytes:
    """The feed's bytes, from the cache when its state has not changed.

    ``etag``: the feed's :func:`etag_of`, when the caller has it already.
    """
    key = etag or etag_of(handle, window, base)
    cache = feed_cache()
    body = cache.get(key)
    if body is None:
        body = build_feed(handle, window, base)
        cache.put(key, body)
    return body
