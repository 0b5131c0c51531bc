"""A head's writes on a placement: plan it (new, edit, with conflict warnings)
and move it through its lifecycle (approve, start, complete, cancel).

These pages are on the ``placements`` blueprint (see :mod:`.views`); the factory
imports this module so that they are registered. Endpoint names stay
``placements.<function>``, as before the split.
"""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from pdtracker.auth.models import Role
from pdtracker.auth.session import role_required
from pdtracker.extensions import db
from pdtracker.org.queries import department_teachers
from pdtracker.placements.conflicts import placement_conflicts
from pdtracker.placements.counting import confirmed_days, counting_rule, planned_days
from pdtracker.placements.forms import CancelForm, CompleteForm, PlacementForm
from pdtracker.placements.models import Placement
from pdtracker.placements.services import (
    PLACEMENT_FIELDS,
    PlacementError,
    approve_placement,
    cancel_placement,
    complete_placement,
    plan_placement,
    start_placement,
    update_placement,
)
from pdtracker.placements.views import (
    _enterprises,
    _load_for_head,
    bp,
    conflict_message,
)
from pdtracker.timeutil import utcnow

ERRORS = {
    "illegal_transition": _l("This step is not possible in the placement's status."),
    # Another request (a second head, a double click) made the same step first.
    "already_approved": _l("This placement has already been approved."),
    "already_in_progress": _l("This placement is already in progress."),
    "already_completed": _l("This placement has already been completed."),
    "already_cancelled": _l("This placement has already been cancelled."),
    "closed": _l("A completed or cancelled placement can no longer be changed."),
    "report_required": _l("Upload the final report to complete the placement."),
    "report_empty": _l("The report file is empty."),
    "report_too_large": _l("The report file is too large."),
    "report_bad_type": _l("The report must be a PDF, JPEG or PNG file."),
    "reason_required": _l("Give a reason for cancelling."),
    "assessment_required": _l(
        "The enterprise mentor's assessment is needed before completion."
    ),
}


def _placement_form(**kwargs) -> PlacementForm:
    if request.method == "GET" and request.args:
        # The form's script asks for the credited days of the dates typed so far.
        kwargs["formdata"] = request.args
    return PlacementForm(
        teachers=department_teachers(current_user.department_id),
        enterprises=_enterprises(),
        **kwargs,
    )


def _form_values(form: PlacementForm) -> dict:
    return {name: getattr(form, name).data for name in PLACEMENT_FIELDS}


def _warnings(form: PlacementForm, exclude_id: int | None = None) -> list[str]:
    """Conflict warnings for the form's plan, unless the head confirmed them."""
    if form.confirm_conflicts.data:
        return []
    conflicts = placement_conflicts(
        form.teacher_id.data,
        form.enterprise_id.data,
        form.starts_on.data,
        form.ends_on.data,
        exclude_id=exclude_id,
    )
    return [conflict_message(c) for c in conflicts]


@bp.route("/new", methods=["GET", "POST"])
@role_required(Role.HEAD)
def create():
    """Plan a placement for a teacher of the head's department."""
    form = _placement_form()
    warnings: list[str] = []
    if form.validate_on_submit():
        warnings = _warnings(form)
        if not warnings:
            placement = plan_placement(
                actor=current_user, now=utcnow(), **_form_values(form)
            )
            db.session.commit()
            flash(_("The placement has been proposed."), "success")
            return redirect(url_for("placements.detail", placement_id=placement.id))
    return _render_form(form, warnings, placement=None)


def _render_form(form: PlacementForm, warnings: list[str], placement):
    if not warnings:
        del form.confirm_conflicts  # only offered when there is something to confirm
    teacher = placement.teacher if placement else current_user
    rule = counting_rule(teacher.institution_id)
    return render_template(
        "placements/form.html",
        form=form,
        warnings=warnings,
        placement=placement,
        rule=rule,
        ruleset_title=rule.ruleset_title(str(get_locale())),
        credit=planned_days(
            form.starts_on.data,
            form.ends_on.data,
            form.working_days.data,
            rule,
            confirmed_days([placement.id]).get(placement.id) if placement else None,
        ),
    )


@bp.route("/<int:placement_id>/edit", methods=["GET", "POST"])
@role_required(Role.HEAD)
def edit(placement_id: int):
    """Change an open placement's plan."""
    placement = _load_for_head(placement_id)
    if not placement.is_open:
        flash(str(ERRORS["closed"]), "warning")
        return redirect(url_for("placements.detail", placement_id=placement.id))
    form = _placement_form(obj=placement)
    warnings: list[str] = []
    if form.validate_on_submit():
        warnings = _warnings(form, exclude_id=placement.id)
        if not warnings:
            try:
                update_placement(
                    placement, actor=current_user, now=utcnow(), **_form_values(form)
                )
            except PlacementError as exc:  # completed or cancelled meanwhile
                db.session.rollback()
                flash(str(ERRORS.get(exc.code, exc.code)), "warning")
                return redirect(url_for("placements.detail", placement_id=placement_id))
            db.session.commit()
            flash(_("The placement has been saved."), "success")
            return redirect(url_for("placements.detail", placement_id=placement.id))
    return _render_form(form, warnings, placement=placement)


def _step(placement: Placement, action, message: str, **kwargs):
    """Run one lifecycle service on a head's placement, then back to its page."""
    placement_id = placement.id
    try:
        action(placement, actor=current_user, now=utcnow(), **kwargs)
    except PlacementError as exc:
        db.session.rollback()
        flash(str(ERRORS.get(exc.code, exc.code)), "danger")
    else:
        db.session.commit()
        flash(message, "success")
    return redirect(url_for("placements.detail", placement_id=placement_id))


@bp.route("/<int:placement_id>/approve", methods=["POST"])
@role_required(Role.HEAD)
def approve(placement_id: int):
    """Approve a proposed placement."""
    placement = _load_for_head(placement_id)
    return _step(placement, approve_placement, _("The placement is approved."))


@bp.route("/<int:placement_id>/start", methods=["POST"])
@role_required(Role.HEAD)
def start(placement_id: int):
    """Mark an approved placement as in progress."""
    placement = _load_for_head(placement_id)
    return _step(placement, start_placement, _("The placement is in progress."))


@bp.route("/<int:placement_id>/complete", methods=["POST"])
@role_required(Role.HEAD)
def complete(placement_id: int):
    """Complete a placement with its final report; credits the teacher."""
    placement = _load_for_head(placement_id)
    form = CompleteForm()
    if not form.validate_on_submit():
        for error in form.report.errors:
            flash(str(error), "danger")
        return redirect(url_for("placements.detail", placement_id=placement_id))
    upload = form.report.data
    return _step(
        placement,
        complete_placement,
        _("The placement is completed and credited to the teacher."),
        report=upload.stream,
        report_name=upload.filename,
    )


@bp.route("/<int:placement_id>/cancel", methods=["POST"])
@role_required(Role.HEAD)
def cancel(placement_id: int):
    """Cancel an open placement with a reason."""
    placement = _load_for_head(placement_id)
    form = CancelForm()
    if not form.validate_on_submit():
        flash(str(ERRORS["reason_required"]), "danger")
        return redirect(url_for("placements.detail", placement_id=placement_id))
    return _step(
        placement,
        cancel_placement,
        _("The placement is cancelled."),
        reason=form.reason.data,
    )
