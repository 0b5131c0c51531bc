"""The teachers' event list: upcoming events by their next session, then past ones.

A series is listed by its next session (not cancelled, not over), so a weekly
seminar that began in March sits among this week's events. The upcoming part is
sorted here (the next session is worked out from the rule and the stored session
changes); the past part is paged by the database. A page costs a fixed number of
queries whatever the number of events.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, or_, select

from pdtracker.events.models import Event, EventStatus
from pdtracker.events.roster import seat_counts, session_counts
from pdtracker.events.sessions import (
    SessionInfo,
    list_sessions,
    next_session,
    stored_sessions,
)
from pdtracker.extensions import db


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


def event_page(
    now: datetime,
    page: int,
    per_page: int,
    *,
    kind: str | None = None,
    month: tuple[datetime, datetime] | None = None,
) -> ListPage:
    """Published events: upcoming by next session (soonest first), then past ones."""
    published = select(Event).where(Event.status == EventStatus.PUBLISHED)
    upcoming_clause = or_(Event.series_ends_at.is_(None), Event.series_ends_at >= now)
    upcoming = list(
        db.session.scalars(_filtered(published.where(upcoming_clause), kind, month))
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
    past_query = _filtered(published.where(~upcoming_clause), kind, month)
    past_total = db.session.scalar(
        select(func.count()).select_from(past_query.subquery())
    )
    total = len(upcoming) + (past_total or 0)
    start = (page - 1) * per_page
    items = upcoming[start : start + per_page]
    # Always asked (maybe for none), so a page costs the same queries either way.
    items += db.session.scalars(
        past_query.order_by(Event.starts_at.desc(), Event.id)
        .offset(max(0, start - len(upcoming)))
        .limit(per_page - len(items))
    ).all()
    return ListPage(
        items=items,
        page=page,
        per_page=per_page,
        total=total,
        next_sessions={e.id: nexts.get(e.id) for e in items},
    )


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
