"""Which feed a request opens, the span of time it covers, and its validators.

A feed request resolves its token and the feed's state (``feed_states``) to a
:class:`FeedHandle` in one query, or from the worker's feed directory
(:mod:`.directory`). The ETag and Last-Modified derive from that handle and the
local date (docs/calendar-feeds.md F16), so a conditional GET is answered before
anything is built.

Every feed covers [today − FEED_PAST_DAYS, today + FEED_FUTURE_DAYS], "today"
being the local date: the bytes are a function of the database state and that
date only.
"""

from __future__ import annotations

import functools
import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import NamedTuple, TypeVar
from zoneinfo import ZoneInfo

from flask import current_app, request
from sqlalchemy import Select, String, bindparam, cast, exists, literal, select
from sqlalchemy.orm import InstrumentedAttribute

from pdtracker.auth.models import Role, User, UserRole
from pdtracker.caching import LRU, per_app
from pdtracker.calendar import directory
from pdtracker.calendar.models import PUBLIC_FEED_KEY, FeedScope, FeedState, FeedToken
from pdtracker.extensions import db
from pdtracker.org.models import Department
from pdtracker.timeutil import app_zone, to_local

# Part of every ETag: bump when the rendering changes, so clients refetch.
RENDER_VERSION = "1"
CANCELLED_KEPT = timedelta(days=30)  # docs/calendar-feeds.md F4
_TOKEN = re.compile(r"[A-Za-z0-9_-]{20,64}\Z")


@dataclass(frozen=True)
class FeedHandle:
    """What a feed request resolves to: whose feed, in which language, which state."""

    feed_key: str
    scope: str  # "teacher", "department" or "public"
    owner_id: int | None  # the teacher's or the department's id
    owner_name: str
    locale: str
    timezone: str
    version: int
    changed_at: datetime | None


@dataclass(frozen=True)
class FeedWindow:
    """The local date a feed is built for and the span of time it covers."""

    day: date
    start: date
    end: date  # exclusive
    start_utc: datetime
    end_utc: datetime
    day_start_utc: datetime
    cancelled_since: datetime  # cancelled rows older than this are left out


def feed_window(now: datetime) -> FeedWindow:
    """The window for the local date of ``now`` (everything below depends on it).

    Kept per app for the day it was built for: every feed request asks, and the
    answer changes only at local midnight (or when the settings it reads change).
    """
    app = current_app
    config = app.config
    settings = (config["FEED_PAST_DAYS"], config["FEED_FUTURE_DAYS"], app_zone())
    held: _HeldWindow | None = app.extensions.get(_WINDOW)
    if (
        held is not None
        and held.settings == settings
        and held.since <= now < held.until
    ):
        return held.window
    window = _build_window(now, *settings)
    app.extensions[_WINDOW] = _HeldWindow(
        settings,
        window.day_start_utc,
        _midnight(window.day + timedelta(days=1), settings[2]),
        window,
    )
    return window


_WINDOW = "pdtracker_feed_window"


class _HeldWindow(NamedTuple):
    """A window and the instants its local date lasts, [since, until)."""

    settings: tuple[int, int, ZoneInfo]
    since: datetime
    until: datetime
    window: FeedWindow


def _midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(), zone).astimezone(UTC)


def _build_window(now: datetime, past: int, future: int, zone: ZoneInfo) -> FeedWindow:
    day = to_local(now, zone).date()
    start = day - timedelta(days=past)
    end = day + timedelta(days=future)
    return FeedWindow(
        day=day,
        start=start,
        end=end,
        start_utc=_midnight(start, zone),
        end_utc=_midnight(end, zone),
        day_start_utc=_midnight(day, zone),
        cancelled_since=_midnight(day, zone) - CANCELLED_KEPT,
    )


def resolve_token(token: str, scope: FeedScope) -> FeedHandle | None:
    """The feed a private token opens; None if it opens nothing.

    From this worker's feed directory when it knows the token, else ONE query.
    """
    if not _TOKEN.match(token):
        return None
    return _resolve((scope.value, token), lambda: _query_token(token, scope))


def public_handle() -> FeedHandle:
    """The association feed's handle (the directory's, else one query)."""
    return _resolve((PUBLIC_FEED_KEY,), _query_public)


_Found = TypeVar("_Found", FeedHandle, FeedHandle | None)


def _resolve(key: tuple, query: Callable[[], _Found]) -> _Found:
    found = directory.current()
    if found is None:
        return query()
    handle = found.get(key)
    if handle is None:
        epoch = found.epoch()  # before the query: a later NOTIFY voids the row read
        handle = query()
        if handle is not None:
            found.put(key, handle, epoch)
    return handle


@functools.cache
def _token_statement(scope: FeedScope) -> Select:
    """The token lookup, built once: building it per request cost more than running it."""
    if scope is FeedScope.TEACHER:
        key = literal("teacher:").concat(cast(User.id, String))
        role = Role.TEACHER
        owner: InstrumentedAttribute[int] | InstrumentedAttribute[int | None]
        owner = User.id
        name = User.display_name
    else:
        key = literal("department:").concat(cast(User.department_id, String))
        role = Role.HEAD
        owner = User.department_id
        name = Department.name
    query = (
        select(
            key.label("feed_key"),
            owner.label("owner_id"),
            name.label("owner_name"),
            User.locale,
            User.timezone,
            FeedState.version,
            FeedState.changed_at,
        )
        .select_from(FeedToken)
        .join(User, User.id == FeedToken.user_id)
        .outerjoin(FeedState, FeedState.feed_key == key)
        .where(
            FeedToken.token == bindparam("token"),
            FeedToken.scope == scope.value,
            User.is_active_account.is_(True),
            exists().where(UserRole.user_id == User.id, UserRole.role == role.value),
        )
    )
    if scope is FeedScope.DEPARTMENT:
        query = query.join(Department, Department.id == User.department_id)
    return query


def _query_token(token: str, scope: FeedScope) -> FeedHandle | None:
    row = db.session.execute(_token_statement(scope), {"token": token}).one_or_none()
    if row is None:
        return None
    return FeedHandle(
        feed_key=row.feed_key,
        scope=scope.value,
        owner_id=row.owner_id,
        owner_name=row.owner_name,
        locale=row.locale,
        timezone=row.timezone,
        version=row.version or 0,
        changed_at=row.changed_at,
    )


_PUBLIC_STATE = select(FeedState.version, FeedState.changed_at).where(
    FeedState.feed_key == PUBLIC_FEED_KEY
)


def _query_public() -> FeedHandle:
    state = db.session.execute(_PUBLIC_STATE).one_or_none()
    config = current_app.config
    return FeedHandle(
        feed_key=PUBLIC_FEED_KEY,
        scope="public",
        owner_id=None,
        owner_name=config.get("ASSOCIATION_NAME") or "",
        locale=config["BABEL_DEFAULT_LOCALE"],
        timezone=config["TIMEZONE"],
        version=state.version if state else 0,
        changed_at=state.changed_at if state else None,
    )


def base_url() -> str:
    """Where links in feeds point: PUBLIC_BASE_URL, else this request's host.

    The request's host URL is kept per app for the few (scheme, Host, server,
    script root) it is asked with: werkzeug works it out anew on every request,
    which cost a feed about a sixth of its time in the app.
    """
    app = current_app
    if configured := app.config.get("PUBLIC_BASE_URL"):
        return str(configured).rstrip("/")
    environ = request.environ
    trusted = request.trusted_hosts
    key = (
        environ.get("wsgi.url_scheme"),
        environ.get("HTTP_HOST"),
        environ.get("SERVER_NAME"),
        environ.get("SERVER_PORT"),
        environ.get("SCRIPT_NAME"),
        None if trusted is None else tuple(trusted),
    )
    hosts: LRU[tuple, str] = per_app(app, _HOSTS, lambda: LRU(HOSTS_KEPT))
    base = hosts.get(key)
    if base is None:
        base = request.host_url.rstrip("/")
        hosts.put(key, base)
    return base


_HOSTS = "pdtracker_feed_hosts"
HOSTS_KEPT = 64  # the Host header is the client's: a bounded few


def etag_of(handle: FeedHandle, window: FeedWindow, base: str) -> str:
    """A strong ETag: everything the feed's bytes depend on, hashed."""
    changed = handle.changed_at.isoformat() if handle.changed_at else "-"
    parts = (
        RENDER_VERSION,
        handle.feed_key,
        str(handle.version),
        changed,
        window.day.isoformat(),
        handle.locale,
        handle.timezone,
        handle.owner_name,
        base,
        current_app.config["FEED_DOMAIN"],
    )
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:32]


def last_modified_of(handle: FeedHandle, window: FeedWindow) -> datetime:
    """Monotonic: the last change, or the start of the day the window moved to."""
    if handle.changed_at is None:
        return window.day_start_utc
    return max(handle.changed_at.replace(microsecond=0), window.day_start_utc)
