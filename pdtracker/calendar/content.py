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

Events' entries (series, sessions, imported overrides) are built in
:mod:`~.feed_events`; this module picks each feed's rows and adds placements and
planned activities.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import joinedload

from pdtracker.activities.models import Activity, ActivityStatus
from pdtracker.auth.models import User
from pdtracker.calendar.feed_events import (
    FeedContext,
    add_safely,
    event_entries,
    event_window,
)
from pdtracker.calendar.handles import FeedHandle, FeedWindow
from pdtracker.calendar.ics import CalendarEntry, build_calendar, feed_uid
from pdtracker.calendar.models import FeedScope
from pdtracker.calendar.session_entries import department_places_of, places_of
from pdtracker.events.models import Event, Registration, RegistrationStatus
from pdtracker.extensions import db
from pdtracker.placements.models import Placement, PlacementStatus

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
    ctx = FeedContext(handle, window, base)
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


def _sort_instant(entry: CalendarEntry) -> datetime:
    if isinstance(entry.start, datetime):
        return entry.start
    return datetime.combine(entry.start, time(), ZoneInfo(entry.tzid))  # all-day


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
    ctx: FeedContext, placement: Placement, summary: str, description: str | None
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


def _teacher_entries(ctx: FeedContext) -> list[CalendarEntry]:
    teacher_id = ctx.handle.owner_id
    window = ctx.window
    registrations = db.session.execute(
        select(Event, Registration.status, Registration.updated_at)
        .join(Registration, Registration.event_id == Event.id)
        .where(
            Registration.teacher_id == teacher_id,
            Registration.status.in_(_ACTIVE_REGISTRATIONS),
            event_window(window),
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
    entries = event_entries(ctx, rows)
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
        add_safely(
            entries,
            "placement",
            p.id,
            lambda p=p, s=summary, d=description: [_placement_entry(ctx, p, s, d)],
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
        add_safely(entries, "activity", a.id, lambda a=a: [_activity_entry(ctx, a)])
    return entries


def _activity_entry(ctx: FeedContext, activity: Activity) -> CalendarEntry:
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


def _department_entries(ctx: FeedContext) -> list[CalendarEntry]:
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
            event_window(window),
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
    entries = event_entries(ctx, rows)
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
        add_safely(
            entries,
            "placement",
            p.id,
            lambda p=p, s=summary: [_placement_entry(ctx, p, s, None)],
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


def _public_entries(ctx: FeedContext) -> list[CalendarEntry]:
    events = db.session.scalars(select(Event).where(event_window(ctx.window))).all()
    return event_entries(ctx, ((e, {}) for e in events))
