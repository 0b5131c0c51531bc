"""Enterprise mentors' pages, on the placements blueprint.

A mentor sees their enterprise's placements only (everything else is 404),
records attendance and fills the 企业实践考核表; staff invite mentors.
"""

from __future__ import annotations

from datetime import timedelta

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from pdtracker.auth.models import Role
from pdtracker.auth.session import role_required
from pdtracker.extensions import db
from pdtracker.placements.market_forms import (
    AssessmentForm,
    AttendanceForm,
    InviteMentorForm,
)
from pdtracker.placements.mentors import (
    MentorError,
    assessment_of,
    attendance_days,
    enterprise_mentors,
    invite_mentor,
    mentors_placement,
    record_attendance,
    submit_assessment,
)
from pdtracker.placements.models import Enterprise, Placement
from pdtracker.placements.views import _load, bp
from pdtracker.timeutil import to_local, utcnow

MENTOR_ERRORS = {
    "not_allowed": _l("You cannot do this."),
    "not_running": _l("The placement is not under way."),
    "outside_span": _l("Attendance days must fall within the placement's dates."),
    "bad_score": _l("Scores are 优, 良, 中 or 差, or points from 0 to 100."),
    "bad_days": _l("The confirmed days must fit within the placement's dates."),
    "username_taken": _l("This username or e-mail is already in use."),
}


def _error(exc: MentorError) -> None:
    db.session.rollback()
    flash(str(MENTOR_ERRORS.get(exc.code, exc.code)), "danger")


def _mentored(placement_id: int) -> Placement:
    placement = _load(placement_id)
    if not mentors_placement(current_user, placement):
        abort(404)
    return placement


@bp.route("/<int:placement_id>/attendance", methods=["POST"])
@role_required(Role.MENTOR)
def attendance(placement_id: int):
    """The mentor records the weekdays on site from one date to another."""
    placement = _mentored(placement_id)
    form = AttendanceForm()
    if not form.validate_on_submit():
        flash(_("Give the first and last day on site."), "danger")
        return redirect(url_for("placements.detail", placement_id=placement_id))
    first, last = form.first_day.data, form.last_day.data
    days = [
        first + timedelta(days=i)
        for i in range((last - first).days + 1)
        if (first + timedelta(days=i)).weekday() < 5
    ]
    try:
        added = record_attendance(placement, days, actor=current_user, now=utcnow())
    except MentorError as exc:
        _error(exc)
    else:
        db.session.commit()
        flash(_("%(n)d days on site recorded.", n=added), "success")
    return redirect(url_for("placements.detail", placement_id=placement_id))


@bp.route("/<int:placement_id>/assessment", methods=["GET", "POST"])
@role_required(Role.MENTOR)
def assessment(placement_id: int):
    """The mentor fills the 企业实践考核表."""
    placement = _mentored(placement_id)
    existing = assessment_of(placement.id)
    form = AssessmentForm()
    if request.method == "GET":
        if existing is not None:
            for name in (
                "attendance_score",
                "task_score",
                "skill_score",
                "attitude_score",
            ):
                getattr(form, name).data = existing.shown(getattr(existing, name))
            form.confirmed_days.data = existing.confirmed_days
            form.comments.data = existing.comments
        else:
            form.confirmed_days.data = len(attendance_days(placement.id)) or None
    if form.validate_on_submit():
        scored = form.scored()
        if scored is None:
            flash(str(MENTOR_ERRORS["bad_score"]), "danger")
        else:
            try:
                submit_assessment(
                    placement, actor=current_user, now=utcnow(), scale=scored[0],
                    scores=scored[1], confirmed_days=form.confirmed_days.data,
                    comments=form.comments.data,
                )  # fmt: skip
            except MentorError as exc:
                _error(exc)
            else:
                db.session.commit()
                flash(_("The assessment has been saved."), "success")
                return redirect(url_for("placements.detail", placement_id=placement_id))
    return render_template(
        "placements/assessment_form.html", form=form, placement=placement
    )


@bp.route("/<int:placement_id>/assessment/print")
@role_required(Role.MENTOR, Role.HEAD, Role.TEACHER, Role.COLLEGE_ADMIN, Role.ADMIN)
def assessment_print(placement_id: int):
    """The 企业实践考核表, printable (print stylesheet); for the teacher's portfolio."""
    placement = _load(placement_id)
    found = assessment_of(placement.id)
    if found is None:
        abort(404)
    return render_template(
        "placements/assessment_print.html",
        placement=placement,
        assessment=found,
        attendance=attendance_days(placement.id),
        filled_on=to_local(found.submitted_at).date(),  # the day in Asia/Shanghai
    )


@bp.route("/enterprises/<int:enterprise_id>/mentors", methods=["GET", "POST"])
@role_required(Role.STAFF, Role.ADMIN)
def enterprise_mentors_page(enterprise_id: int):
    """An enterprise's mentors; invite one with an activation link."""
    enterprise = db.get_or_404(Enterprise, enterprise_id)
    form = InviteMentorForm()
    link = None
    if form.validate_on_submit():
        from pdtracker.onboarding.views import activation_link

        try:
            _user, token = invite_mentor(
                enterprise, actor=current_user, username=form.username.data,
                display_name=form.display_name.data, email=form.email.data,
                now=utcnow(), link=activation_link,
            )  # fmt: skip
        except MentorError as exc:
            _error(exc)
        else:
            db.session.commit()
            link = activation_link(token)
            flash(_("The mentor has been invited."), "success")
    return render_template(
        "placements/enterprise_mentors.html",
        enterprise=enterprise,
        mentors=enterprise_mentors(enterprise.id),
        form=form,
        link=link,
    )
