"""The teachers' event list: upcoming events by their next session, then past ones.

A series is listed by its next session (not cancelled, not over), so a weekly
seminar that began in March sits among this week's events. The upcoming part is
sorted here (the next session is worked out from the rule and the stored session
changes); the past part is paged by the database. A page costs a fixed number of
queries whatever the number of events.

The upcoming order (ids and next sessions) and the past count are kept per worker
under the public feed's change version (every committed change to an event or its
sessions bumps it) and the filters, until the first moment time alone changes them:
the soonest end of a listed next session, or of a listed event. Each page of an
order keeps what its rows are drawn from (:class:`ListRow`), so a page loads no
event until one of its rows has to be drawn.

The rows' HTML is kept by :mod:`pdtracker.fragments` (the views), under
everything each row is drawn from: the event's shown fields, its next session,
its seat counts, the user's registration status, the language, the time zone and
the feed's version. Two users with the same status share a row; a change to any
of these draws it again. The seat counts and the user's statuses are read on
every request (:func:`list_seats`, one query): any teacher's registration moves
them, and no change version follows that.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, cast

from flask import current_app, g, request
from flask_babel import get_locale, get_timezone
from sqlalchemy import (
    ARRAY,
    Integer,
    Select,
    any_,
    bindparam,
    case,
    func,
    literal_column,
    null,
    or_,
    select,
    union_all,
)

from pdtracker.caching import LRU, per_app
from pdtracker.calendar.models import PUBLIC_FEED_KEY
from pdtracker.events.forms import kind_choices
from pdtracker.events.models import (
    Event,
    EventStatus,
    Registration,
    RegistrationStatus,
    SessionRegistration,
)
from pdtracker.events.places import SEAT_HOLDERS
from pdtracker.events.services import filtered
from pdtracker.events.sessions import (
    SessionInfo,
    list_sessions,
    next_session,
    stored_sessions,
)
from pdtracker.extensions import db
from pdtracker.fragments import versions

ORDERS = 64  # kept orders per worker (one per filter combination in use)
_EXTENSION = "pdtracker_event_order"


@dataclass(frozen=True)
class ListRow:
    """One listed event as its row is drawn: ``shown`` holds every field of the
    event the row shows (a key: equal ``shown``, equal row), ``next`` its next
    session (a series)."""

    event_id: int
    shown: tuple[Any, ...]
    next: SessionInfo | None


@dataclass
class ListPage:
    """One page of the list, shaped like the pager expects (page, pages, items)."""

    items: Sequence[Any]
    page: int
    per_page: int
    total: int
    next_sessions: dict[int, SessionInfo | None] = field(default_factory=dict)

    @property
    def pages(self) -> int:
        """How many pages the list has."""
        return max(1, math.ceil(self.total / self.per_page))

    def iter_pages(self) -> Iterator[int | None]:
        """Page numbers for the pager (None marks a gap)."""
        pages = self.pages
        shown = {1, 2, pages - 1, pages, *range(self.page - 2, self.page + 3)}
        previous = 0
        for number in range(1, pages + 1):
            if number in shown:
                if number - previous > 1:
                    yield None
                yield number
                previous = number


@dataclass(frozen=True)
class _Order:
    """The upcoming events in list order, their next sessions, the past ones' count."""

    ids: tuple[int, ...]
    nexts: dict[int, SessionInfo | None]
    past_total: int
    since: datetime  # the moment it was worked out for
    # Each page's rows, by (page, per page), filled as pages are asked for: valid
    # as long as the order is (a row's "past" look is fixed until it expires).
    pages: dict[tuple[int, int], tuple[ListRow, ...]] = field(
        default_factory=dict, compare=False
    )


def list_page(
    now: datetime,
    page: int,
    per_page: int,
    *,
    kind: str | None = None,
    month: tuple[datetime, datetime] | None = None,
) -> tuple[ListPage, dict[int, Event]]:
    """One page of :class:`ListRow`, and the events it loaded to make them (none
    when the page was kept)."""
    order = _order(now, kind, month)
    total = len(order.ids) + order.past_total
    rows = order.pages.get((page, per_page))
    loaded: dict[int, Event] = {}
    if rows is None:
        events = event_page(now, page, per_page, kind=kind, month=month, order=order)
        loaded = {e.id: e for e in events.items}
        rows = tuple(
            ListRow(e.id, shown(e, now), events.next_sessions.get(e.id))
            for e in events.items
        )
        if rows:  # pages past the end are not kept (they are all alike)
            order.pages[(page, per_page)] = rows
    listed = ListPage(
        items=rows,
        page=page,
        per_page=per_page,
        total=total,
        next_sessions={r.event_id: r.next for r in rows},
    )
    return listed, loaded


def event_page(
    now: datetime,
    page: int,
    per_page: int,
    *,
    kind: str | None = None,
    month: tuple[datetime, datetime] | None = None,
    order: _Order | None = None,
) -> ListPage:
    """Published events: upcoming by next session (soonest first), then past ones."""
    order = order or _order(now, kind, month)
    start = (page - 1) * per_page
    ids = order.ids[start : start + per_page]
    items: list[Event] = []
    if ids:
        by_id = {
            e.id: e for e in db.session.scalars(select(Event).where(Event.id.in_(ids)))
        }
        items = [by_id[i] for i in ids]
    if len(items) < per_page and order.past_total:
        past_query = filtered(_published().where(~_upcoming(now)), kind, month)
        items += db.session.scalars(
            past_query.order_by(Event.starts_at.desc(), Event.id)
            .offset(max(0, start - len(order.ids)))
            .limit(per_page - len(items))
        ).all()
    return ListPage(
        items=items,
        page=page,
        per_page=per_page,
        total=len(order.ids) + order.past_total,
        next_sessions={e.id: order.nexts.get(e.id) for e in items},
    )


def _published() -> Select:
    return select(Event).where(Event.status == EventStatus.PUBLISHED)


def _upcoming(now: datetime) -> Any:
    return or_(Event.series_ends_at.is_(None), Event.series_ends_at >= now)


def _order(now: datetime, kind: str | None, month: Any) -> _Order:
    """The kept order for these filters, or a fresh one (then kept)."""
    store: LRU[Any, _Order] = per_app(current_app, _EXTENSION, lambda: LRU(ORDERS))
    key = (kind, month, _public_version())
    found = store.get(key, now)
    if found is None or now < found.since:  # a clock set back: work it out again
        found, expires = _fresh_order(now, kind, month)
        store.put(key, found, expires)
    return found


def _fresh_order(
    now: datetime, kind: str | None, month: Any
) -> tuple[_Order, datetime | None]:
    upcoming = list(
        db.session.scalars(filtered(_published().where(_upcoming(now)), kind, month))
    )
    stored = stored_sessions([e.id for e in upcoming if e.is_series])
    nexts = {
        e.id: next_session(list_sessions(e, stored.get(e.id, [])), now)
        if e.is_series
        else None
        for e in upcoming
    }

    def key(event: Event) -> tuple[datetime, int]:
        found = nexts.get(event.id)
        return (found.starts_at if found else event.starts_at, event.id)

    upcoming.sort(key=key)
    past_query = filtered(_published().where(~_upcoming(now)), kind, month)
    past_total = db.session.scalar(
        select(func.count()).select_from(past_query.subquery())
    )
    # Kept until time alone changes the order: a next session ends (the one after
    # becomes next; at its end it no longer is), or an event ends (it turns past).
    ends = [n.ends_at - timedelta(microseconds=1) for n in nexts.values() if n]
    ends += [e.series_ends_at for e in upcoming if e.series_ends_at is not None]
    order = _Order(tuple(e.id for e in upcoming), nexts, past_total or 0, now)
    return order, min(ends, default=None)


def list_kinds() -> tuple[Any, ...]:
    """The kind filter's choices in the user's language, kept like the order (they
    are read again, rarely, when an event changes; kinds change only at install)."""
    store: LRU[Any, Any] = per_app(current_app, _EXTENSION, lambda: LRU(ORDERS))
    key = ("kinds", str(get_locale() or "zh"), _public_version())
    found = store.get(key)
    if found is None:
        found = tuple(kind_choices())
        store.put(key, found)
    return cast(tuple[Any, ...], found)


def _public_version() -> int | None:
    """The public feed's change version, read once per request."""
    if "event_list_version" not in g:
        g.event_list_version = versions([PUBLIC_FEED_KEY])[0]
    return cast(int | None, g.event_list_version)


def list_seats(
    page: ListPage, teacher_id: int | None
) -> tuple[dict[int, tuple[int, int]], dict[int, str | None]]:
    """Seats taken and waiting per listed event (a series' next session's, else the
    event's), and the teacher's registration status per event, in one query."""
    ids = [row.event_id for row in page.items]
    if not ids:
        return {}, {}
    by_session = {
        s.session_id: event_id
        for event_id, s in page.next_sessions.items()
        if s is not None and s.session_id is not None
    }
    dialect = db.session.get_bind().dialect.name
    statement = _seats_statement(dialect, teacher_id is not None, bool(by_session))
    params: dict[str, Any] = {"ids": ids, "sessions": sorted(by_session)}
    if teacher_id is not None:
        params["teacher"] = teacher_id
    counts = {i: (0, 0) for i in ids}  # a series' next session nobody holds yet
    statuses: dict[int, str | None] = {}
    for part, row_id, taken, waiting, status in db.session.execute(statement, params):
        if part:
            counts[by_session[row_id]] = (int(taken or 0), int(waiting or 0))
        else:
            statuses[row_id] = status
            if page.next_sessions.get(row_id) is None:
                counts[row_id] = (int(taken or 0), int(waiting or 0))
    return counts, statuses


@functools.cache
def _seats_statement(dialect: str, teacher: bool, sessions: bool) -> Any:
    """:func:`list_seats`' statement, built once (its values are parameters)."""
    mine: Any = null()
    if teacher:
        mine = func.max(
            case((Registration.teacher_id == bindparam("teacher"), Registration.status))
        )
    waitlisted = RegistrationStatus.WAITLISTED.value
    query: Any = (
        select(
            literal_column("0").label("part"),
            Registration.event_id,
            _count(Registration.status.in_(SEAT_HOLDERS)),
            _count(Registration.status == waitlisted),
            mine,
        )
        .where(_among(Registration.event_id, "ids", dialect))
        .group_by(Registration.event_id)
    )
    if sessions:
        places = (
            select(
                literal_column("1").label("part"),
                SessionRegistration.session_id,
                _count(SessionRegistration.status.in_(SEAT_HOLDERS)),
                _count(SessionRegistration.status == waitlisted),
                null(),
            )
            .where(_among(SessionRegistration.session_id, "sessions", dialect))
            .group_by(SessionRegistration.session_id)
        )
        query = union_all(query, places)
    return query


def _among(column: Any, name: str, dialect: str) -> Any:
    """``column IN :name``; on PostgreSQL one array parameter (see database.among)."""
    if dialect == "postgresql":
        return column == any_(bindparam(name, type_=ARRAY(Integer)))
    return column.in_(bindparam(name, expanding=True))


def _count(condition: Any) -> Any:
    return func.sum(case((condition, 1), else_=0))


def shown(event: Event, now: datetime) -> tuple[Any, ...]:
    """Every field of ``event`` its row shows, at ``now`` (whether it is over)."""
    return (
        event.id,
        event.title,
        event.kind_code,
        event.location,
        event.online_url,
        event.capacity,
        event.starts_at,
        event.ends_at,
        event.tzid,
        event.is_all_day,
        event.start_on,
        event.end_on,
        event.rrule,
        event.recurrence_key,
        tuple(event.exdates or ()),
        bool(event.series_ends_at and event.series_ends_at < now),
    )


def row_key(
    row: ListRow, counts: tuple[int, int], status: str | None
) -> tuple[Any, ...]:
    """What one row is drawn from besides the page's language, zone and version."""
    upcoming = row.next
    return (
        row.shown,
        None
        if upcoming is None
        else (upcoming.starts_at, upcoming.ends_at, upcoming.is_moved),
        counts,
        None if status == "cancelled" else status,
    )


def shared_key(now: datetime) -> tuple[Any, ...]:
    """What every row and the filters are drawn from on this request."""
    return (
        str(get_locale() or "zh"),
        str(get_timezone()),
        request.script_root,
        _public_version(),
        now.year,  # a series' words leave out this year
    )
