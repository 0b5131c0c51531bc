"""What registered teachers are told about their sessions, once each (outbox).

Each hook plans an outcome notification through
:func:`pdtracker.notifications.outcomes.enqueue_outcomes` in the caller's
transaction. The key names what happened and when, so a hook run twice (a retried
request, a second scheduler) plans nothing new:

- ``waitlist_promoted:<session id>:<place id>:<queued_at>``: one move up per stint
  on the waitlist;
- ``attendance_credited:<session id>:<place id>``: a session is credited once;
- ``event_changed:<event id>:<session key or "all">:<sequence>`` and
  ``event_cancelled:…`` likewise: one per version the calendars see (F3).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app

from pdtracker.events.models import Event, EventSession, SessionRegistration
from pdtracker.notifications.attachments import calendar_fields
from pdtracker.notifications.models import NotificationKind
from pdtracker.notifications.outcomes import enqueue_outcomes

K = NotificationKind


def session_payload(
    event: Event, starts_at: datetime, ends_at: datetime, location: str | None
) -> dict[str, Any]:
    """A session as the outcome messages read it (the reminders' event payload)."""
    payload: dict[str, Any] = {
        "title": event.title,
        "starts_at": starts_at.isoformat(),
        "ends_at": ends_at.isoformat(),
        "location": location or event.location or "",
        "online_url": event.online_url or "",
    }
    if event.is_all_day:
        zone = ZoneInfo(event.tzid)
        payload["all_day"] = True
        payload["first_day"] = starts_at.astimezone(zone).date().isoformat()
        last = ends_at.astimezone(zone).date() - timedelta(days=1)
        payload["last_day"] = last.isoformat()
    return payload


def _row_payload(event: Event, session: EventSession) -> dict[str, Any]:
    """The session's wording and, for the e-mail's .ics, its calendar fields."""
    domain = current_app.config["FEED_DOMAIN"]
    return {
        **session_payload(event, session.starts_at, session.ends_at, session.location),
        **calendar_fields(event, session.starts_at, domain, session),
    }


def _before(
    previous: tuple[datetime, datetime, str | None], location: str | None = None
) -> dict[str, str]:
    """When and where it was before a change (``location`` for a place not given)."""
    starts_at, ends_at, where = previous
    return {
        "previous_starts_at": starts_at.isoformat(),
        "previous_ends_at": ends_at.isoformat(),
        "previous_location": where or location or "",
    }


def _tell(
    event: Event,
    teacher_ids: Iterable[int],
    kind: NotificationKind,
    key: str,
    payload: dict[str, Any],
    now: datetime,
) -> int:
    """Plan the outcome for the teachers, filed under the event; how many are new."""
    return enqueue_outcomes(
        teacher_ids, kind, key, payload, now, object_type="event", object_id=event.id
    )


def waitlist_promoted(
    event: Event,
    session: EventSession,
    place: SessionRegistration,
    teacher_id: int,
    now: datetime,
) -> int:
    """Tell a teacher they moved up from a session's waitlist."""
    key = (
        f"waitlist_promoted:{session.id}:{place.id}:"
        f"{place.queued_at.strftime('%Y%m%dT%H%M%S')}"
    )
    return _tell(
        event, [teacher_id], K.WAITLIST_PROMOTED, key, _row_payload(event, session), now
    )


def attendance_credited(
    event: Event,
    session: EventSession,
    place: SessionRegistration,
    teacher_id: int,
    activity_id: int,
    now: datetime,
) -> int:
    """Tell a teacher a session's attendance was credited to their record."""
    payload = {
        **_row_payload(event, session),
        "credit": str(event.credited_hours),
        "unit": "hours",
        "activity_id": activity_id,
    }
    key = f"attendance_credited:{session.id}:{place.id}"
    return _tell(event, [teacher_id], K.ATTENDANCE_CREDITED, key, payload, now)


def session_changed(
    event: Event,
    session: EventSession,
    teacher_ids: Iterable[int],
    now: datetime,
    *,
    previous: tuple[datetime, datetime, str | None],
) -> int:
    """Tell the session's registered teachers it moved (time or place)."""
    # A session without its own place was at the event's.
    payload = {**_row_payload(event, session), **_before(previous, event.location)}
    key = f"event_changed:{event.id}:{session.key}:{session.sequence}"
    return _tell(event, teacher_ids, K.EVENT_CHANGED, key, payload, now)


def session_cancelled(
    event: Event,
    session: EventSession,
    teacher_ids: Iterable[int],
    now: datetime,
    reason: str = "",
) -> int:
    """Tell the session's registered teachers it is cancelled."""
    payload = {**_row_payload(event, session), "reason": reason}
    key = f"event_cancelled:{event.id}:{session.key}:{session.sequence}"
    return _tell(event, teacher_ids, K.EVENT_CANCELLED, key, payload, now)


def event_cancelled(
    event: Event, teacher_ids: Iterable[int], now: datetime, reason: str = ""
) -> int:
    """Tell an event's registered teachers the whole event is cancelled."""
    payload = {
        **session_payload(event, event.starts_at, event.ends_at, None),
        "reason": reason,
    }
    key = f"event_cancelled:{event.id}:all:{event.sequence}"
    return _tell(event, teacher_ids, K.EVENT_CANCELLED, key, payload, now)


def event_changed(
    event: Event,
    teacher_ids: Iterable[int],
    now: datetime,
    previous: tuple[datetime, datetime, str | None],
) -> int:
    """Tell an event's registered teachers its time or place changed."""
    payload = {
        **session_payload(event, event.starts_at, event.ends_at, None),
        **_before(previous),
    }
    key = f"event_changed:{event.id}:all:{event.sequence}"
    return _tell(event, teacher_ids, K.EVENT_CHANGED, key, payload, now)
