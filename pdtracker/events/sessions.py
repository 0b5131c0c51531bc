"""An event's sessions: its schedule's occurrences with stored changes laid over them.

A single event has one session; a series has one per occurrence of its rule. A
session is stored (``event_sessions``) once something refers to it: a registration,
attendance, a move or a cancellation. :func:`list_sessions` is what the pages, the
feeds and the check-in screens read: key, current start and end, place, whether it
was moved or cancelled.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, tuple_

from pdtracker.database import dialect_insert
from pdtracker.events.errors import EventError
from pdtracker.events.models import Event, EventSession
from pdtracker.events.occurrences import Occurrence, expand
from pdtracker.extensions import db


@dataclass(frozen=True)
class SessionInfo:
    """One session as shown and served: ``key`` is stable and URL-safe."""

    event_id: int
    key: str
    number: int  # 1-based position in the series
    original_starts_at: datetime
    starts_at: datetime
    ends_at: datetime
    location: str | None
    is_moved: bool = False
    is_cancelled: bool = False
    sequence: int = 0
    updated_at: datetime | None = None
    session_id: int | None = None  # the stored row, if any

    def has_started(self, now: datetime) -> bool:
        """The session has begun (or is over)."""
        return now >= self.starts_at

    def is_over(self, now: datetime) -> bool:
        """The session has ended."""
        return now >= self.ends_at


def occurrences(event: Event) -> tuple[Occurrence, ...]:
    """The event's occurrences as its schedule gives them (no stored changes)."""
    return expand(
        starts_at=event.starts_at,
        ends_at=event.ends_at,
        tzid=event.tzid,
        all_day=event.is_all_day,
        rrule=event.rrule if event.is_series else None,
        exdates=tuple(event.exdates or ()),
    )


def list_sessions(
    event: Event, stored: Iterable[EventSession] | None = None
) -> list[SessionInfo]:
    """The event's sessions in order of their original start, changes applied.

    ``stored`` are the event's session rows when the caller already has them
    (lists load them for many events in one query); otherwise one query reads them.
    """
    rows = {
        r.key: r
        for r in (
            stored
            if stored is not None
            else db.session.scalars(
                select(EventSession).where(EventSession.event_id == event.id)
            )
        )
    }
    sessions = []
    for number, occ in enumerate(occurrences(event), start=1):
        row = rows.get(occ.key)
        sessions.append(_info(event, occ, number, row))
    return sessions


def _info(
    event: Event, occ: Occurrence, number: int, row: EventSession | None
) -> SessionInfo:
    if row is None:
        return SessionInfo(
            event_id=event.id,
            key=occ.key,
            number=number,
            original_starts_at=occ.starts_at,
            starts_at=occ.starts_at,
            ends_at=occ.ends_at,
            location=event.location,
        )
    return SessionInfo(
        event_id=event.id,
        key=occ.key,
        number=number,
        original_starts_at=occ.starts_at,
        starts_at=row.starts_at,
        ends_at=row.ends_at,
        location=row.location or event.location,
        is_moved=row.is_moved,
        is_cancelled=row.is_cancelled,
        sequence=row.sequence,
        updated_at=row.updated_at,
        session_id=row.id,
    )


def find_session(event: Event, key: str) -> SessionInfo | None:
    """The session with this key, or None when the schedule has no such session."""
    return next((s for s in list_sessions(event) if s.key == key), None)


def next_session(sessions: Iterable[SessionInfo], now: datetime) -> SessionInfo | None:
    """The first session not yet over and not cancelled, else None."""
    return next((s for s in sessions if not s.is_cancelled and s.ends_at > now), None)


def session_row(event: Event, key: str, now: datetime) -> EventSession:
    """The stored row of the event's session ``key``, created if missing.

    Raises EventError("no_session") when the schedule has no such session. Creating
    is INSERT … ON CONFLICT DO NOTHING, so two requests that create it at once both
    end with the one row.
    """
    occ = next((o for o in occurrences(event) if o.key == key), None)
    if occ is None:
        raise EventError("no_session")
    return _ensure_rows(event, [occ], now)[key]


def session_rows(
    event: Event, keys: Iterable[str], now: datetime
) -> dict[str, EventSession]:
    """Stored rows for several sessions (created if missing), by key."""
    wanted = set(keys)
    occs = [o for o in occurrences(event) if o.key in wanted]
    if len(occs) != len(wanted):
        raise EventError("no_session")
    return _ensure_rows(event, occs, now)


def _ensure_rows(
    event: Event, occs: list[Occurrence], now: datetime
) -> dict[str, EventSession]:
    if occs:
        insert = dialect_insert(db.engine.dialect.name)
        db.session.execute(
            insert(EventSession)
            .values(
                [
                    {
                        "event_id": event.id,
                        "key": o.key,
                        "original_starts_at": o.starts_at,
                        "starts_at": o.starts_at,
                        "ends_at": o.ends_at,
                        "is_moved": False,
                        "is_cancelled": False,
                        "sequence": 0,
                        "created_at": now,
                        "updated_at": now,
                    }
                    for o in occs
                ]
            )
            .on_conflict_do_nothing(index_elements=["event_id", "key"])
        )
    rows = db.session.scalars(
        select(EventSession).where(
            EventSession.event_id == event.id,
            EventSession.key.in_([o.key for o in occs]),
        )
    )
    return {r.key: r for r in rows}


def stored_sessions(event_ids: Iterable[int]) -> dict[int, list[EventSession]]:
    """The stored session rows of several events, in one query, by event id."""
    ids = list(event_ids)
    found: dict[int, list[EventSession]] = {i: [] for i in ids}
    if ids:
        for row in db.session.scalars(
            select(EventSession).where(EventSession.event_id.in_(ids))
        ):
            found[row.event_id].append(row)
    return found


def session_ids(pairs: Iterable[tuple[int, str]]) -> dict[tuple[int, str], int]:
    """Stored session ids for (event id, key) pairs, in one query."""
    wanted = list(pairs)
    if not wanted:
        return {}
    rows = db.session.execute(
        select(EventSession.event_id, EventSession.key, EventSession.id).where(
            tuple_(EventSession.event_id, EventSession.key).in_(wanted)
        )
    )
    return {(e, k): i for e, k, i in rows}
