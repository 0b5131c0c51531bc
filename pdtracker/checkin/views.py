"""Check-in pages: the staff's sessions list and door screen, the teacher's scan page.

Staff (association staff and the admin) open a session's screen, which shows a QR
code that changes every 30 seconds; the page reloads itself (a meta refresh, no
script). A teacher's phone opens the code's URL, logs in if needed and comes back
to it, and one tap (a POST with CSRF) checks in.
"""

from __future__ import annotations

from datetime import datetime

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup

from pdtracker.auth.models import Role, User
from pdtracker.auth.session import role_required
from pdtracker.checkin import exports, tokens
from pdtracker.checkin.forms import AttendanceListForm
from pdtracker.checkin.marking import mark_list, mark_one
from pdtracker.checkin.messages import (
    flash_list_result,
    refusal_message,
    session_when,
    staff_refusal,
)
from pdtracker.checkin.qr import qr_svg
from pdtracker.checkin.records import attendance_counts, places
from pdtracker.checkin.services import (
    SCAN_GRACE,
    Door,
    Outcome,
    check_in,
    open_door,
    place_of,
    preview,
)
from pdtracker.checkin.tokens import TokenError
from pdtracker.events.display import instant
from pdtracker.events.errors import EventError
from pdtracker.events.models import Event
from pdtracker.events.sessions import SessionInfo, find_session, list_sessions
from pdtracker.extensions import db, login_manager
from pdtracker.timeutil import utcnow

bp = Blueprint("checkin", __name__, url_prefix="/checkin")

STAFF = (Role.STAFF, Role.ADMIN)
# Refusals about the code itself (the teacher should scan again) answer 400; the
# rest (the session or the teacher's place) 409.
CODE_REFUSALS = frozenset({"forged", "expired", "wrong_session"})
_SCAN = "checkin_scan"


@bp.context_processor
def _helpers() -> dict:
    return {"session_when": session_when, "event_instant": instant}


def signing_key() -> bytes:
    """The check-in signing key, derived from the app's SECRET_KEY."""
    return tokens.derive_key(current_app.config["SECRET_KEY"])


def staff_session_or_404(event_id: int, key: str) -> tuple[Event, SessionInfo, int]:
    """The event, its session ``key`` and how many sessions it has (staff: any event)."""
    event = db.get_or_404(Event, event_id)
    listed = list_sessions(event)
    found = next((s for s in listed if s.key == key), None)
    if found is None:
        abort(404)
    return event, found, len(listed)


# --- staff ---------------------------------------------------------------------------


@bp.route("/events/<int:event_id>")
@role_required(*STAFF)
def sessions(event_id: int) -> ResponseReturnValue:
    """The event's sessions, each with its check-in screen, counts and exports."""
    event = db.get_or_404(Event, event_id)
    listed = list_sessions(event)
    return render_template(
        "checkin/sessions.html",
        event=event,
        sessions=listed,
        counts=attendance_counts(event),
        now=utcnow(),
        is_open=tokens.is_open,
    )


@bp.route("/events/<int:event_id>/sessions/<key>/screen")
@role_required(*STAFF)
def screen(event_id: int, key: str) -> ResponseReturnValue:
    """The door screen: the session's current code, redrawn every 30 seconds."""
    event, found, total = staff_session_or_404(event_id, key)
    now = utcnow()
    code, refresh = _current_code(event, found, now)
    return render_template(
        "checkin/screen.html",
        event=event,
        session=found,
        code=code,
        refresh=refresh,
        opens_at=found.starts_at - tokens.OPENS_BEFORE,
        now=now,
        sessions_total=total,
        counts=attendance_counts(event, [found.key]).get(found.key, (0, 0)),
    )


def _current_code(
    event: Event, found: SessionInfo, now: datetime
) -> tuple[Markup | None, int]:
    """The QR code to show now (None while closed) and the seconds until a reload."""
    closed = found.is_cancelled or event.is_cancelled
    if not closed and tokens.is_open(found.starts_at, found.ends_at, now):
        token = tokens.issue(signing_key(), event.id, found.key, now)
        url = url_for("checkin.scan", token=token, _external=True)
        return qr_svg(url, title=_("Check-in code")), tokens.seconds_left(now)
    # Closed: look again each minute, or when the doors open if that is sooner.
    wait = int((found.starts_at - tokens.OPENS_BEFORE - now).total_seconds()) + 1
    return None, max(1, min(60, wait)) if wait > 0 else 60


@bp.route("/events/<int:event_id>/sessions/<key>/attendance")
@role_required(*STAFF)
def attendance(event_id: int, key: str) -> ResponseReturnValue:
    """One session's places: mark a teacher by hand, or many from a list."""
    event, found, total = staff_session_or_404(event_id, key)
    return render_template(
        "checkin/attendance.html",
        event=event,
        session=found,
        sessions_total=total,
        places=places(event, found.key),
        form=AttendanceListForm(),
        can_mark=found.has_started(utcnow())
        and not (found.is_cancelled or event.is_cancelled),
        status_label=exports.status_label,
        source_label=exports.source_label,
    )


@bp.route(
    "/events/<int:event_id>/sessions/<key>/attend/<int:teacher_id>", methods=["POST"]
)
@role_required(*STAFF)
def attend(event_id: int, key: str, teacher_id: int) -> ResponseReturnValue:
    """Mark one teacher as attended (credits the session once)."""
    event, found, _total = staff_session_or_404(event_id, key)
    teacher = db.get_or_404(User, teacher_id)
    back = url_for("checkin.attendance", event_id=event.id, key=found.key)
    try:
        marked = mark_one(current_user, event, found.key, teacher, utcnow())
    except EventError as exc:
        db.session.rollback()
        flash(staff_refusal(exc.code), "warning")
        return redirect(back)
    db.session.commit()
    if marked:
        flash(_("Attendance recorded and credited."), "success")
    else:
        flash(_("Attendance was already recorded."), "info")
    return redirect(back)


@bp.route("/events/<int:event_id>/sessions/<key>/attend-list", methods=["POST"])
@role_required(*STAFF)
def attend_list(event_id: int, key: str) -> ResponseReturnValue:
    """Mark every teacher a pasted list names (usernames or staff numbers)."""
    event, found, _total = staff_session_or_404(event_id, key)
    back = url_for("checkin.attendance", event_id=event.id, key=found.key)
    form = AttendanceListForm()
    if not form.validate_on_submit():
        flash(_("Paste at least one username or staff number."), "warning")
        return redirect(back)
    result = mark_list(current_user, event, found.key, form.entries.data, utcnow())
    db.session.commit()
    flash_list_result(result)
    return redirect(back)


# --- teachers ------------------------------------------------------------------------


def _remember_scan(token: str, now: datetime) -> None:
    """Note when this browser first opened a current code (kept through the login)."""
    seen = session.get(_SCAN)
    if isinstance(seen, list) and len(seen) == 2 and seen[0] == token:
        return
    try:
        tokens.verify(signing_key(), token, now)
    except TokenError:
        return
    session[_SCAN] = [token, now.timestamp()]


def _scanned_at(token: str, now: datetime) -> datetime | None:
    seen = session.get(_SCAN)
    if not (isinstance(seen, list) and len(seen) == 2 and seen[0] == token):
        return None
    moment = datetime.fromtimestamp(float(seen[1]), tz=now.tzinfo)
    # A remembered scan counts while it is recent (and never from the future).
    return moment if moment <= now and now - moment <= SCAN_GRACE else None


def _refused(exc: TokenError, door: Door | None = None) -> ResponseReturnValue:
    status = 400 if exc.code in CODE_REFUSALS else 409
    return (
        render_template(
            "checkin/scan.html",
            door=door,
            refusal=refusal_message(exc.code, exc.details),
            code=exc.code,
        ),
        status,
    )


@bp.route("/<token>", methods=["GET"])
def scan(token: str) -> ResponseReturnValue:
    """The page a scanned code opens: the session and the one check-in button."""
    now = utcnow()
    _remember_scan(token, now)
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    door = None
    try:
        door = open_door(signing_key(), token, now, scanned_at=_scanned_at(token, now))
        outcome = preview(current_user, door)
    except TokenError as exc:
        return _refused(exc, door)
    return render_template("checkin/scan.html", door=door, outcome=outcome, token=token)


@bp.route("/<token>", methods=["POST"])
@role_required(Role.TEACHER)
def confirm(token: str) -> ResponseReturnValue:
    """Check the teacher in (one tap); a second tap says it was already done."""
    now = utcnow()
    door = None
    try:
        door = open_door(signing_key(), token, now, scanned_at=_scanned_at(token, now))
        outcome = check_in(current_user, door, now)
    except TokenError as exc:
        db.session.rollback()
        return _refused(exc, door)
    db.session.commit()
    session.pop(_SCAN, None)
    if outcome == Outcome.CREDITED:
        flash(
            _("You are checked in. The session is credited on your record."), "success"
        )
    else:
        flash(_("You are already checked in for this session."), "info")
    return redirect(
        url_for("checkin.done", event_id=door.event.id, key=door.session.key)
    )


@bp.route("/events/<int:event_id>/sessions/<key>/done")
@role_required(Role.TEACHER)
def done(event_id: int, key: str) -> ResponseReturnValue:
    """After checking in: the session, with the way to the teacher's records."""
    event = db.get_or_404(Event, event_id)
    found = find_session(event, key)
    place = place_of(current_user, Door(event, found)) if found else None
    if found is None or place is None:
        abort(404)
    return render_template("checkin/done.html", event=event, session=found, place=place)


# --- exports -------------------------------------------------------------------------


@bp.route("/events/<int:event_id>/sessions/<key>/attendance.<any(csv, xlsx):ext>")
@role_required(*STAFF)
def export_session(event_id: int, key: str, ext: str) -> ResponseReturnValue:
    """One session's attendance as CSV or Excel."""
    event, found, _total = staff_session_or_404(event_id, key)
    rows = exports.session_rows(event, found.key, exports.local_times(_zone()))
    name = f"event-{event.id}-session-{found.number}-attendance"
    if ext == "csv":
        return exports.csv_response(rows, name)
    title = f"{event.title} · {session_when(found)}"
    return exports.xlsx_response(rows, title, _("Attendance"), name)


@bp.route("/events/<int:event_id>/attendance.<any(csv, xlsx):ext>")
@role_required(*STAFF)
def export_series(event_id: int, ext: str) -> ResponseReturnValue:
    """Every session's attendance, one column per session, as CSV or Excel."""
    event = db.get_or_404(Event, event_id)
    rows = exports.series_rows(
        event, list_sessions(event), exports.local_times(_zone())
    )
    name = f"event-{event.id}-attendance"
    if ext == "csv":
        return exports.csv_response(rows, name)
    return exports.xlsx_response(rows, event.title, _("Attendance"), name)


def _zone() -> str:
    return str(current_user.timezone)
