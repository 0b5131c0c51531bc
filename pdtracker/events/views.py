"""Event pages for teachers and heads: browse, register, cancel the registration.

The ``events`` blueprint lives here; the staff pages (editing, attendance, exports,
import) are on it too, in :mod:`.manage`.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from datetime import datetime
from typing import TypeVar

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from pdtracker import fragments
from pdtracker.auth.models import Role
from pdtracker.auth.session import role_required
from pdtracker.events.display import (
    event_when,
    instant,
    seats_text,
    series_text,
    session_when,
)
from pdtracker.events.errors import EventError
from pdtracker.events.forms import parse_month
from pdtracker.events.listing import (
    list_kinds,
    list_page,
    list_seats,
    row_key,
    shared_key,
)
from pdtracker.events.messages import (
    EVENT_STATUS_LABELS,
    REGISTRATION_LABELS,
    refusal_message,
)
from pdtracker.events.models import (
    EVENT_KINDS,
    Event,
    EventStatus,
    Registration,
    RegistrationStatus,
)
from pdtracker.events.registrations import (
    cancel_registration,
    cancel_session,
    closes_at,
    register,
)
from pdtracker.events.roster import (
    my_sessions,
    registrations_of,
    seat_counts,
    session_counts,
    waitlist_position,
)
from pdtracker.events.services import month_bounds
from pdtracker.events.sessions import list_sessions, next_session
from pdtracker.extensions import db
from pdtracker.main.paging import page_number
from pdtracker.timeutil import to_local, utcnow

bp = Blueprint("events", __name__, url_prefix="/events")

STAFF = (Role.STAFF, Role.ADMIN)
VIEWERS = (Role.TEACHER, Role.HEAD, Role.STAFF, Role.ADMIN)
PER_PAGE = 20

T = TypeVar("T")


@bp.context_processor
def _helpers() -> dict:
    return {
        "registration_label": lambda s: str(REGISTRATION_LABELS.get(s, s)),
        "event_status_label": lambda s: str(EVENT_STATUS_LABELS.get(s, s)),
        "kind_label": lambda kind: kind.label(str(get_locale() or "zh")),
        "event_when": event_when,
        "series_text": series_text,
        "session_when": session_when,
        "event_instant": instant,
        "seats_text": seats_text,
        "is_staff": current_user.is_authenticated and is_staff(),
    }


def is_staff() -> bool:
    """Whether the current user manages events (association staff or an admin)."""
    return current_user.has_role(*STAFF)


def event_or_404(event_id: int) -> Event:
    """The event if the user may see it: drafts only for staff."""
    event = db.get_or_404(Event, event_id)
    if event.status == EventStatus.DRAFT and not is_staff():
        abort(404)
    return event


def refused(exc: EventError, back: str) -> ResponseReturnValue:
    """Roll back a refused operation, say why and go back to ``back``."""
    db.session.rollback()
    flash(refusal_message(exc.code), "warning")
    return redirect(back)


def run_service(
    action: Callable[[], T],
    back: str,
    done: str | Callable[[T], tuple[str, str]],
    category: str = "success",
) -> ResponseReturnValue:
    """Run one service call, commit, flash ``done`` and go back to ``back``.

    ``done`` is the message (flashed as ``category``), or a function of what the
    service returned that gives the message and its category. A refusal is rolled
    back and worded instead.
    """
    try:
        result = action()
    except EventError as exc:
        return refused(exc, back)
    db.session.commit()
    message, category = done(result) if callable(done) else (done, category)
    flash(message, category)
    return redirect(back)


def detail_url(event: Event) -> str:
    """The event's page."""
    return url_for("events.detail", event_id=event.id)


@bp.route("/")
@role_required(*VIEWERS)
def index() -> ResponseReturnValue:
    """Published events, upcoming first, filtered by kind and month.

    The page's body is kept (pdtracker.fragments) under everything it is drawn
    from, and so is each row, the filters and the pager: only the seat counts and
    the user's registrations are read on every request, in one query.
    """
    kind = request.args.get("kind") if request.args.get("kind") in EVENT_KINDS else None
    month = parse_month(request.args.get("month"))
    now = utcnow()
    bounds = month_bounds(*month, current_user.timezone) if month else None
    page, loaded = list_page(now, page_number(), PER_PAGE, kind=kind, month=bounds)
    teacher = current_user.id if current_user.has_role(Role.TEACHER) else None
    counts, statuses = list_seats(page, teacher)
    kinds = list_kinds()
    month_text = _month_text(month) if month else ""
    months = _neighbour_months(month or _current_month(now))
    frame = (
        tuple((c.value, str(c.label)) for c in kinds),
        kind,
        month_text,
        tuple(months.items()),
        is_staff(),
    )
    shared = shared_key(now)
    keys: dict[Hashable, Hashable] = {
        row.event_id: (
            shared,
            row_key(row, counts[row.event_id], statuses.get(row.event_id)),
        )
        for row in page.items
    }
    keys["top"] = (shared, "top", frame)  # the filters above the rows
    keys["pager"] = (shared, "pager", frame, page.page, page.pages)

    def draw() -> str:
        parts = fragments.Parts(keys)
        wanted = [i for i in parts.missing if isinstance(i, int) and i not in loaded]
        events = dict(loaded)
        if wanted:
            events.update(
                (e.id, e)
                for e in db.session.scalars(select(Event).where(Event.id.in_(wanted)))
            )
        return render_template(
            "events/_list_body.html",
            page=page,
            events=events,
            counts=counts,
            statuses=statuses,
            rows=parts,
            kinds=kinds,
            kind=kind or "",
            month=month_text,
            months=months,
            now=now,
        )

    body = fragments.cached(("events.index", tuple(keys.values())), (), draw)
    return render_template("events/index.html", body=body)


def _month_text(month: tuple[int, int]) -> str:
    return f"{month[0]:04d}-{month[1]:02d}"


def _current_month(now: datetime) -> tuple[int, int]:
    local = to_local(now, current_user.timezone)
    return local.year, local.month


def _neighbour_months(month: tuple[int, int]) -> dict[str, str]:
    """YYYY-MM of the month before, the month itself and the month after."""
    year, number = month
    before = (year - 1, 12) if number == 1 else (year, number - 1)
    after = (year + 1, 1) if number == 12 else (year, number + 1)
    return {
        "prev": _month_text(before),
        "this": _month_text(month),
        "next": _month_text(after),
    }


@bp.route("/<int:event_id>")
@role_required(*VIEWERS)
def detail(event_id: int) -> ResponseReturnValue:
    """One event with the user's registration and the register/cancel buttons."""
    event = event_or_404(event_id)
    registration = registrations_of(current_user, [event.id]).get(event.id)
    now = utcnow()
    sessions = list_sessions(event) if event.is_series else []
    stored = [s.session_id for s in sessions if s.session_id is not None]
    return render_template(
        "events/detail.html",
        event=event,
        registration=registration,
        position=waitlist_position(registration) if registration else None,
        counts=seat_counts([event.id])[event.id],
        can_register=current_user.has_role(Role.TEACHER),
        sessions=sessions,
        next=next_session(sessions, now) if sessions else None,
        session_seats=session_counts(stored),
        places=my_sessions(registration),
        closes_at=closes_at,
        now=now,
    )


@bp.route("/<int:event_id>/register", methods=["POST"])
@role_required(Role.TEACHER)
def register_view(event_id: int) -> ResponseReturnValue:
    """Register the current teacher (or put them on the waiting list)."""
    event = event_or_404(event_id)
    keys = request.form.getlist("sessions") or None
    if request.form.get("chosen") and not keys:
        flash(_("Choose at least one session."), "warning")
        return redirect(detail_url(event))
    return run_service(
        lambda: register(current_user, event, utcnow(), keys=keys),
        detail_url(event),
        _registered_message,
    )


def _registered_message(registration: Registration) -> tuple[str, str]:
    if registration.status == RegistrationStatus.REGISTERED:
        if registration.event.is_series and any(
            p.status == RegistrationStatus.WAITLISTED
            for p in my_sessions(registration).values()
        ):
            return (
                _("You are registered; some sessions are full and you are on their"
                  " waiting lists."),
                "info",
            )  # fmt: skip
        return _("You are registered."), "success"
    return _("The event is full: you are on the waiting list."), "info"


@bp.route("/<int:event_id>/sessions/<key>/unregister", methods=["POST"])
@role_required(Role.TEACHER)
def unregister_session(event_id: int, key: str) -> ResponseReturnValue:
    """Cancel the current teacher's place in one session of a series."""
    event = event_or_404(event_id)
    return run_service(
        lambda: cancel_session(current_user, event, key, utcnow()),
        detail_url(event),
        _("Your place in this session is cancelled."),
        "info",
    )


@bp.route("/<int:event_id>/unregister", methods=["POST"])
@role_required(Role.TEACHER)
def unregister(event_id: int) -> ResponseReturnValue:
    """Cancel the current teacher's own registration."""
    event = event_or_404(event_id)
    return run_service(
        lambda: cancel_registration(current_user, event, utcnow()),
        detail_url(event),
        _("Your registration is cancelled."),
        "info",
    )
