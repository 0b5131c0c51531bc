"""Change versions: the one place that marks feeds, and what keys on them, as changed.

A session listener notes, before each flush, which feeds the pending rows touch
(events, registrations, placements, activities, and the enterprise and user fields
feed text is made of; also profiles and recognitions, which the progress pages
show, and the marketplace's offers and requests under ``MARKET_KEY``), and at
commit bumps each of those feeds' state with one upsert: version + 1, changed_at =
max(previous + 1 s, now). Deletions are seen before
the DELETE runs, so removing an event still moves Last-Modified forward. A rolled
back transaction bumps nothing.

The versions are shared machinery: the calendar feeds answer conditional GETs from
them and the progress caches (:mod:`pdtracker.progress.cache`) key on them. So the
app factory installs the listener (:func:`install`), whatever blueprints it
registers.

On PostgreSQL the bump also notifies the workers' feed directories
(:mod:`pdtracker.calendar.directory`) in the same transaction, so what they remember
about these feeds is dropped when it commits. Feed tokens, roles and the user fields
below are bumped too: they decide which feed a URL opens.

Rows written with Core statements (``update(...)``, ``delete(...)``) bypass this;
services that change feed content that way must call :func:`bump` themselves.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any, cast

from flask import current_app, has_app_context
from flask_sqlalchemy.session import Session as FlaskSession
from sqlalchemy import Interval, Table, event, func, inspect, literal, select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import InstanceState, Session
from sqlalchemy.sql.expression import ColumnElement, Executable

from pdtracker.activities.models import Activity
from pdtracker.auth.models import User, UserRole
from pdtracker.calendar import directory
from pdtracker.calendar.models import (
    MARKET_KEY,
    PUBLIC_FEED_KEY,
    FeedState,
    FeedToken,
    department_feed_key,
    teacher_feed_key,
)
from pdtracker.database import dialect_insert
from pdtracker.events.models import Event, Registration
from pdtracker.org.models import Department, TeacherProfile
from pdtracker.placements.market_models import (
    DepartmentSector,
    PlacementOffer,
    PlacementRequest,
)
from pdtracker.placements.models import Enterprise, Placement
from pdtracker.recognition.models import Recognition
from pdtracker.timeutil import utcnow

__all__ = ["bump", "install"]

_PENDING = "pdtracker_feed_keys"
_COMMITTING = "pdtracker_feed_keys_committing"
# User columns that feed text or feed membership is made of.
_USER_FIELDS = (
    "display_name",
    "department_id",
    "locale",
    "timezone",
    "is_active_account",
)


def install() -> None:
    """Listen on Flask-SQLAlchemy sessions (only ours), once per process."""
    for name, fn in (
        ("before_flush", _before_flush),
        ("before_commit", _before_commit),
        ("after_commit", _after_commit),
        ("after_rollback", _forget),
    ):
        if not event.contains(FlaskSession, name, fn):
            event.listen(FlaskSession, name, fn)


def bump(connection: Connection, keys: Iterable[str], now: datetime) -> None:
    """Advance the version and change time of these feeds, one upsert for all."""
    keys = sorted(set(keys))  # a fixed order: concurrent bumps lock rows alike
    if not keys:
        return
    now = now.replace(microsecond=0)
    table = cast(Table, FeedState.__table__)  # declared as FromClause by the ORM
    rows = [{"feed_key": k, "version": 1, "changed_at": now} for k in keys]
    insert = dialect_insert(connection.dialect.name)(table).values(rows)
    if connection.dialect.name == "postgresql":
        second = literal(timedelta(seconds=1), Interval())
        later = func.greatest(table.c.changed_at + second, insert.excluded.changed_at)
    else:
        # Both sides are "YYYY-MM-DD HH:MM:SS[.ffffff]" text, so max() compares times.
        later = func.max(
            func.datetime(table.c.changed_at, "+1 second"), insert.excluded.changed_at
        )
    upsert: Executable = insert.on_conflict_do_update(
        index_elements=[table.c.feed_key], set_=_bumped(table, later)
    )
    connection.execute(upsert)
    if connection.dialect.name == "postgresql":
        # Transactional: delivered to the listeners at commit, never on rollback.
        connection.execute(
            select(func.pg_notify(directory.CHANNEL, directory.payload(keys)))
        )


def _bumped(table: Table, later: ColumnElement[Any]) -> dict[str, Any]:
    """The columns an existing feed state takes on a bump."""
    return {"version": table.c.version + 1, "changed_at": later}


def _before_flush(session: Session, _context: Any, _instances: Any) -> None:
    """Collect the feeds the pending changes touch (deleted rows are still there)."""
    public = market = False
    teachers: set[int] = set()
    departments: set[int] = set()
    events: set[int] = set()
    enterprises: set[int] = set()
    changed = [o for o in session.dirty if session.is_modified(o)]
    for obj in [*session.new, *changed, *session.deleted]:
        if isinstance(obj, Event):
            public = True
            if obj.id is not None:
                events.add(obj.id)
        elif isinstance(obj, Registration | Placement | Activity | Recognition):
            # Recognitions: the department page's ratio comparison counts them.
            teachers.update(_owners(obj, "teacher_id", "teacher", departments))
        elif isinstance(obj, FeedToken | UserRole | TeacherProfile):
            # Which feed a URL opens: a rotated token, a granted or revoked role;
            # a profile: the department page's flags, levels and export columns.
            teachers.update(_owners(obj, "user_id", "user", departments))
        elif isinstance(obj, Enterprise) and obj.id is not None:
            enterprises.add(obj.id)
            market = True  # its name on the offers
        elif isinstance(obj, PlacementOffer | PlacementRequest | DepartmentSector):
            market = True
        elif isinstance(obj, Department) and obj.id is not None:
            departments.add(obj.id)  # its name is the feed's name
        elif isinstance(obj, User) and obj in session.new:
            departments.update(_values(obj, "department_id"))  # a newcomer joins
        elif isinstance(obj, User) and obj.id is not None:
            state: InstanceState[Any] = inspect(obj)
            # Roles removed from the collection (User.set_roles) are orphans that
            # only become deletions during the flush: look at the collection too.
            if obj in session.deleted or any(
                state.attrs[f].history.has_changes() for f in (*_USER_FIELDS, "roles")
            ):
                teachers.add(obj.id)
                departments.update(_values(obj, "department_id"))
    if not (public or market or teachers or departments or events or enterprises):
        return
    conn = session.connection()
    if events:
        teachers.update(
            conn.scalars(
                select(Registration.teacher_id).where(Registration.event_id.in_(events))
            )
        )
    if enterprises:
        teachers.update(
            conn.scalars(
                select(Placement.teacher_id).where(
                    Placement.enterprise_id.in_(enterprises)
                )
            )
        )
    if teachers:
        departments.update(
            d
            for d in conn.scalars(
                select(User.department_id).where(User.id.in_(teachers))
            )
            if d is not None
        )
    keys = session.info.setdefault(_PENDING, set())
    if public:
        keys.add(PUBLIC_FEED_KEY)
    if market:
        keys.add(MARKET_KEY)
    keys.update(teacher_feed_key(t) for t in teachers)
    keys.update(department_feed_key(d) for d in departments)


def _owners(obj: object, key: str, owner: str, departments: set[int]) -> set[int]:
    """The users a row belongs to, now and before; a user not yet flushed (no id)
    counts through their department, which the pending row then changes."""
    found = _values(obj, key)
    if not found:
        person = getattr(obj, owner, None)
        if isinstance(person, User):
            if person.id is not None:
                found.add(person.id)
            elif person.department_id is not None:
                departments.add(person.department_id)
    return found


def _values(obj: object, attr: str) -> set[int]:
    """The attribute's current and previous values (a row may move to another owner)."""
    history = inspect(obj).attrs[attr].history
    values = {*history.added, *history.unchanged, *history.deleted}
    if not values:
        values = {getattr(obj, attr)}
    return {v for v in values if v is not None}


def _before_commit(session: Session) -> None:
    """Flush what is left, then bump every feed this transaction touched."""
    session.flush()
    keys = session.info.pop(_PENDING, None)
    if keys:
        bump(session.connection(), keys, utcnow())
        session.info[_COMMITTING] = keys


def _after_commit(session: Session) -> None:
    """This worker need not wait for its own NOTIFY to come back."""
    keys = session.info.pop(_COMMITTING, None)
    if keys and has_app_context():
        directory.forget_committed(current_app, keys)


def _forget(session: Session) -> None:
    """A rolled-back transaction changed no feed."""
    session.info.pop(_PENDING, None)
    session.info.pop(_COMMITTING, None)
