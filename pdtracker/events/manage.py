"""Event pages for association staff: edit and publish, cancel, delete imported
events, take attendance, export the registration list, import a calendar.

These pages are on the ``events`` blueprint (see :mod:`.views`); the factory
imports this module so that they are registered.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask import (
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from pdtracker import tabular
from pdtracker.auth.models import Role
from pdtracker.auth.session import role_required
from pdtracker.events.attendance import mark_all_attended, mark_attended
from pdtracker.events.errors import EventError
from pdtracker.events.forms import (
    EventForm,
    ImportForm,
    event_form_data,
    kept_rule,
)
from pdtracker.events.importing import import_file, import_url
from pdtracker.events.messages import (
    REGISTRATION_LABELS,
    reason_message,
    refusal_message,
)
from pdtracker.events.models import Event, Registration
from pdtracker.events.preview import (
    preview_sessions,
    preview_words,
    sessions_of_kept_rule,
)
from pdtracker.events.roster import (
    list_registrations,
    list_session_registrations,
    seat_counts,
    session_counts,
)
from pdtracker.events.services import (
    EventData,
    cancel_event,
    create_event,
    delete_imported_event,
    deletion_blocker,
    publish_event,
)
from pdtracker.events.sessions import SessionInfo, list_sessions, next_session
from pdtracker.events.sessions_remap import (
    RemapPlan,
    plan_remap,
    remap_words,
    update_series,
)
from pdtracker.events.views import (
    PER_PAGE,
    STAFF,
    bp,
    detail_url,
    refused,
    run_service,
)
from pdtracker.extensions import db
from pdtracker.main.paging import paginate
from pdtracker.org.display import person_cells, person_header
from pdtracker.timeutil import to_local, utcnow

# --- events -----------------------------------------------------------------------


@bp.route("/manage")
@role_required(*STAFF)
def manage() -> ResponseReturnValue:
    """Every event, drafts included, latest first."""
    query = select(Event).order_by(Event.starts_at.desc(), Event.id.desc())
    page = paginate(query, PER_PAGE)
    ids = [e.id for e in page.items]
    return render_template("events/manage.html", page=page, counts=seat_counts(ids))


@bp.route("/new", methods=["GET", "POST"])
@role_required(*STAFF)
def create() -> ResponseReturnValue:
    """Create a draft event."""
    form = EventForm()
    if form.validate_on_submit() and form.event_data is not None:
        if "preview" in request.form:
            return _form_page(form, None, form.event_data)
        event = create_event(form.event_data, current_user, utcnow())
        db.session.commit()
        flash(_("The event was saved as a draft."), "success")
        return redirect(detail_url(event))
    return _form_page(form, None)


def _form_page(
    form: EventForm,
    event: Event | None,
    preview: EventData | None = None,
    remap: RemapPlan | None = None,
    confirm: bool = False,
) -> ResponseReturnValue:
    """The event form; with ``preview``, the sessions it would make, not saved.

    ``remap`` is what saving does to the places in the series' sessions; with
    ``confirm`` the page asks before saving.
    """
    sessions = preview_sessions(preview) if preview is not None else None
    kept = (
        sessions_of_kept_rule(event) if event is not None and form.kept_rule else None
    )
    return render_template(
        "events/form.html",
        form=form,
        event=event,
        preview=sessions,
        preview_text=preview_words(preview) if preview is not None else "",
        kept=kept,
        remap=remap_words(remap) if remap is not None else [],
        confirm=confirm,
    )


@bp.route("/<int:event_id>/edit", methods=["GET", "POST"])
@role_required(*STAFF)
def edit(event_id: int) -> ResponseReturnValue:
    """Edit an event; teachers' calendars see a new version of a published one."""
    event = db.get_or_404(Event, event_id)
    form = EventForm(data=event_form_data(event), kept_rule=kept_rule(event))
    data = form.event_data if form.validate_on_submit() else None
    if data is None:
        return _form_page(form, event)
    plan = plan_remap(event, data, utcnow())
    if "preview" in request.form:
        return _form_page(form, event, data, plan)
    if plan.needs_confirmation and request.form.get("confirm_sessions") != "1":
        return _form_page(form, event, None, plan, confirm=True)
    return run_service(
        lambda: update_series(event, data, current_user, utcnow()),
        detail_url(event),
        lambda changed: (
            _("The event was saved.") if changed else _("Nothing changed."),
            "success",
        ),
    )


@bp.route("/<int:event_id>/publish", methods=["POST"])
@role_required(*STAFF)
def publish(event_id: int) -> ResponseReturnValue:
    """Publish a draft."""
    event = db.get_or_404(Event, event_id)
    return run_service(
        lambda: publish_event(event, current_user, utcnow()),
        detail_url(event),
        _("The event is published."),
    )


@bp.route("/<int:event_id>/cancel", methods=["POST"])
@role_required(*STAFF)
def cancel(event_id: int) -> ResponseReturnValue:
    """Cancel an event (it stays in feeds as cancelled)."""
    event = db.get_or_404(Event, event_id)
    return run_service(
        lambda: cancel_event(event, current_user, utcnow()),
        detail_url(event),
        _("The event is cancelled."),
        "info",
    )


@bp.route("/<int:event_id>/delete", methods=["GET", "POST"])
@role_required(*STAFF)
def delete(event_id: int) -> ResponseReturnValue:
    """Delete an imported event: GET asks for confirmation, POST (with CSRF) deletes."""
    event = db.get_or_404(Event, event_id)
    if request.method == "GET":
        blocker = deletion_blocker(event)
        return render_template(
            "events/delete.html",
            event=event,
            blocker=refusal_message(blocker) if blocker else None,
            registrations=len(event.registrations),
        )
    try:
        delete_imported_event(event, current_user, utcnow())
    except EventError as exc:
        return refused(exc, detail_url(event))
    db.session.commit()
    flash(_("The imported event was deleted."), "info")
    return redirect(url_for("events.manage"))


# --- attendance -------------------------------------------------------------------


@bp.route("/<int:event_id>/registrations")
@role_required(*STAFF)
def registrations(event_id: int) -> ResponseReturnValue:
    """The registration list (a series': one session's), with attendance buttons."""
    event = db.get_or_404(Event, event_id)
    now = utcnow()
    session = _chosen_session(event, now)
    if session is None:
        rows = [
            Row(r, r.status, r.queued_at, r.attended_at)
            for r in list_registrations(event)
        ]
        counts = seat_counts([event.id])[event.id]
        starts_at = event.starts_at
    else:
        rows = [
            Row(r, p.status, p.queued_at, p.attended_at)
            for p, r in list_session_registrations(event, session.key)
        ]
        stored = [session.session_id] if session.session_id else []
        counts = session_counts(stored).get(session.session_id or 0, (0, 0))
        starts_at = session.starts_at
    return render_template(
        "events/registrations.html",
        event=event,
        rows=rows,
        counts=counts,
        session=session,
        sessions=list_sessions(event) if event.is_series else [],
        can_mark=starts_at <= now
        and not event.is_cancelled
        and not (session and session.is_cancelled),
    )


@dataclass(frozen=True)
class Row:
    """One line of the registration list: the teacher's place in the event or session."""

    registration: Registration
    status: str
    queued_at: datetime
    attended_at: datetime | None


def _chosen_session(event: Event, now: datetime) -> SessionInfo | None:
    """The series' session named by ?session= (else the next one); None if single."""
    if not event.is_series:
        return None
    sessions = list_sessions(event)
    key = request.args.get("session")
    found = next((s for s in sessions if s.key == key), None) if key else None
    if key and found is None:
        abort(404)
    return found or next_session(sessions, now) or (sessions[-1] if sessions else None)


def _back(event_id: int) -> str:
    return url_for(
        "events.registrations", event_id=event_id, session=request.args.get("session")
    )


@bp.route(
    "/<int:event_id>/registrations/<int:registration_id>/attend", methods=["POST"]
)
@role_required(*STAFF)
def attend(event_id: int, registration_id: int) -> ResponseReturnValue:
    """Mark one teacher as attended (a series: ?session=); credits once per session."""
    registration = db.get_or_404(Registration, registration_id)
    if registration.event_id != event_id:
        abort(404)
    key = request.args.get("session") or None
    return run_service(
        lambda: mark_attended(registration, current_user, utcnow(), session_key=key),
        _back(event_id),
        lambda activity: (
            (_("Attendance was already recorded."), "info")
            if activity is None
            else (_("Attendance recorded and credited."), "success")
        ),
    )


@bp.route("/<int:event_id>/attend-all", methods=["POST"])
@role_required(*STAFF)
def attend_all(event_id: int) -> ResponseReturnValue:
    """Mark every seated teacher as attended (a series: the ?session= one)."""
    event = db.get_or_404(Event, event_id)
    key = request.args.get("session") or None
    return run_service(
        lambda: mark_all_attended(event, current_user, utcnow(), session_key=key),
        _back(event_id),
        lambda marked: (
            _("%(count)d attendances recorded.", count=marked),
            "success",
        ),
    )


# --- exports ----------------------------------------------------------------------


def _export_rows(event: Event) -> tuple[list[str], list[list]]:
    header = [
        _("No."), *person_header(), _("Status"), _("Registered at"), _("Attended at"),
    ]  # fmt: skip
    zone = current_user.timezone

    def local(value: datetime | None) -> datetime | None:
        return None if value is None else to_local(value, zone).replace(tzinfo=None)

    rows = []
    for number, reg in enumerate(list_registrations(event), start=1):
        rows.append([
            number,
            *person_cells(reg.teacher),
            str(REGISTRATION_LABELS.get(reg.status, reg.status)),
            local(reg.queued_at),
            local(reg.attended_at),
        ])  # fmt: skip
    return header, rows


def _download(body: bytes, mimetype: str, event: Event, ext: str) -> Response:
    # content_type, not mimetype: Flask appends "; charset=utf-8" to a text/*
    # mimetype, and the CSV's already names its charset.
    response = Response(body, content_type=mimetype)
    response.headers["Content-Disposition"] = (
        f'attachment; filename="event-{event.id}-registrations.{ext}"'
    )
    return response


@bp.route("/<int:event_id>/registrations.csv")
@role_required(*STAFF)
def export_csv(event_id: int) -> ResponseReturnValue:
    """The registration list as CSV (UTF-8 with a BOM so Excel shows Chinese)."""
    event = db.get_or_404(Event, event_id)
    header, rows = _export_rows(event)
    body = tabular.csv_bytes(
        [header]
        + [
            [
                v.strftime("%Y-%m-%d %H:%M") if isinstance(v, datetime) else v
                for v in row
            ]
            for row in rows
        ]
    )
    return _download(body, tabular.CSV_MIMETYPE, event, "csv")


@bp.route("/<int:event_id>/registrations.xlsx")
@role_required(*STAFF)
def export_xlsx(event_id: int) -> ResponseReturnValue:
    """The registration list as an Excel workbook."""
    event = db.get_or_404(Event, event_id)
    header, rows = _export_rows(event)
    book, sheet = tabular.new_sheet(_("Registrations"))
    tabular.append_row(sheet, [event.title])
    tabular.append_row(sheet, header)
    for row in rows:
        tabular.append_row(sheet, row)
    for cell in sheet["G"] + sheet["H"]:
        cell.number_format = "yyyy-mm-dd hh:mm"
    return _download(tabular.xlsx_bytes(book), tabular.XLSX_MIMETYPE, event, "xlsx")


# --- import -----------------------------------------------------------------------


@bp.route("/import", methods=["GET", "POST"])
@role_required(*STAFF)
def import_calendar() -> ResponseReturnValue:
    """Import the association's calendar from an .ics upload or a URL."""
    is_admin = current_user.has_role(Role.ADMIN)
    form = ImportForm(allow_private_choice=is_admin)
    report = None
    if form.validate_on_submit():
        now = utcnow()
        if form.file.data and form.file.data.filename:
            data = form.file.data.read()
            report = import_file(data, form.file.data.filename, current_user, now)
        else:
            allow = bool(current_app.config.get("IMPORT_ALLOW_PRIVATE")) or (
                is_admin and bool(form.allow_private.data)
            )
            report = import_url(
                form.url.data.strip(), current_user, now, allow_private=allow
            )
        db.session.commit()
    return render_template(
        "events/import.html", form=form, report=report, reason_message=reason_message
    )


from pdtracker.events import session_views  # noqa: E402, F401  (staff session pages)
