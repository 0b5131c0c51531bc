"""A series' schedule edited: its stored sessions follow to the new session keys.

A session's key is its original start (:mod:`.occurrences`), so a new time or rule
gives every session a new key. Places, attendance and moves hang on the stored
session row (``event_sessions``); the edit re-keys each future row to its new
session, so nothing stays behind on a key the schedule no longer has:

- a session on the same local date keeps its date (the time changed);
- otherwise the same position among the future sessions (the weekday changed);
- a future session with no new counterpart is cancelled: its places are cancelled
  and their teachers told (the existing "session cancelled" notice), never dropped;
- sessions already begun stay as they were (attendance and credit are kept).

:func:`plan_remap` says what an edit would do (the form's confirmation), and
:func:`update_series` does it and the edit in the caller's transaction.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from flask_babel import ngettext
from sqlalchemy import select

from pdtracker.auth.models import User
from pdtracker.events import notices
from pdtracker.events.models import (
    Event,
    EventSession,
    EventStatus,
    Registration,
    RegistrationStatus,
    SessionRegistration,
)
from pdtracker.events.occurrences import Occurrence
from pdtracker.events.places import sync_registration
from pdtracker.events.services import EventData, lock_uncancelled, update_event
from pdtracker.events.sessions import occurrences
from pdtracker.extensions import db

S = RegistrationStatus
ACTIVE = (S.REGISTERED.value, S.WAITLISTED.value)


@dataclass
class RemapPlan:
    """What an edit does to the stored sessions: re-keyed, gone, and their places."""

    moves: list[tuple[EventSession, Occurrence]] = field(default_factory=list)
    gone: list[EventSession] = field(default_factory=list)
    places: dict[int, list[SessionRegistration]] = field(default_factory=dict)
    series: bool = True  # False: a single event stays single (no question asked)

    def active(self, row: EventSession) -> list[SessionRegistration]:
        return [p for p in self.places.get(row.id, []) if p.status in ACTIVE]

    @property
    def moved_places(self) -> int:
        """Seats and waitlist places that move to a new session."""
        return sum(len(self.active(row)) for row, _ in self.moves)

    @property
    def gone_sessions(self) -> int:
        """Sessions that no longer exist and had someone in them."""
        return sum(1 for row in self.gone if self.active(row))

    @property
    def cancelled_places(self) -> int:
        """Places cancelled because their session no longer exists."""
        return sum(len(self.active(row)) for row in self.gone)

    @property
    def needs_confirmation(self) -> bool:
        """Staff are asked first: a series' places move, or some are cancelled."""
        return bool(self.cancelled_places or (self.series and self.moved_places))


def remap_words(plan: RemapPlan) -> list[str]:
    """What saving does to the teachers' places, in sentences (none: nothing)."""
    words = []
    if plan.moved_places:
        words.append(
            ngettext(
                "%(num)d registration moves to the new sessions.",
                "%(num)d registrations move to the new sessions.",
                plan.moved_places,
            )
        )
    if plan.cancelled_places:
        words.append(
            ngettext(
                "%(num)d session no longer exists: registrations cancelled: "
                "%(count)d; the teachers are told.",
                "%(num)d sessions no longer exist: registrations cancelled: "
                "%(count)d; the teachers are told.",
                plan.gone_sessions,
                count=plan.cancelled_places,
            )
        )
    return words


def plan_remap(event: Event, data: EventData, now: datetime) -> RemapPlan:
    """Which stored sessions the edit re-keys or ends (nothing is changed)."""
    plan = RemapPlan(series=bool(event.is_series or data.rrule))
    new = data.occurrences()
    new_keys = {o.key for o in new}
    rows = list(
        db.session.scalars(
            select(EventSession)
            .where(EventSession.event_id == event.id)
            .order_by(EventSession.original_starts_at)
        )
    )
    stored = {r.key for r in rows}
    if not plan.series:  # one session before and after: it is the same one
        orphans = [r for r in rows if r.key not in new_keys][:1]
        if orphans and new[0].key not in stored:
            plan.moves = [(orphans[0], new[0])]
            plan.places = _places_of(orphans)
        return plan
    orphans = [
        r
        for r in rows
        if r.key not in new_keys and min(r.starts_at, r.original_starts_at) > now
    ]
    if not orphans:
        return plan
    zone = ZoneInfo(data.tzid)
    free = [o for o in new if o.starts_at > now and o.key not in stored]
    old_future = [o.key for o in occurrences(event) if o.starts_at > now]
    new_future = [o for o in new if o.starts_at > now]
    taken: set[str] = set()
    targets: dict[int, Occurrence] = {}
    for row in orphans:  # the same local date: the time changed
        day = row.original_starts_at.astimezone(zone).date()
        match = next(
            (
                o
                for o in free
                if o.key not in taken and o.starts_at.astimezone(zone).date() == day
            ),
            None,
        )
        if match is not None:
            targets[row.id] = match
            taken.add(match.key)
    for row in orphans:  # else the same position among the future sessions
        if row.id in targets or row.key not in old_future:
            continue
        position = old_future.index(row.key)
        if position < len(new_future):
            candidate = new_future[position]
            if candidate.key not in stored and candidate.key not in taken:
                targets[row.id] = candidate
                taken.add(candidate.key)
    plan.moves = [(r, targets[r.id]) for r in orphans if r.id in targets]
    plan.gone = [r for r in orphans if r.id not in targets]
    plan.places = _places_of(orphans)
    return plan


def _places_of(rows: list[EventSession]) -> dict[int, list[SessionRegistration]]:
    """The places in these sessions, by session id (one query)."""
    grouped: dict[int, list[SessionRegistration]] = defaultdict(list)
    for place in db.session.scalars(
        select(SessionRegistration)
        .where(SessionRegistration.session_id.in_([r.id for r in rows]))
        .order_by(SessionRegistration.id)
    ):
        grouped[place.session_id].append(place)
    return dict(grouped)


def update_series(
    event: Event, data: EventData, actor: User | None, now: datetime
) -> bool:
    """Edit the event and carry its stored sessions over to the new schedule.

    One transaction with the edit (the caller commits): re-keyed rows keep their
    places, attendance and place changes; a session gone is cancelled and its
    teachers told; then :func:`update_event` tells the remaining ones, once.
    """
    lock_uncancelled(event)
    plan = plan_remap(event, data, now)
    published = event.status == EventStatus.PUBLISHED
    length = data.span[1] - data.span[0]
    for row, occ in plan.moves:
        unmoved = (row.starts_at, row.ends_at) == (
            row.original_starts_at,
            row.original_starts_at + (event.ends_at - event.starts_at),
        )
        row.key = occ.key
        row.original_starts_at = occ.starts_at
        if unmoved:
            row.starts_at, row.ends_at = occ.starts_at, occ.starts_at + length
        row.is_moved = (row.starts_at, row.ends_at, row.location) != (
            occ.starts_at,
            occ.ends_at,
            None,
        )
        _touch(row, now, published)
    touched: dict[int, None] = {}
    for row in plan.gone:
        # Teachers of a session cancelled before were told then.
        holders = [] if row.is_cancelled else _teachers(plan.active(row))
        row.is_cancelled = True
        row.cancelled_at = now
        _touch(row, now, published)
        for place in plan.active(row):
            place.status = S.CANCELLED.value
            place.cancelled_at = now
            place.updated_at = now
            touched[place.registration_id] = None
        db.session.flush()
        if published and holders:
            notices.session_cancelled(event, row, holders, now)
    db.session.flush()
    for registration_id in touched:
        sync_registration(db.session.get_one(Registration, registration_id), now)
    return update_event(event, data, actor, now)


def _touch(row: EventSession, now: datetime, published: bool) -> None:
    row.updated_at = max(now, row.updated_at)
    if published:
        row.sequence += 1


def _teachers(places: list[SessionRegistration]) -> list[int]:
    ids = [p.registration_id for p in places]
    if not ids:
        return []
    return sorted(
        db.session.scalars(
            select(Registration.teacher_id).where(Registration.id.in_(ids))
        )
    )
