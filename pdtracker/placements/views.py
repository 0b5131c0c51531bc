"""The placements blueprint and its reading pages: the placement list, the
timeline, one placement and its report, and the enterprise list.

The shared pieces of the area's pages live here too: the status labels, the
scoped loaders and the conflict sentences. A head's writes (plan, edit and the
lifecycle steps) are in :mod:`.lifecycle_views`.
"""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import LazyString, get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from pdtracker import fragments
from pdtracker.auth.models import Role, User
from pdtracker.auth.session import role_required
from pdtracker.calendar.models import department_feed_key, teacher_feed_key
from pdtracker.downloads import download_name
from pdtracker.extensions import db
from pdtracker.main.paging import paginate
from pdtracker.placements.conflicts import Conflict
from pdtracker.placements.counting import counting_rule, placement_days, placements_days
from pdtracker.placements.forms import CancelForm, CompleteForm, EnterpriseForm
from pdtracker.placements.market import sees_offers
from pdtracker.placements.mentors import (
    assessment_of,
    attendance_days,
    mentors_placement,
    placement_clause,
)
from pdtracker.placements.models import Enterprise, Placement, PlacementStatus
from pdtracker.placements.services import (
    ENTERPRISE_FIELDS,
    report_path,
    save_enterprise,
)
from pdtracker.placements.timeline import build_timeline
from pdtracker.timeutil import local_today, utcnow

bp = Blueprint("placements", __name__, url_prefix="/placements")

PER_PAGE = 50

STATUS_LABELS: dict[str, LazyString] = {
    PlacementStatus.PROPOSED: _l("Proposed"),
    PlacementStatus.APPROVED: _l("Approved"),
    PlacementStatus.IN_PROGRESS: _l("In progress"),
    PlacementStatus.COMPLETED: _l("Completed"),
    PlacementStatus.CANCELLED: _l("Cancelled"),
}
# Bootstrap colour per status, shared by badges and timeline cells.
STATUS_CSS: dict[str, str] = {
    PlacementStatus.PROPOSED: "text-bg-secondary",
    PlacementStatus.APPROVED: "text-bg-primary",
    PlacementStatus.IN_PROGRESS: "text-bg-warning",
    PlacementStatus.COMPLETED: "text-bg-success",
    PlacementStatus.CANCELLED: "text-bg-light",
}


@bp.app_template_global()
def placement_status_label(status: str) -> str:
    """The translated label of a placement status."""
    return str(STATUS_LABELS.get(status, status))


@bp.app_template_global()
def placement_status_css(status: str) -> str:
    """The badge classes of a placement status."""
    return STATUS_CSS.get(status, "text-bg-secondary")


def conflict_message(conflict: Conflict) -> str:
    """A warning sentence for a conflict."""
    if conflict.kind == "placement":
        return _(
            "The teacher already has a placement at %(enterprise)s from %(start)s "
            "to %(end)s.",
            enterprise=conflict.enterprise_name,
            start=conflict.starts_on,
            end=conflict.ends_on,
        )
    if conflict.kind == "registration":
        return _(
            "The teacher is registered for “%(event)s” from %(start)s to %(end)s.",
            event=conflict.event_title,
            start=conflict.starts_on,
            end=conflict.ends_on,
        )
    return _(
        "%(enterprise)s would host %(teachers)d teachers in %(month)s, "
        "more than its capacity of %(capacity)d.",
        enterprise=conflict.enterprise_name,
        teachers=conflict.teachers,
        month=conflict.month.strftime("%Y-%m") if conflict.month else "",
        capacity=conflict.capacity,
    )


def _is_head_of(teacher: User) -> bool:
    return (
        current_user.has_role(Role.HEAD)
        and current_user.department_id is not None
        and teacher.department_id == current_user.department_id
    )


def _load(placement_id: int) -> Placement:
    """The placement if the current user may see it (tenancy scope), else 404."""
    placement = db.session.scalar(
        select(Placement)
        .options(joinedload(Placement.teacher), joinedload(Placement.enterprise))
        .join(User, User.id == Placement.teacher_id)
        .where(Placement.id == placement_id, placement_clause(current_user))
    )
    if placement is None:
        abort(404)
    return placement


def _load_for_head(placement_id: int) -> Placement:
    """The placement if the current user heads its teacher's department, else 404."""
    placement = _load(placement_id)
    if not _is_head_of(placement.teacher):
        abort(404)
    return placement


def _enterprises() -> list[Enterprise]:
    return list(db.session.scalars(select(Enterprise).order_by(Enterprise.name)))


@bp.route("/")
@role_required(Role.TEACHER, Role.HEAD, Role.MENTOR, Role.COLLEGE_ADMIN, Role.ADMIN)
def index():
    """Placements in the user's scope (status filter): a head's department's, a
    college admin's college's, a mentor's enterprise's, a teacher's own ones.

    A teacher's list, and a head's, is kept (pdtracker.fragments) while their own
    and their department's change versions hold (a placement, its mentor's
    assessment, its enterprise's and its teacher's names all move them) and their
    college's ruleset counts days the same way; the others are drawn each time.
    """
    status = request.args.get("status", "")
    # Everyone but a plain teacher sees other people's placements: name them.
    is_head = not (
        current_user.has_role(Role.TEACHER)
        and not current_user.has_role(
            Role.HEAD, Role.MENTOR, Role.COLLEGE_ADMIN, Role.ADMIN
        )
    )
    context = {
        "status": status,
        "is_head": is_head,
        "can_plan": current_user.has_role(Role.HEAD),
        "offers_visible": sees_offers(current_user),
    }
    feeds = _kept_feeds(current_user)
    if feeds is None:
        body = fragments.finish(_index_body(status, context))
    else:
        # Every placement listed is of a teacher of the user's college (their own
        # or their department's): that college's rule counts all the days shown.
        basis = counting_rule(current_user.institution_id).basis
        key = (
            "placements.index",
            current_user.id,
            tuple(sorted(request.args.items(multi=True))),
            str(get_locale()),
            request.script_root,
            tuple(context.items()),
            basis,
        )
        body = fragments.cached(key, feeds, lambda: _index_body(status, context))
    return render_template("placements/index.html", body=body)


def _kept_feeds(user: User) -> list[str] | None:
    """The change versions a teacher's or a head's list is kept under; None for
    the scopes no version follows (a college, an enterprise, every college)."""
    if user.has_role(Role.ADMIN, Role.COLLEGE_ADMIN, Role.MENTOR):
        return None
    feeds = [teacher_feed_key(user.id)]
    if user.has_role(Role.HEAD) and user.department_id is not None:
        feeds.append(department_feed_key(user.department_id))
    return feeds


def _index_body(status: str, context: dict) -> str:
    query = (
        select(Placement)
        .options(joinedload(Placement.teacher), joinedload(Placement.enterprise))
        .join(User, User.id == Placement.teacher_id)
        .where(placement_clause(current_user))
    )
    if status in STATUS_LABELS:
        query = query.where(Placement.status == status)
    page = paginate(
        query.order_by(Placement.starts_on.desc(), Placement.id.desc()), PER_PAGE
    )
    return fragments.render(
        "placements/_index_body.html",
        page=page,
        credits=placements_days(page.items),
        statuses=list(PlacementStatus),
        **context,
    )


@bp.route("/timeline")
@role_required(Role.HEAD)
def timeline():
    """Teachers × the next 18 months, with practice days still needed."""
    data = build_timeline(current_user.department_id, local_today())
    return render_template(
        "placements/timeline.html",
        timeline=data,
        ruleset_title=data.rule.ruleset_title(str(get_locale())),
    )


@bp.route("/<int:placement_id>")
@login_required
def detail(placement_id: int):
    """One placement; heads get the actions."""
    placement = _load(placement_id)
    is_mentor = mentors_placement(current_user, placement)
    assessment = assessment_of(placement.id)
    rule = counting_rule(placement.teacher.institution_id)
    return render_template(
        "placements/detail.html",
        placement=placement,
        is_head=_is_head_of(placement.teacher),
        is_mentor=is_mentor,
        # Private notes: the teacher and the department's heads only.
        show_notes=placement.teacher_id == current_user.id
        or _is_head_of(placement.teacher),
        assessment=assessment,
        attendance=attendance_days(placement.id),
        rule=rule,
        ruleset_title=rule.ruleset_title(str(get_locale())),
        credit=placement_days(
            placement,
            rule,
            assessment.confirmed_days if assessment and placement.mentor_id else None,
        ),
        complete_form=CompleteForm(),
        cancel_form=CancelForm(),
    )


@bp.route("/<int:placement_id>/report")
@login_required
def report(placement_id: int):
    """The final report, for the teacher and the department's heads."""
    placement = _load(placement_id)
    path = report_path(placement)
    if path is None or not path.is_file():
        abort(404)
    return send_file(
        path,
        mimetype=placement.report_content_type,
        as_attachment=True,
        # The detected type's extension, never the uploader's (.hta, .bat, .html).
        download_name=download_name(
            placement.report_original_name,
            placement.report_content_type or "",
            "report",
        ),
    )


def _enterprise_values(form: EnterpriseForm) -> dict:
    return {name: getattr(form, name).data for name in ENTERPRISE_FIELDS}


@bp.route("/enterprises")
@role_required(Role.STAFF, Role.ADMIN)
def enterprises():
    """The member enterprises."""
    return render_template("placements/enterprises.html", enterprises=_enterprises())


@bp.route("/enterprises/new", methods=["GET", "POST"])
@role_required(Role.STAFF, Role.ADMIN)
def enterprise_create():
    """Add a member enterprise."""
    form = EnterpriseForm()
    if form.validate_on_submit():
        save_enterprise(
            Enterprise(), actor=current_user, now=utcnow(), **_enterprise_values(form)
        )
        db.session.commit()
        flash(_("The enterprise has been added."), "success")
        return redirect(url_for("placements.enterprises"))
    return render_template(
        "placements/enterprise_form.html", form=form, enterprise=None
    )


@bp.route("/enterprises/<int:enterprise_id>/edit", methods=["GET", "POST"])
@role_required(Role.STAFF, Role.ADMIN)
def enterprise_edit(enterprise_id: int):
    """Change a member enterprise."""
    enterprise = db.get_or_404(Enterprise, enterprise_id)
    form = EnterpriseForm(obj=enterprise, enterprise_id=enterprise.id)
    if form.validate_on_submit():
        save_enterprise(
            enterprise, actor=current_user, now=utcnow(), **_enterprise_values(form)
        )
        db.session.commit()
        flash(_("The enterprise has been saved."), "success")
        return redirect(url_for("placements.enterprises"))
    return render_template(
        "placements/enterprise_form.html", form=form, enterprise=enterprise
    )


# The lifecycle, marketplace and mentors' pages register on this blueprint.
