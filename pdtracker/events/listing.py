"""The teachers' event list: upcoming events by their next session, then past ones.

A series is listed by its next session (not cancelled, not over), so a weekly
seminar that began in March sits among this week's events. The upcoming part is
sorted here (the next session is worked out from the rule and the stored session
changes); the past part is paged by the database. A page costs a fixed number of
queries whatever the number of events.

The upcoming order (ids and next sessions) and the past count are kept per worker
under the public feed's change version (every committed change to an event or its
sessions bumps it) and the filters, until the first moment time alone changes them:
the soonest end of a listed next session, or of a listed event. A page then loads
only its own events.

Each event's row of HTML is kept too, under everything it is drawn from: the
event's shown fields, its next session, its seat counts, the user's registration
status, the language, the time zone and the feed's version. Two users with the
same status share a row; a change to any of these draws it again.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, cast

from flask import current_app, g, request
from flask_babel import get_locale, get_timezone
from markupsafe import Markup
from sqlalchemy import Select, func, or_, select

from pdtracker.caching import LRU, per_app
from pdtracker.calendar.models import PUBLIC_FEED_KEY
from pdtracker.events.forms import kind_choices
from pdtracker.events.models import Event, EventStatus
from pdtracker.events.roster import seat_counts, session_counts
from pdtracker.events.sessions import (
    SessionInfo,
    list_sessions,
    next_session,
    stored_sessions,
)
from pdtracker.extensions import db
from pdtracker.fragments import versions

ORDERS = 64  # kept orders per worker (one per filter combination in use)
ROWS = 2048  # kept rows of HTML per worker
_EXTENSION = "pdtracker_event_order"
_ROWS_EXTENSION = "pdtracker_event_rows"


@dataclass
class ListPage:
    """One page of the list, shaped like the pager expects (page, pages, items)."""

    items: list[Event]
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


def _filtered(query: Select, kind: str | None, month: Any) -> Select:
    if kind:
        query = query.where(Event.kind_code == kind)
    if month is not None:
        ends_after = or_(
            Event.series_ends_at.is_(None), Event.series_ends_at > month[0]
        )
        query = query.where(Event.starts_at < month[1], ends_after)
    return query


@dataclass(frozen=True)
class _Order:
    """The upcoming events in list order, their next sessions, the past ones' count."""

    ids: tuple[int, ...]
    nexts: dict[int, SessionInfo | None]
    past_total: int
    since: datetime  # the moment it was worked out for


def event_page(
    now: datetime,
    page: int,
    per_page: int,
    *,
    kind: str | None = None,
    month: tuple[datetime, datetime] | None = None,
) -> ListPage:
    """Published events: upcoming by next session (soonest first), then past ones."""
    order = _order(now, kind, month)
    start = (page - 1) * per_page
    ids = order.ids[start : start + per_page]
    items: list[Event] = []
    if ids:
        by_id = {
            e.id: e for e in db.session.scalars(select(Event).where(Event.id.in_(ids)))
        }
        items = [by_id[i] for i in ids]
    if len(items) < per_page and order.past_total:
        past_query = _filtered(_published().where(~_upcoming(now)), kind, month)
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
        db.session.scalars(_filtered(_published().where(_upcoming(now)), kind, month))
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
    past_query = _filtered(_published().where(~_upcoming(now)), kind, month)
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


def list_counts(page: ListPage) -> dict[int, tuple[int, int]]:
    """Seats taken and waiting per listed event: a series' next session's, else the
    event's (two queries)."""
    counts = seat_counts(e.id for e in page.items)
    by_session = {
        s.session_id: event_id
        for event_id, s in page.next_sessions.items()
        if s is not None and s.session_id is not None
    }
    for session_id, taken in session_counts(by_session).items():
        counts[by_session[session_id]] = taken
    for event_id, s in page.next_sessions.items():
        if s is not None and s.session_id is None:
            counts[event_id] = (0, 0)  # nobody holds that session yet
    return counts


class ListRows:
    """The page's kept rows of HTML (``kept``) and ``keep``, which the template
    calls with a row it had to draw. ``frame`` is what the filters and the pager
    are drawn from besides the page numbers (kinds, filters, months, staff)."""

    def __init__(
        self,
        page: ListPage,
        counts: dict[int, tuple[int, int]],
        statuses: Mapping[int, str | None],
        now: datetime,
        frame: tuple[Any, ...] = (),
    ) -> None:
        self._store: LRU[Any, Markup] = per_app(
            current_app, _ROWS_EXTENSION, lambda: LRU(ROWS)
        )
        shared = (
            str(get_locale() or "zh"),
            str(get_timezone()),
            request.script_root,
            _public_version(),
            now.year,  # a series' words leave out this year
        )
        self._keys: dict[int | str, Any] = {
            e.id: (shared, _row_key(e, page, counts, statuses, now)) for e in page.items
        }
        # The filters above the rows and the pager below them.
        self._keys["top"] = (shared, "top", frame)
        self._keys["pager"] = (shared, "pager", frame, page.page, page.pages)
        self.kept: dict[int | str, Markup] = {}
        for part, key in self._keys.items():
            found = self._store.get(key)
            if found is not None:
                self.kept[part] = found

    def keep(self, part: int | str, html: Markup) -> Markup:
        """Keep a freshly drawn row (or "top", "pager") and give it back."""
        self._store.put(self._keys[part], html)
        return html


def _row_key(
    event: Event,
    page: ListPage,
    counts: dict[int, tuple[int, int]],
    statuses: Mapping[int, str | None],
    now: datetime,
) -> tuple[Any, ...]:
    upcoming = page.next_sessions.get(event.id)
    status = statuses.get(event.id)
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
        None
        if upcoming is None
        else (upcoming.starts_at, upcoming.ends_at, upcoming.is_moved),
        counts[event.id],
        None if status == "cancelled" else status,
    )
