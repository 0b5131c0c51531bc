"""Event pages for association staff: edit and publish, cancel, delete imported
events, take attendance, export the registration list, import a calendar.

These pages are on the ``events`` blueprint (see :mod:`.views`); the factory
imports this module so that they are registered.
"""

from __future__ import annotations

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
from pdtracker.events.forms import EventForm, ImportForm, event_form_data
from pdtracker.events.importing import import_file, import_url
from pdtracker.events.messages import (
    REGISTRATION_LABELS,
    reason_message,
    refusal_message,
)
from pdtracker.events.models import Event, Registration
from pdtracker.events.registrations import list_registrations, seat_counts
from pdtracker.events.services import (
    cancel_event,
    create_event,
    delete_imported_event,
    deletion_blocker,
    publish_event,
    update_event,
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
        event = create_event(form.event_data, current_user, utcnow())
        db.session.commit()
        flash(_("The event was saved as a draft."), "success")
        return redirect(detail_url(event))
    return render_template("events/form.html", form=form, event=None)


@bp.route("/<int:event_id>/edit", methods=["GET", "POST"])
@role_required(*STAFF)
def edit(event_id: int) -> ResponseReturnValue:
    """Edit an event; teachers' calendars see a new version of a published one."""
    event = db.get_or_404(Event, event_id)
    form = EventForm(data=event_form_data(event))
    data = form.event_data if form.validate_on_submit() else None
    if data is None:
        return render_template("events/form.html", form=form, event=event)
    return run_service(
        lambda: update_event(event, data, current_user, utcnow()),
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
    """The registration list, with attendance buttons."""
    event = db.get_or_404(Event, event_id)
    return render_template(
        "events/registrations.html",
        event=event,
        registrations=list_registrations(event),
        counts=seat_counts([event.id])[event.id],
        can_mark=event.starts_at <= utcnow() and not event.is_cancelled,
    )


@bp.route(
    "/<int:event_id>/registrations/<int:registration_id>/attend", methods=["POST"]
)
@role_required(*STAFF)
def attend(event_id: int, registration_id: int) -> ResponseReturnValue:
    """Mark one teacher as attended; credits a verified activity once."""
    registration = db.get_or_404(Registration, registration_id)
    if registration.event_id != event_id:
        abort(404)
    return run_service(
        lambda: mark_attended(registration, current_user, utcnow()),
        url_for("events.registrations", event_id=event_id),
        lambda activity: (
            (_("Attendance was already recorded."), "info")
            if activity is None
            else (_("Attendance recorded and credited."), "success")
        ),
    )


@bp.route("/<int:event_id>/attend-all", methods=["POST"])
@role_required(*STAFF)
def attend_all(event_id: int) -> ResponseReturnValue:
    """Mark every seated teacher as attended."""
    event = db.get_or_404(Event, event_id)
    return run_service(
        lambda: mark_all_attended(event, current_user, utcnow()),
        url_for("events.registrations", event_id=event_id),
        lambda marked: (
            _("%(count)d attendances recorded.", count=marked),
            "success",
        ),
    )


# --- exports ----------------------------------------------------------------------


def _export_rows(event: Event) -> tuple[list[str], list[list]]:
    header = [
        _("No."), _("Name"), _("Username"), _("Staff number"), _("Department"),
        _("Status"), _("Registered at"), _("Attended at"),
    ]  # fmt: skip
    zone = current_user.timezone

    def local(value: datetime | None) -> datetime | None:
        return None if value is None else to_local(value, zone).replace(tzinfo=None)

    rows = []
    for number, reg in enumerate(list_registrations(event), start=1):
        teacher = reg.teacher
        rows.append([
            number,
            teacher.display_name,
            teacher.username,
            teacher.teacher_profile.staff_number if teacher.teacher_profile else "",
            teacher.department.name if teacher.department else "",
            str(REGISTRATION_LABELS.get(reg.status, reg.status)),
            local(reg.queued_at),
            local(reg.attended_at),
        ])  # fmt: skip
    return header, rows


def _download(body: bytes, mimetype: str, event: Event, ext: str) -> Response:
    response = Response(body, mimetype=mimetype)
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
