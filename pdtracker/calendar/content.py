"""What each feed holds, read from the database and built into iCalendar bytes.

Three feeds (rule ids in comments are those of docs/calendar-feeds.md):

* teacher (private token): the teacher's registrations (waitlisted ones TENTATIVE
  with a prefix, cancelled registrations dropped), placements (all-day spans with an
  exclusive end, TRANSPARENT; proposed → TENTATIVE) and planned activities;
* department (private token of a head): the department teachers' placements and
  registrations, summarised by name only — no notes, tasks, contacts or e-mails;
* public: published events of the association.

Cancelled events and placements stay as STATUS:CANCELLED for 30 days (F4): the
window (:class:`~.handles.FeedWindow`) says since when.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import current_app, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import joinedload

from pdtracker.activities.models import Activity, ActivityStatus
from pdtracker.auth.models import User
from pdtracker.calendar.handles import FeedHandle, FeedWindow
from pdtracker.calendar.ics import (
    CalendarEntry,
    build_calendar,
    feed_uid,
    is_generated_uid,
)
from pdtracker.calendar.models import FeedScope
from pdtracker.calendar.session_entries import (
    department_places_of,
    overrides_of,
    places_of,
    series_entries,
)
from pdtracker.events.models import (
    Event,
    EventSession,
    EventStatus,
    Registration,
    RegistrationStatus,
)
from pdtracker.extensions import db
from pdtracker.placements.models import Placement, PlacementStatus

logger = logging.getLogger(__name__)

MAX_NAMES = 5  # teachers named per event in the department feed
_ACTIVE_REGISTRATIONS = (
    RegistrationStatus.REGISTERED.value,
    RegistrationStatus.WAITLISTED.value,
    RegistrationStatus.ATTENDED.value,
)
_PLACEMENT_STATUS = {
    PlacementStatus.PROPOSED.value: "TENTATIVE",
    PlacementStatus.APPROVED.value: "CONFIRMED",
    PlacementStatus.IN_PROGRESS.value: "CONFIRMED",
    PlacementStatus.COMPLETED.value: "CONFIRMED",
    PlacementStatus.CANCELLED.value: "CANCELLED",
}


def build_feed(handle: FeedHandle, window: FeedWindow, base: str) -> bytes:
    """Query and serialise one feed (a few queries, whatever its size)."""
    ctx = _Context(handle, window, base)
    with force_locale(handle.locale):
        if handle.scope == FeedScope.TEACHER:
            name = _("%(name)s: professional development", name=handle.owner_name)
            entries = _teacher_entries(ctx)
        elif handle.scope == FeedScope.DEPARTMENT:
            name = _(
                "%(department)s: department calendar", department=handle.owner_name
            )
            entries = _department_entries(ctx)
        else:
            name = handle.owner_name or _("Association events")
            entries = _public_entries(ctx)
    entries.sort(key=lambda e: (_sort_instant(e), e.uid))
    return build_calendar(
        entries, name=name, refresh=current_app.config["FEED_REFRESH"]
    )


@dataclass(frozen=True)
class _Context:
    handle: FeedHandle
    window: FeedWindow
    base: str

    @property
    def domain(self) -> str:
        return current_app.config["FEED_DOMAIN"]

    def link(self, endpoint: str, **values: Any) -> str:
        return self.base + url_for(endpoint, **values)


def _sort_instant(entry: CalendarEntry) -> datetime:
    if isinstance(entry.start, datetime):
        return entry.start
    return datetime.combine(entry.start, time(), ZoneInfo(entry.tzid))  # all-day


def _safe(entries: list[CalendarEntry], kind: str, pk: int, make) -> None:
    """Add one entry; a row the builder refuses is logged and left out, not fatal."""
    try:
        entries.append(make())
    except (ValueError, ZoneInfoNotFoundError) as exc:
        logger.warning("feed: %s %s left out: %s", kind, pk, exc)


def _event_window(window: FeedWindow):
    """Published events, and recently cancelled ones, overlapping the window."""
    return and_(
        or_(
            Event.status == EventStatus.PUBLISHED,
            and_(
                Event.status == EventStatus.CANCELLED,
                Event.cancelled_at >= window.cancelled_since,
            ),
        ),
        Event.starts_at < window.end_utc,
        or_(Event.series_ends_at.is_(None), Event.series_ends_at >= window.start_utc),
    )


def _event_entries(
    ctx: _Context,
    rows: Iterable[tuple[Event, dict]],
) -> list[CalendarEntry]:
    """Entries for events; ``rows`` pairs each event with overrides of its fields.

    An imported override of one occurrence (RECURRENCE-ID) cannot share its series'
    UID in this builder, so it becomes a single event with its own row UID and the
    series gets an EXDATE for the occurrence it replaces. Only an imported series
    takes EXDATEs that way: an import never edits an event made here.
    """
    rows = list(rows)
    exdates: dict[str, list[date | datetime]] = {}
    masters = {
        e.uid: e for e, _x in rows if not e.recurrence_key and e.rrule and e.is_imported
    }
    for event, _x in rows:
        master = masters.get(event.uid) if event.recurrence_key else None
        if master is not None:
            moved = _recurrence_value(event.recurrence_key, master)
            if moved is not None:
                exdates.setdefault(master.uid, []).append(moved)
    overrides = overrides_of([e.id for e, _x in rows if e.is_series])
    entries: list[CalendarEntry] = []
    for event, extra in rows:
        uid = _event_uid(event, ctx.domain)
        _safe_all(
            entries,
            "event",
            event.id,
            lambda e=event, x=extra, u=uid: _event_and_sessions(
                ctx, e, u, exdates, overrides.get(e.id, []), x
            ),
        )
    return entries


def _event_and_sessions(
    ctx: _Context,
    event: Event,
    uid: str,
    exdates: dict[str, list[date | datetime]],
    overrides: list[EventSession],
    extra: dict,
) -> list[CalendarEntry]:
    """An event's entry; a series' master with its sessions' overrides (F19, F20)."""
    extra = dict(extra)
    places = extra.pop("places", None)
    master = _event_entry(ctx, event, uid, exdates, **extra)
    if not event.is_series:
        return [master]
    # Sessions held with a seat read like the master, unless the master is the
    # waitlisted one (then they read as the event's own title).
    title = extra.get("summary") or event.title
    if extra.get("status") == "TENTATIVE":
        title = event.title
    return series_entries(
        event,
        master,
        overrides,
        places,
        title=title,
        cancelled_title=_("[Cancelled] %(title)s", title=title),
        waiting_title=_("[Waiting list] %(title)s", title=event.title),
    )


def _safe_all(entries: list[CalendarEntry], kind: str, pk: int, make) -> None:
    """Add an event's entries; a row the builder refuses is logged, not fatal."""
    try:
        entries.extend(make())
    except (ValueError, ZoneInfoNotFoundError) as exc:
        logger.warning("feed: %s %s left out: %s", kind, pk, exc)


def _event_uid(event: Event, domain: str) -> str:
    """The UID an event has in every feed; unique by construction.

    An event made here keeps the UID it was published with (clients rely on it). An
    imported override gets its row's generated UID (ids are unique). An imported
    series or single event keeps its source's UID, which is unique in the table, unless
    that UID lies in this deployment's generated namespace: a file forged it (or it was
    stored before imports refused such UIDs), so the row's own generated UID replaces
    it and it can never collide with another row's.
    """
    if not event.is_imported:
        return event.uid
    if event.recurrence_key or is_generated_uid(event.uid, domain):
        return feed_uid("event", event.id, domain)
    return event.uid


def _event_entry(
    ctx: _Context,
    event: Event,
    uid: str,
    exdates: dict[str, list[date | datetime]],
    *,
    summary: str | None = None,
    status: str | None = None,
    updated_at: datetime | None = None,
    description: str | None = None,
) -> CalendarEntry:
    cancelled = event.status == EventStatus.CANCELLED
    title = summary or event.title
    if cancelled:
        title = _("[Cancelled] %(title)s", title=title)
    if description is None:
        description = _event_description(event)
    rrule = event.rrule if not event.recurrence_key else None
    start, end = _event_span(event)
    return CalendarEntry(
        uid=uid,
        summary=title,
        start=start,
        end=end,
        all_day=event.is_all_day,
        tzid=event.tzid,
        updated_at=max(event.updated_at, updated_at or event.updated_at),
        location=event.location or event.online_url,
        description=description,
        url=ctx.link("events.detail", event_id=event.id),
        status="CANCELLED" if cancelled else (status or "CONFIRMED"),
        sequence=event.sequence,
        categories=(event.kind.label(ctx.handle.locale),),
        transparent=event.is_all_day,
        rrule=rrule,
        exdates=tuple(
            [*event.exdate_values(), *exdates.get(event.uid, [])] if rrule else ()
        ),
    )


def _event_span(event: Event) -> tuple[date | datetime, date | datetime]:
    """Start and end: dates for an all-day event (its end exclusive), else instants."""
    if not event.is_all_day:
        return event.starts_at, event.ends_at
    if event.start_on is None or event.end_on is None:
        raise ValueError("all-day start/end must be dates")
    return event.start_on, event.end_on


def _event_description(event: Event) -> str | None:
    parts = []
    if event.speakers:
        parts.append(_("Speakers: %(names)s", names=event.speakers))
    if event.description:
        parts.append(event.description)
    if event.online_url:
        parts.append(_("Online: %(url)s", url=event.online_url))
    return "\n\n".join(parts) or None


def _recurrence_value(key: str, master: Event) -> date | datetime | None:
    """An override's RECURRENCE-ID in the value type of its series' DTSTART."""
    try:
        if len(key) == 10:
            moved: date | datetime = date.fromisoformat(key)
        else:
            moved = datetime.fromisoformat(key)
    except ValueError:
        return None
    if master.is_all_day:
        return moved.date() if isinstance(moved, datetime) else moved
    if not isinstance(moved, datetime):
        return None
    if moved.tzinfo is None:
        moved = moved.replace(tzinfo=ZoneInfo(master.tzid))
    return moved.astimezone(UTC)


def _placement_window(window: FeedWindow):
    return and_(
        Placement.ends_on >= window.start,
        Placement.starts_on < window.end,
        or_(
            Placement.status != PlacementStatus.CANCELLED,
            Placement.updated_at >= window.cancelled_since,
        ),
    )


def _placement_entry(
    ctx: _Context, placement: Placement, summary: str, description: str | None
) -> CalendarEntry:
    cancelled = placement.status == PlacementStatus.CANCELLED
    if cancelled:
        summary = _("[Cancelled] %(title)s", title=summary)
    return CalendarEntry(
        uid=feed_uid("placement", placement.id, ctx.domain),
        summary=summary,
        start=placement.starts_on,
        end=placement.ends_on + timedelta(days=1),  # F5: DTEND is exclusive
        all_day=True,
        updated_at=placement.updated_at,
        location=placement.enterprise.city,
        description=description,
        url=ctx.link("placements.detail", placement_id=placement.id),
        status=_PLACEMENT_STATUS[placement.status],
        sequence=placement.sequence,
        categories=(_("Enterprise placement"),),
        transparent=True,  # F6: a month at a company must not block free/busy
    )


def _teacher_entries(ctx: _Context) -> list[CalendarEntry]:
    teacher_id = ctx.handle.owner_id
    window = ctx.window
    registrations = db.session.execute(
        select(Event, Registration.status, Registration.updated_at)
        .join(Registration, Registration.event_id == Event.id)
        .where(
            Registration.teacher_id == teacher_id,
            Registration.status.in_(_ACTIVE_REGISTRATIONS),
            _event_window(window),
        )
    ).all()
    series_ids = [e.id for e, _s, _u in registrations if e.is_series]
    places = places_of(teacher_id, series_ids) if teacher_id is not None else {}
    rows = []
    for event, status, updated_at in registrations:
        extra: dict = {"updated_at": updated_at, "places": places.get(event.id)}
        if status == RegistrationStatus.WAITLISTED:
            extra["status"] = "TENTATIVE"
            extra["summary"] = _("[Waiting list] %(title)s", title=event.title)
        rows.append((event, extra))
    entries = _event_entries(ctx, rows)
    placements = db.session.scalars(
        select(Placement)
        .options(joinedload(Placement.enterprise))
        .where(Placement.teacher_id == teacher_id, _placement_window(window))
    ).all()
    for p in placements:
        summary = _(
            "Enterprise placement: %(enterprise)s", enterprise=p.enterprise.name
        )
        details = [p.tasks or ""]
        if p.mentor_name:
            details.append(_("Mentor: %(name)s", name=p.mentor_name))
        description = "\n\n".join(d for d in details if d) or None
        _safe(
            entries,
            "placement",
            p.id,
            lambda p=p, s=summary, d=description: _placement_entry(ctx, p, s, d),
        )
    activities = db.session.scalars(
        select(Activity).where(
            Activity.teacher_id == teacher_id,
            Activity.status == ActivityStatus.PLANNED,
            Activity.starts_on < window.end,
            func.coalesce(Activity.ends_on, Activity.starts_on) >= window.start,
        )
    ).all()
    for a in activities:
        _safe(entries, "activity", a.id, lambda a=a: _activity_entry(ctx, a))
    return entries


def _activity_entry(ctx: _Context, activity: Activity) -> CalendarEntry:
    """A planned activity: timed when it has times on one day, else all-day."""
    last = activity.ends_on or activity.starts_on
    begins, ends = activity.start_time, activity.end_time
    tzid = ctx.handle.timezone
    start: date | datetime
    end: date | datetime
    if (
        begins is not None
        and ends is not None
        and last == activity.starts_on
        and ends >= begins
    ):
        timed = True
        zone = ZoneInfo(tzid)
        start = datetime.combine(activity.starts_on, begins, zone)
        end = datetime.combine(last, ends, zone)
    else:
        timed = False
        start, end = activity.starts_on, last + timedelta(days=1)
    return CalendarEntry(
        uid=feed_uid("activity", activity.id, ctx.domain),
        summary=activity.title,
        start=start,
        end=end,
        all_day=not timed,
        tzid=tzid,
        updated_at=activity.updated_at,
        sequence=activity.sequence,
        location=activity.location,
        description=activity.organizer,
        url=ctx.link("activities.detail", activity_id=activity.id),
        categories=(activity.kind.label(ctx.handle.locale),),
        transparent=not timed,
    )


def _department_entries(ctx: _Context) -> list[CalendarEntry]:
    """Placements and registrations of the department's teachers, by name only."""
    department_id = ctx.handle.owner_id
    window = ctx.window
    in_department = and_(
        User.department_id == department_id, User.is_active_account.is_(True)
    )
    found = db.session.execute(
        select(Event, Registration.status, Registration.updated_at, User.display_name)
        .join(Registration, Registration.event_id == Event.id)
        .join(User, User.id == Registration.teacher_id)
        .where(
            in_department,
            Registration.status.in_(_ACTIVE_REGISTRATIONS),
            _event_window(window),
        )
    ).all()
    by_event: dict[int, tuple[Event, list[tuple[str, str, datetime]]]] = {}
    for event, status, updated_at, name in found:
        by_event.setdefault(event.id, (event, []))[1].append((name, status, updated_at))
    series = [e.id for e, _r in by_event.values() if e.is_series]
    places = department_places_of(department_id, series) if department_id else {}
    rows = []
    for event, regs in by_event.values():
        names = sorted({n for n, s, _u in regs if s != RegistrationStatus.WAITLISTED})
        waiting = sorted({n for n, s, _u in regs if s == RegistrationStatus.WAITLISTED})
        lines = []
        if names:
            lines.append(_("Registered: %(names)s", names=_join(names)))
        if waiting:
            lines.append(_("Waiting list: %(names)s", names=_join(waiting)))
        shown = names or waiting
        extra = {
            "summary": _(
                "%(title)s (%(names)s)", title=event.title, names=_names(shown)
            ),
            "status": "CONFIRMED" if names else "TENTATIVE",
            "updated_at": max(u for _n, _s, u in regs),
            "description": "\n".join(lines),
            "places": places.get(event.id),
        }
        rows.append((event, extra))
    entries = _event_entries(ctx, rows)
    placements = db.session.execute(
        select(Placement, User.display_name)
        .options(joinedload(Placement.enterprise))
        .join(User, User.id == Placement.teacher_id)
        .where(in_department, _placement_window(window))
    ).all()
    for p, name in placements:
        summary = _(
            "Enterprise placement: %(teacher)s @ %(enterprise)s",
            teacher=name,
            enterprise=p.enterprise.name,
        )
        _safe(
            entries,
            "placement",
            p.id,
            lambda p=p, s=summary: _placement_entry(ctx, p, s, None),
        )
    return entries


def _names(names: list[str]) -> str:
    """At most MAX_NAMES names, then how many more."""
    if len(names) <= MAX_NAMES:
        return _join(names)
    shown = _join(names[:MAX_NAMES])
    return _("%(names)s and %(count)d more", names=shown, count=len(names) - MAX_NAMES)


def _join(names: list[str]) -> str:
    return _(", ").join(names)


def _public_entries(ctx: _Context) -> list[CalendarEntry]:
    events = db.session.scalars(select(Event).where(_event_window(ctx.window))).all()
    return _event_entries(ctx, ((e, {}) for e in events))
