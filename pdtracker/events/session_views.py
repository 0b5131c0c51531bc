"""Staff pages for one session of a series: move it, cancel it, take the cancel back.

On the ``events`` blueprint (see :mod:`.views`); :mod:`.manage` imports this module
so that the pages are registered with the staff pages.
"""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from flask import abort, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import DateField, StringField, TimeField
from wtforms.validators import DataRequired, Length, Optional

from pdtracker.auth.session import role_required
from pdtracker.events.models import Event
from pdtracker.events.session_changes import (
    cancel_one_session,
    move_session,
    restore_session,
)
from pdtracker.events.sessions import SessionInfo, find_session
from pdtracker.events.views import STAFF, bp, detail_url, run_service
from pdtracker.extensions import db
from pdtracker.timeutil import utcnow


class MoveSessionForm(FlaskForm):
    """A session's new date, times and place (local to the event's zone)."""

    day = DateField(_l("Date"), validators=[DataRequired()])
    start_time = TimeField(_l("Start time"), validators=[DataRequired()])
    end_time = TimeField(_l("End time"), validators=[DataRequired()])
    location = StringField(
        _l("Location"),
        validators=[Optional(), Length(max=500)],
        description=_l("Leave empty for the series' usual place."),
    )


def _session_or_404(event: Event, key: str) -> SessionInfo:
    if not event.is_series:
        abort(404)
    session = find_session(event, key)
    if session is None:
        abort(404)
    return session


@bp.route("/<int:event_id>/sessions/<key>/move", methods=["GET", "POST"])
@role_required(*STAFF)
def move_session_view(event_id: int, key: str) -> ResponseReturnValue:
    """Move one session (new date, times or place); its teachers are told."""
    event = db.get_or_404(Event, event_id)
    session = _session_or_404(event, key)
    zone = ZoneInfo(event.tzid)
    start = session.starts_at.astimezone(zone)
    form = MoveSessionForm(
        data={
            "day": start.date(),
            "start_time": start.time().replace(tzinfo=None),
            "end_time": session.ends_at.astimezone(zone).time().replace(tzinfo=None),
            "location": session.location if session.location != event.location else "",
        }
    )
    if form.validate_on_submit():
        starts = datetime.combine(form.day.data, form.start_time.data, zone)
        ends = datetime.combine(form.day.data, form.end_time.data, zone)
        if ends <= starts:
            form.end_time.errors = [_("The end is before the start.")]
        else:
            place = (form.location.data or "").strip() or None
            return run_service(
                lambda: move_session(
                    event,
                    key,
                    starts.astimezone(UTC),
                    ends.astimezone(UTC),
                    place,
                    current_user,
                    utcnow(),
                ),  # fmt: skip
                detail_url(event),
                lambda moved: (
                    _("The session was moved; its teachers are told.")
                    if moved
                    else _("Nothing changed."),
                    "success",
                ),
            )
    return render_template(
        "events/move_session.html", event=event, session=session, form=form
    )


@bp.route("/<int:event_id>/sessions/<key>/cancel", methods=["POST"])
@role_required(*STAFF)
def cancel_session_view(event_id: int, key: str) -> ResponseReturnValue:
    """Cancel one session (it stays in calendars as cancelled)."""
    event = db.get_or_404(Event, event_id)
    _session_or_404(event, key)
    return run_service(
        lambda: cancel_one_session(event, key, current_user, utcnow()),
        detail_url(event),
        _("The session is cancelled; its teachers are told."),
        "info",
    )


@bp.route("/<int:event_id>/sessions/<key>/restore", methods=["POST"])
@role_required(*STAFF)
def restore_session_view(event_id: int, key: str) -> ResponseReturnValue:
    """Take back a session's cancellation."""
    event = db.get_or_404(Event, event_id)
    _session_or_404(event, key)
    return run_service(
        lambda: restore_session(event, key, current_user, utcnow()),
        url_for("events.move_session_view", event_id=event.id, key=key),
        _("The session takes place again."),
    )
