"""Event pages: teachers browse and register; staff edit, take attendance, export, import."""

from __future__ import annotations

from datetime import datetime

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import to_user_timezone
from flask_login import current_user
from sqlalchemy import case, select
from sqlalchemy.orm import joinedload

from pdtracker import tabular
from pdtracker.auth.models import Role, User
from pdtracker.auth.session import role_required
from pdtracker.events.forms import (
    EventForm,
    ImportForm,
    event_form_data,
    kind_choices,
    parse_month,
)
from pdtracker.events.importing import import_file, import_url
from pdtracker.events.models import (
    EVENT_KINDS,
    Event,
    EventStatus,
    Registration,
    RegistrationStatus,
)
from pdtracker.events.services import (
    EventError,
    RegistrationError,
    cancel_event,
    cancel_registration,
    create_event,
    delete_imported_event,
    deletion_blocker,
    mark_all_attended,
    mark_attended,
    month_bounds,
    publish_event,
    published_events_query,
    register,
    registrations_of,
    seat_counts,
    update_event,
    waitlist_position,
)
from pdtracker.extensions import db
from pdtracker.main.paging import paginate
from pdtracker.timeutil import to_local, utcnow

bp = Blueprint("events", __name__, url_prefix="/events")

STAFF = (Role.STAFF, Role.ADMIN)
VIEWERS = (Role.TEACHER, Role.HEAD, Role.STAFF, Role.ADMIN)
PER_PAGE = 20

ERROR_MESSAGES = {
    "not_open": _l("This event is not open for registration."),
    "closed": _l("Registration for this event has closed."),
    "already_registered": _l("You are already registered for this event."),
    "not_registered": _l("You are not registered for this event."),
    "started": _l(
        "The event has started; the registration can no longer be cancelled."
    ),
    "registration_cancelled": _l("This registration was cancelled."),
    "not_started": _l("Attendance can be marked once the event has started."),
    "cancelled": _l("This event is cancelled."),
    "not_draft": _l("Only a draft can be published."),
    "waitlisted": _l(
        "This teacher is on the waiting list and has no seat: attendance cannot be"
        " marked."
    ),
    "not_imported": _l(
        "Only imported events can be deleted; cancel an event created here instead."
    ),
    "has_attendance": _l(
        "Attendance was recorded for this event, so it cannot be deleted."
    ),
    "has_registrations": _l(
        "Teachers are registered for this event. Cancel it first so they see the"
        " cancellation; then it can be deleted."
    ),
}
REGISTRATION_LABELS = {
    "registered": _l("Registered"),
    "waitlisted": _l("Waiting list"),
    "cancelled": _l("Cancelled"),
    "attended": _l("Attended"),
}
# Why an event or a whole import was skipped (codes from the parser, the fetcher, us).
IMPORT_MESSAGES = {
    "missing_uid": _l("The event has no UID."),
    "bad_uid": _l("The event's UID is invalid."),
    "missing_dtstart": _l("The event has no start."),
    "bad_dtstart": _l("The event's start is invalid."),
    "bad_dtend": _l("The event's end is invalid."),
    "end_before_start": _l("The event ends before it starts."),
    "bad_recurrence_id": _l("The event's RECURRENCE-ID is invalid."),
    "bad_rrule": _l("The event's recurrence rule is invalid or unsupported."),
    "too_many_instances": _l("The event repeats too often."),
    "duplicate_uid": _l("Another event in the file has the same UID."),
    "broken_property": _l("A property of the event is broken."),
    "unsupported_component": _l("Only events (VEVENT) are imported."),
    "local_uid": _l("The UID belongs to an event created here."),
    "reserved_uid": _l("The UID is reserved for events created here."),
    "invalid": _l("The event's data is invalid."),
    "too_large": _l("The calendar is too large."),
    "undecodable": _l("The file is neither UTF-8 nor GB18030 text."),
    "not_a_calendar": _l("This is not an iCalendar file."),
    "too_many_components": _l("The calendar has too many entries."),
    "too_slow": _l(
        "The calendar took too long to process (for example, too many complex"
        " recurrence rules)."
    ),
    "bad_url": _l("The URL is not valid."),
    "bad_scheme": _l("Only https:// and webcal:// addresses can be imported."),
    "dns_failed": _l("The calendar's host name could not be resolved."),
    "blocked_address": _l(
        "The address is in a private or local network; an administrator must allow it."
    ),
    "connection_failed": _l("The calendar's server could not be reached."),
    "tls_error": _l("The calendar's server has no valid https certificate."),
    "timeout": _l("The calendar's server took too long to answer."),
    "too_many_redirects": _l("The calendar's address redirects too often."),
    "http_status": _l("The calendar's server answered with an error."),
}
FETCH_FALLBACK = _l("The calendar could not be fetched.")
EVENT_STATUS_LABELS = {
    "draft": _l("Draft"),
    "published": _l("Published"),
    "cancelled": _l("Cancelled"),
}


def reason_message(code: str) -> str:
    """The translated text for an import skip or failure code."""
    return str(IMPORT_MESSAGES.get(code, FETCH_FALLBACK))


@bp.context_processor
def _helpers() -> dict:
    return {
        "registration_label": lambda s: str(REGISTRATION_LABELS.get(s, s)),
        "event_status_label": lambda s: str(EVENT_STATUS_LABELS.get(s, s)),
        "kind_label": lambda kind: kind.label(_locale()),
        "same_local_day": _same_local_day,
        "is_staff": current_user.is_authenticated and _is_staff(),
    }


def _same_local_day(start: datetime, end: datetime) -> bool:
    """Whether two instants fall on one calendar day in the user's time zone."""
    return to_user_timezone(start).date() == to_user_timezone(end).date()


def _locale() -> str:
    from flask_babel import get_locale

    return str(get_locale() or "zh")


def _is_staff() -> bool:
    return current_user.has_role(*STAFF)


def _event_or_404(event_id: int) -> Event:
    """The event if the user may see it: drafts only for staff."""
    event = db.get_or_404(Event, event_id)
    if event.status == EventStatus.DRAFT and not _is_staff():
        abort(404)
    return event


def _refused(exc: EventError, event: Event):  # noqa: ANN202
    db.session.rollback()
    flash(str(ERROR_MESSAGES.get(exc.code, exc.code)), "warning")
    return redirect(url_for("events.detail", event_id=event.id))


# --- teachers and heads ------------------------------------------------------------


@bp.route("/")
@role_required(*VIEWERS)
def index():  # noqa: ANN201
    """Published events, upcoming first, filtered by kind and month."""
    kind = request.args.get("kind") if request.args.get("kind") in EVENT_KINDS else None
    month = parse_month(request.args.get("month"))
    now = utcnow()
    bounds = month_bounds(*month, current_user.timezone) if month else None
    query = published_events_query(now, kind=kind, month=bounds)
    page = paginate(query, PER_PAGE)
    ids = [e.id for e in page.items]
    mine = (
        registrations_of(current_user, ids)
        if current_user.has_role(Role.TEACHER)
        else {}
    )
    return render_template(
        "events/index.html",
        page=page,
        counts=seat_counts(ids),
        mine=mine,
        kinds=kind_choices(),
        kind=kind or "",
        month=_month_text(month) if month else "",
        months=_neighbour_months(month or _current_month(now)),
        now=now,
    )


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
def detail(event_id: int):  # noqa: ANN201
    """One event with the user's registration and the register/cancel buttons."""
    event = _event_or_404(event_id)
    registration = registrations_of(current_user, [event.id]).get(event.id)
    return render_template(
        "events/detail.html",
        event=event,
        registration=registration,
        position=waitlist_position(registration) if registration else None,
        counts=seat_counts([event.id])[event.id],
        can_register=current_user.has_role(Role.TEACHER),
        now=utcnow(),
    )


@bp.route("/<int:event_id>/register", methods=["POST"])
@role_required(Role.TEACHER)
def register_view(event_id: int):  # noqa: ANN201
    """Register the current teacher (or put them on the waiting list)."""
    event = _event_or_404(event_id)
    try:
        registration = register(current_user, event, utcnow())
    except RegistrationError as exc:
        return _refused(exc, event)
    db.session.commit()
    if registration.status == RegistrationStatus.REGISTERED:
        flash(_("You are registered."), "success")
    else:
        flash(_("The event is full: you are on the waiting list."), "info")
    return redirect(url_for("events.detail", event_id=event.id))


@bp.route("/<int:event_id>/unregister", methods=["POST"])
@role_required(Role.TEACHER)
def unregister(event_id: int):  # noqa: ANN201
    """Cancel the current teacher's own registration."""
    event = _event_or_404(event_id)
    try:
        cancel_registration(current_user, event, utcnow())
    except RegistrationError as exc:
        return _refused(exc, event)
    db.session.commit()
    flash(_("Your registration is cancelled."), "info")
    return redirect(url_for("events.detail", event_id=event.id))


# --- association staff -------------------------------------------------------------


@bp.route("/manage")
@role_required(*STAFF)
def manage():  # noqa: ANN201
    """Every event, drafts included, latest first."""
    query = select(Event).order_by(Event.starts_at.desc(), Event.id.desc())
    page = paginate(query, PER_PAGE)
    ids = [e.id for e in page.items]
    return render_template("events/manage.html", page=page, counts=seat_counts(ids))


@bp.route("/new", methods=["GET", "POST"])
@role_required(*STAFF)
def create():  # noqa: ANN201
    """Create a draft event."""
    form = EventForm()
    if form.validate_on_submit():
        event = create_event(form.event_data, current_user, utcnow())
        db.session.commit()
        flash(_("The event was saved as a draft."), "success")
        return redirect(url_for("events.detail", event_id=event.id))
    return render_template("events/form.html", form=form, event=None)


@bp.route("/<int:event_id>/edit", methods=["GET", "POST"])
@role_required(*STAFF)
def edit(event_id: int):  # noqa: ANN201
    """Edit an event; teachers' calendars see a new version of a published one."""
    event = db.get_or_404(Event, event_id)
    form = EventForm(data=event_form_data(event))
    if form.validate_on_submit():
        try:
            changed = update_event(event, form.event_data, current_user, utcnow())
        except EventError as exc:
            return _refused(exc, event)
        db.session.commit()
        flash(
            _("The event was saved.") if changed else _("Nothing changed."), "success"
        )
        return redirect(url_for("events.detail", event_id=event.id))
    return render_template("events/form.html", form=form, event=event)


@bp.route("/<int:event_id>/publish", methods=["POST"])
@role_required(*STAFF)
def publish(event_id: int):  # noqa: ANN201
    """Publish a draft."""
    event = db.get_or_404(Event, event_id)
    try:
        publish_event(event, current_user, utcnow())
    except EventError as exc:
        return _refused(exc, event)
    db.session.commit()
    flash(_("The event is published."), "success")
    return redirect(url_for("events.detail", event_id=event.id))


@bp.route("/<int:event_id>/cancel", methods=["POST"])
@role_required(*STAFF)
def cancel(event_id: int):  # noqa: ANN201
    """Cancel an event (it stays in feeds as cancelled)."""
    event = db.get_or_404(Event, event_id)
    try:
        cancel_event(event, current_user, utcnow())
    except EventError as exc:
        return _refused(exc, event)
    db.session.commit()
    flash(_("The event is cancelled."), "info")
    return redirect(url_for("events.detail", event_id=event.id))


@bp.route("/<int:event_id>/delete", methods=["GET", "POST"])
@role_required(*STAFF)
def delete(event_id: int):  # noqa: ANN201
    """Delete an imported event: GET asks for confirmation, POST (with CSRF) deletes."""
    event = db.get_or_404(Event, event_id)
    if request.method == "GET":
        blocker = deletion_blocker(event)
        return render_template(
            "events/delete.html",
            event=event,
            blocker=str(ERROR_MESSAGES[blocker]) if blocker else None,
            registrations=len(event.registrations),
        )
    try:
        delete_imported_event(event, current_user, utcnow())
    except EventError as exc:
        return _refused(exc, event)
    db.session.commit()
    flash(_("The imported event was deleted."), "info")
    return redirect(url_for("events.manage"))


def _registrations(event: Event) -> list[Registration]:
    order = case(
        (Registration.status.in_(("registered", "attended")), 0),
        (Registration.status == "waitlisted", 1),
        else_=2,
    )
    return list(
        db.session.scalars(
            select(Registration)
            .where(Registration.event_id == event.id)
            .options(
                joinedload(Registration.teacher).joinedload(User.teacher_profile),
                joinedload(Registration.teacher).joinedload(User.department),
            )
            .order_by(order, Registration.queued_at, Registration.id)
        ).unique()
    )


@bp.route("/<int:event_id>/registrations")
@role_required(*STAFF)
def registrations(event_id: int):  # noqa: ANN201
    """The registration list, with attendance buttons."""
    event = db.get_or_404(Event, event_id)
    return render_template(
        "events/registrations.html",
        event=event,
        registrations=_registrations(event),
        counts=seat_counts([event.id])[event.id],
        can_mark=event.starts_at <= utcnow() and not event.is_cancelled,
    )


@bp.route(
    "/<int:event_id>/registrations/<int:registration_id>/attend", methods=["POST"]
)
@role_required(*STAFF)
def attend(event_id: int, registration_id: int):  # noqa: ANN201
    """Mark one teacher as attended; credits a verified activity once."""
    registration = db.get_or_404(Registration, registration_id)
    if registration.event_id != event_id:
        abort(404)
    try:
        activity = mark_attended(registration, current_user, utcnow())
    except RegistrationError as exc:
        db.session.rollback()
        flash(str(ERROR_MESSAGES[exc.code]), "warning")
        return redirect(url_for("events.registrations", event_id=event_id))
    db.session.commit()
    if activity is None:
        flash(_("Attendance was already recorded."), "info")
    else:
        flash(_("Attendance recorded and credited."), "success")
    return redirect(url_for("events.registrations", event_id=event_id))


@bp.route("/<int:event_id>/attend-all", methods=["POST"])
@role_required(*STAFF)
def attend_all(event_id: int):  # noqa: ANN201
    """Mark every seated teacher as attended."""
    event = db.get_or_404(Event, event_id)
    try:
        marked = mark_all_attended(event, current_user, utcnow())
    except RegistrationError as exc:
        db.session.rollback()
        flash(str(ERROR_MESSAGES[exc.code]), "warning")
        return redirect(url_for("events.registrations", event_id=event_id))
    db.session.commit()
    flash(_("%(count)d attendances recorded.", count=marked), "success")
    return redirect(url_for("events.registrations", event_id=event_id))


def _export_rows(event: Event) -> tuple[list[str], list[list]]:
    header = [
        _("No."), _("Name"), _("Username"), _("Staff number"), _("Department"),
        _("Status"), _("Registered at"), _("Attended at"),
    ]  # fmt: skip
    zone = current_user.timezone

    def local(value: datetime | None) -> datetime | None:
        return None if value is None else to_local(value, zone).replace(tzinfo=None)

    rows = []
    for number, reg in enumerate(_registrations(event), start=1):
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
def export_csv(event_id: int):  # noqa: ANN201
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
def export_xlsx(event_id: int):  # noqa: ANN201
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


@bp.route("/import", methods=["GET", "POST"])
@role_required(*STAFF)
def import_calendar():  # noqa: ANN201
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
