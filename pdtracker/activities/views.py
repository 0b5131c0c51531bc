"""Activity log (teacher), evidence files, and the verification queue (department head)."""

from __future__ import annotations

import logging

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select
from werkzeug.exceptions import RequestEntityTooLarge

from pdtracker import fragments
from pdtracker.activities import duplicates
from pdtracker.activities import services as svc
from pdtracker.activities.display import activity_credit, file_size
from pdtracker.activities.evidence import remove_stored, save_upload, stored_path
from pdtracker.activities.forms import (
    GRADE_LABELS,
    ROLE_LABELS,
    ActivityForm,
    EvidenceForm,
    FilterForm,
    RejectForm,
)
from pdtracker.activities.models import Activity, ActivityStatus
from pdtracker.auth.models import Role
from pdtracker.auth.session import role_required
from pdtracker.calendar.models import department_feed_key, teacher_feed_key
from pdtracker.downloads import download_name
from pdtracker.extensions import db
from pdtracker.main.paging import paginate
from pdtracker.org.display import department_name
from pdtracker.placements.models import Enterprise
from pdtracker.timeutil import to_local, utcnow

bp = Blueprint("activities", __name__, url_prefix="/activities")
bp.add_app_template_global(activity_credit)
bp.add_app_template_global(department_name)  # the app's one department-name global
bp.add_app_template_filter(file_size)

logger = logging.getLogger(__name__)

PER_PAGE = 20
QUEUE_PER_PAGE = 50


def _locale() -> str:
    return str(get_locale())


def _actor():
    """The signed-in user as a model instance (not the proxy)."""
    return current_user._get_current_object()


def _activity_form(**kwargs) -> ActivityForm:
    enterprises = db.session.scalars(select(Enterprise).order_by(Enterprise.name))
    return ActivityForm(
        kinds=svc.list_kinds(),
        enterprises=list(enterprises),
        locale=_locale(),
        today=to_local(utcnow(), current_user.timezone).date(),
        **kwargs,
    )


def _owned_or_abort(activity_id: int) -> Activity:
    """The current user's own activity: 404 if unseen, 403 if seen but not theirs."""
    activity = svc.visible_activity_or_404(current_user, activity_id)
    if activity.teacher_id != current_user.id:
        abort(403)
    return activity


def _locked_page(activity: Activity):
    """Explain why a verified activity cannot be changed (403)."""
    return render_template("activities/locked.html", activity=activity), 403


def _render_detail(
    activity: Activity,
    *,
    upload_form: EvidenceForm | None = None,
    reject_form: RejectForm | None = None,
    status: int = 200,
):
    """The detail page, for the owner, the department head or an admin."""
    is_owner = activity.teacher_id == current_user.id
    if upload_form is None and is_owner and not activity.is_locked:
        upload_form = EvidenceForm()
    if is_owner:
        back = url_for("activities.index")
    elif current_user.has_role(Role.HEAD, Role.COLLEGE_ADMIN, Role.ADMIN):
        back = url_for("activities.review_queue")
    else:
        back = url_for("main.index")
    page = render_template(
        "activities/detail.html",
        activity=activity,
        is_owner=is_owner,
        can_review=svc.can_review(current_user, activity),
        upload_form=upload_form if is_owner else None,
        reject_form=reject_form or RejectForm(),
        role_labels=ROLE_LABELS,
        grade_labels=GRADE_LABELS,
        back=back,
        locale=_locale(),
    )
    return page, status


def _store_evidence(field, activity: Activity, actor) -> str | None:
    """Write the field's upload to disk and attach it; return the stored name."""
    upload = field.data
    if not upload:
        return None
    stored = save_upload(
        upload.stream,
        upload.filename,
        current_app.config["UPLOAD_FOLDER"],
        current_app.config["EVIDENCE_MAX_BYTES"],
    )
    try:
        svc.add_evidence(activity, stored, actor=actor, now=utcnow())
    except BaseException:
        remove_stored(current_app.config["UPLOAD_FOLDER"], [stored.stored_name])
        raise
    return stored.stored_name


def _commit_or_remove(stored_name: str | None) -> None:
    """Commit; if that fails, the file just written must not outlive its row."""
    try:
        db.session.commit()
    except BaseException:
        db.session.rollback()
        if stored_name:
            remove_stored(current_app.config["UPLOAD_FOLDER"], [stored_name])
        raise


@bp.errorhandler(svc.ActivityLocked)
def verified_meanwhile(error: svc.ActivityLocked):
    """A change that found the activity verified once it held the row lock (403).

    The page checked the lock too, but a head may verify between that check and the
    change; the service re-checks under the row lock and raises.
    """
    db.session.rollback()
    activity_id = (request.view_args or {})["activity_id"]
    activity = svc.visible_activity_or_404(current_user, activity_id)
    return _locked_page(activity)


@bp.errorhandler(RequestEntityTooLarge)
def too_large(error: RequestEntityTooLarge):
    """A request over MAX_CONTENT_LENGTH: say what the limit is and how to go back."""
    mib = current_app.config["EVIDENCE_MAX_BYTES"] // (1024 * 1024)
    back = request.referrer or ""
    if not back.startswith(request.host_url):
        back = url_for("activities.index")
    return render_template("activities/too_large.html", mib=mib, back=back), 413


def _double_credit(form: ActivityForm, fields, actor, activity: Activity | None):
    """The form again, warning of already credited lookalikes not yet confirmed."""
    found = duplicates.lookalikes_of_fields(
        actor.id, fields, exclude_id=activity.id if activity else None
    )
    if not duplicates.unconfirmed(found, form.save_anyway.data):
        return None
    form.save_anyway.data = duplicates.confirmation(found)
    return render_template("activities/form.html", form=form, activity=activity,
                           duplicates=found, was_rejected=activity is not None
                           and activity.status == ActivityStatus.REJECTED)  # fmt: skip


@bp.route("/")
@role_required(Role.TEACHER)
def index():
    """The teacher's activity log, filtered and paginated.

    Kept while the teacher's change version holds (pdtracker.fragments): their
    activities and evidence are all it shows.
    """
    user = _actor()
    key = ("activities.index", user.id, _args_key(), _locale())
    body = fragments.cached(key, [teacher_feed_key(user.id)], lambda: _index_body(user))
    return render_template("activities/index.html", body=body)


def _index_body(user) -> str:
    years = svc.activity_year_range(user)
    year_list = list(range(years[1], years[0] - 1, -1)) if years else []
    filters = FilterForm(
        request.args, kinds=svc.list_kinds(), years=year_list, locale=_locale()
    )
    page = paginate(svc.list_activities_for(user, **filters.filters()), PER_PAGE)
    return fragments.render(
        "activities/_index_body.html", page=page, filters=filters, locale=_locale()
    )


@bp.route("/new", methods=["GET", "POST"])
@role_required(Role.TEACHER)
def create():
    """Log a new activity, optionally with an evidence file."""
    form = _activity_form()
    if form.validate_on_submit():
        actor = _actor()
        if warning := _double_credit(form, form.to_fields(), actor, None):
            return warning
        activity = svc.record_activity(
            actor, form.to_fields(), actor=actor, now=utcnow()
        )
        stored = _store_evidence(form.evidence, activity, actor)
        _commit_or_remove(stored)
        flash(_("The activity has been saved."), "success")
        return redirect(url_for("activities.detail", activity_id=activity.id))
    return render_template("activities/form.html", form=form, activity=None)


@bp.route("/<int:activity_id>")
@login_required
def detail(activity_id: int):
    """One activity: its owner edits it, the department head reviews it."""
    return _render_detail(svc.visible_activity_or_404(current_user, activity_id))


@bp.route("/<int:activity_id>/edit", methods=["GET", "POST"])
@role_required(Role.TEACHER)
def edit(activity_id: int):
    """Change an activity; a verified one is locked."""
    activity = _owned_or_abort(activity_id)
    if activity.is_locked:
        if request.method == "POST":
            return _locked_page(activity)
        flash(
            _("This activity has been verified and can no longer be changed."),
            "warning",
        )
        return redirect(url_for("activities.detail", activity_id=activity.id))
    was_rejected = activity.status == ActivityStatus.REJECTED
    form = _activity_form(obj=activity)
    if was_rejected:
        del form.status  # saving sends it back to review as completed
    if form.validate_on_submit():
        actor = _actor()
        status = ActivityStatus.COMPLETED.value if was_rejected else None
        fields = form.to_fields(status=status)
        if warning := _double_credit(form, fields, actor, activity):
            return warning
        svc.update_activity(
            activity, form.to_fields(status=status), actor=actor, now=utcnow()
        )
        stored = _store_evidence(form.evidence, activity, actor)
        _commit_or_remove(stored)
        flash(_("The activity has been saved."), "success")
        return redirect(url_for("activities.detail", activity_id=activity.id))
    return render_template(
        "activities/form.html", form=form, activity=activity, was_rejected=was_rejected
    )


@bp.route("/<int:activity_id>/delete", methods=["POST"])
@role_required(Role.TEACHER)
def delete(activity_id: int):
    """Delete an activity and, after the commit, its files."""
    activity = _owned_or_abort(activity_id)
    if activity.is_locked:
        return _locked_page(activity)
    stored = svc.delete_activity(activity, actor=_actor(), now=utcnow())
    db.session.commit()
    remove_stored(current_app.config["UPLOAD_FOLDER"], stored)
    flash(_("The activity has been deleted."), "success")
    return redirect(url_for("activities.index"))


@bp.route("/<int:activity_id>/evidence", methods=["POST"])
@role_required(Role.TEACHER)
def upload_evidence(activity_id: int):
    """Attach another evidence file from the detail page."""
    activity = _owned_or_abort(activity_id)
    if activity.is_locked:
        return _locked_page(activity)
    form = EvidenceForm()
    if form.validate_on_submit():
        stored = _store_evidence(form.evidence, activity, _actor())
        _commit_or_remove(stored)
        flash(_("The file has been uploaded."), "success")
        return redirect(url_for("activities.detail", activity_id=activity.id))
    return _render_detail(activity, upload_form=form)


def _evidence_of(activity: Activity, evidence_id: int):
    for evidence in activity.evidence:
        if evidence.id == evidence_id:
            return evidence
    abort(404)


@bp.route("/<int:activity_id>/evidence/<int:evidence_id>")
@login_required
def download_evidence(activity_id: int, evidence_id: int):
    """Send an evidence file as an attachment to those who may see the activity."""
    activity = svc.visible_activity_or_404(current_user, activity_id)
    evidence = _evidence_of(activity, evidence_id)
    path = stored_path(current_app.config["UPLOAD_FOLDER"], evidence.stored_name)
    if not path.is_file():
        logger.error("evidence file %s is missing", evidence.stored_name)
        abort(404)
    response = send_file(
        path,
        mimetype=evidence.content_type,
        as_attachment=True,
        # The detected type's extension, never the uploader's (.hta, .bat, .html).
        download_name=download_name(
            evidence.original_name, evidence.content_type, "evidence"
        ),
        max_age=0,
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.route("/<int:activity_id>/evidence/<int:evidence_id>/delete", methods=["POST"])
@role_required(Role.TEACHER)
def delete_evidence(activity_id: int, evidence_id: int):
    """Remove an evidence file (row now, file after the commit)."""
    activity = _owned_or_abort(activity_id)
    evidence = _evidence_of(activity, evidence_id)
    if activity.is_locked:
        return _locked_page(activity)
    stored = svc.remove_evidence(evidence, actor=_actor(), now=utcnow())
    db.session.commit()
    remove_stored(current_app.config["UPLOAD_FOLDER"], [stored])
    flash(_("The file has been deleted."), "success")
    return redirect(url_for("activities.detail", activity_id=activity.id))


@bp.route("/review")
@role_required(Role.HEAD, Role.COLLEGE_ADMIN, Role.ADMIN)
def review_queue():
    """Completed activities waiting for this head's (or college admin's) verification.

    A head's queue is their department's: its table is kept while the department's
    change version holds (pdtracker.fragments).
    """
    user = _actor()
    scope = svc.department_review_scope(user)
    if scope is None:
        body = fragments.finish(_review_body(user))
    else:
        key = ("activities.review", user.id, scope, _args_key(), _locale())
        body = fragments.cached(
            key, [department_feed_key(scope)], lambda: _review_body(user)
        )
    return render_template("activities/review.html", body=body)


def _review_body(user) -> str:
    page = paginate(svc.review_queue_for(user), QUEUE_PER_PAGE)
    return fragments.render(
        "activities/_review_body.html", page=page, locale=_locale(),
        lookalikes=duplicates.flags_for(page.items),
    )  # fmt: skip


def _args_key() -> tuple:
    """The query string as a cache key part (the pager's links repeat it)."""
    return tuple(sorted(request.args.items(multi=True)))


def _own_activity_page(activity: Activity):
    """A head reviewing their own activity would be a conflict of interest (403)."""
    flash(_("You cannot review your own activity."), "danger")
    return render_template("activities/locked.html", activity=activity, own=True), 403


def _review(activity: Activity, action):
    """Run a review action and commit, or explain why it was refused."""
    try:
        action(activity)
    except svc.ConflictOfInterest:
        db.session.rollback()
        return _own_activity_page(activity)
    except svc.NotReviewable:
        db.session.rollback()
        flash(_("Only completed activities can be verified or rejected."), "warning")
        return redirect(url_for("activities.detail", activity_id=activity.id))
    db.session.commit()
    return None


def _after_review(activity: Activity):
    if request.args.get("next") == "detail":
        return redirect(url_for("activities.detail", activity_id=activity.id))
    return redirect(url_for("activities.review_queue"))


@bp.route("/<int:activity_id>/verify", methods=["POST"])
@role_required(Role.HEAD, Role.COLLEGE_ADMIN, Role.ADMIN)
def verify(activity_id: int):
    """Verify a completed activity of a teacher of the head's department."""
    activity = svc.reviewable_activity_or_404(current_user, activity_id)
    actor = _actor()
    refused = _review(
        activity, lambda a: svc.verify_activity(a, actor=actor, now=utcnow())
    )
    if refused is not None:
        return refused
    flash(_("The activity has been verified."), "success")
    return _after_review(activity)


@bp.route("/<int:activity_id>/reject", methods=["POST"])
@role_required(Role.HEAD, Role.COLLEGE_ADMIN, Role.ADMIN)
def reject(activity_id: int):
    """Reject a completed activity with a reason the teacher will see."""
    activity = svc.reviewable_activity_or_404(current_user, activity_id)
    if activity.teacher_id == current_user.id:
        return _own_activity_page(activity)
    form = RejectForm()
    if not form.validate_on_submit():
        return _render_detail(activity, reject_form=form, status=400)
    actor = _actor()
    refused = _review(
        activity,
        lambda a: svc.reject_activity(a, form.reason.data, actor=actor, now=utcnow()),
    )
    if refused is not None:
        return refused
    flash(_("The activity has been sent back to the teacher."), "success")
    return _after_review(activity)
