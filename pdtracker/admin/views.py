"""Admin pages: users and their roles, departments.

The deployment admin reaches every page and every college. A college admin
reaches the pages marked :func:`college_scoped`, and on them only their college:
another college's people and departments are not found (404). Association staff
reach only the pages marked :func:`staff_scoped` (the regional ruleset layer).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user
from sqlalchemy.exc import IntegrityError

from pdtracker.admin import colleges, services
from pdtracker.admin.forms import (
    CollegeAdminForm,
    DepartmentForm,
    InstitutionForm,
    PasswordResetForm,
    UserFilterForm,
    UserForm,
    role_label,
    title_label,
)
from pdtracker.auth.models import Role, User
from pdtracker.extensions import db
from pdtracker.main.paging import page_number
from pdtracker.org.models import Department
from pdtracker.tenancy import administers, is_deployment_admin
from pdtracker.timeutil import utcnow

bp = Blueprint("admin", __name__, url_prefix="/admin")

REFUSALS = {
    "deactivate_self": lambda: _("You cannot deactivate your own account."),
    "own_admin_role": lambda: _("You cannot remove your own administrator role."),
    "role_not_grantable": lambda: _("You cannot grant this role."),
    "department_scope": lambda: _("Choose a department of your college."),
    "department_has_people": lambda: _(
        "A department with people cannot move to another college."
    ),
}


def college_scoped(view: Callable[..., Any]) -> Callable[..., Any]:
    """Open an admin page to college admins (the page scopes itself to their college)."""
    view.college_scoped = True  # type: ignore[attr-defined]
    return view


def staff_scoped(view: Callable[..., Any]) -> Callable[..., Any]:
    """Open an admin page to association staff (the page scopes itself to the
    regional layer); it stays open to college admins too."""
    view.staff_scoped = True  # type: ignore[attr-defined]
    return college_scoped(view)


@bp.before_request
@login_required
def _admins_only() -> None:
    """Admin pages need an administrator; college admins and staff only the
    pages marked for them."""
    actor = _actor()
    view = current_app.view_functions.get(request.endpoint or "")
    if getattr(view, "staff_scoped", False) and actor.has_role(Role.STAFF):
        return
    if not administers(actor):
        abort(403)
    if not is_deployment_admin(actor) and not getattr(view, "college_scoped", False):
        abort(403)


@bp.context_processor
def _labels() -> dict:
    return {"role_label": role_label, "title_label": title_label}


def _actor() -> User:
    return current_user._get_current_object()


def _user_fields(form: UserForm) -> services.UserFields:
    return services.UserFields(
        username=form.username.data,
        display_name=form.display_name.data,
        email=form.email.data,
        roles=frozenset(form.role_set),
        department_id=form.department_id.data or None,
        institution_id=form.institution_choice,
    )


def _profile_fields(form: UserForm) -> services.ProfileFields | None:
    if not form.staff_number.data:
        return None
    return services.ProfileFields(
        staff_number=form.staff_number.data,
        title=form.title.data or None,
        is_professional_course=form.is_professional_course.data,
        prior_industry_years=form.prior_industry_years.data or 0,
    )


def _duplicate(form: UserForm) -> None:
    """A concurrent insert won the race for a unique value: say so on the form."""
    db.session.rollback()
    form.username.errors = [
        *form.username.errors,
        _("The username, email address or staff number is already in use."),
    ]


def _saved(form: UserForm, save: Callable[[], object]) -> bool:
    """Run the user's create or update and commit; False when it was refused (the
    reason is on the form or flashed, the transaction rolled back)."""
    try:
        save()
        db.session.commit()
    except IntegrityError:
        _duplicate(form)
    except services.AdminRefused as refused:
        db.session.rollback()
        flash(REFUSALS[refused.code](), "danger")
    else:
        return True
    return False


@bp.route("/users")
@college_scoped
def users():
    """List the actor's users with search and filters, a page at a time."""
    departments = services.departments_for(_actor())
    form = UserFilterForm(request.args, departments=departments)
    department = form.department.data or ""
    filters = services.UserFilters(
        q=(form.q.data or "")[:100],
        role=form.role.data if form.role.data in {r.value for r in Role} else "",
        department_id=int(department) if department.isdigit() else None,
        status=form.status.data or "",
    )
    page = services.list_users(_actor(), filters, page_number())
    args = {k: v for k, v in request.args.items() if k != "page" and v}
    return render_template(
        "admin/users.html", form=form, page=page, args=args,
        show_college=is_deployment_admin(_actor()),
    )  # fmt: skip


@bp.route("/users/new", methods=["GET", "POST"])
@college_scoped
def create_user():
    """Create a user."""
    form = UserForm(actor=_actor())
    if form.validate_on_submit() and _saved(
        form,
        lambda: services.create_user(
            _actor(), _user_fields(form), form.password.data, _profile_fields(form),
            utcnow(),
        ),
    ):  # fmt: skip
        # The user's username is the form's, as given (no normalising on the way).
        flash(_("User %(name)s created.", name=form.username.data), "success")
        return redirect(url_for("admin.users"))
    return render_template("admin/user_form.html", form=form, user=None)


@bp.route("/users/<int:user_id>/edit", methods=["GET", "POST"])
@college_scoped
def edit_user(user_id: int):
    """Change a user's identity, roles, department and profile."""
    user = services.user_or_404(_actor(), user_id)
    form = UserForm(obj=user, user=user, actor=_actor())
    if request.method == "GET":
        _fill_profile(form, user)
    if form.validate_on_submit() and _saved(
        form,
        lambda: services.update_user(
            _actor(), user, _user_fields(form), _profile_fields(form), utcnow()
        ),
    ):
        flash(_("User %(name)s saved.", name=user.username), "success")
        return redirect(url_for("admin.users"))
    return render_template("admin/user_form.html", form=form, user=user)


def _fill_profile(form: UserForm, user: User) -> None:
    form.roles.data = sorted(r.value for r in user.role_set)
    form.department_id.data = user.department_id or 0
    if profile := user.teacher_profile:
        form.staff_number.data = profile.staff_number
        form.title.data = profile.title or ""
        form.is_professional_course.data = profile.is_professional_course
        form.prior_industry_years.data = profile.prior_industry_years


@bp.route("/users/<int:user_id>/password", methods=["GET", "POST"])
@college_scoped
def reset_password(user_id: int):
    """Set a new password for a user; their sessions end."""
    user = services.user_or_404(_actor(), user_id)
    form = PasswordResetForm()
    if form.validate_on_submit():
        services.reset_password(_actor(), user, form.password.data, utcnow())
        db.session.commit()
        if user.id == current_user.id:
            login_user(user)  # keep the admin's own session
        flash(_("The password of %(name)s was reset.", name=user.username), "success")
        return redirect(url_for("admin.edit_user", user_id=user.id))
    return render_template("admin/password.html", form=form, user=user)


@bp.route("/users/<int:user_id>/deactivate", methods=["POST"])
@college_scoped
def deactivate_user(user_id: int):
    """Stop a user from logging in; their sessions end."""
    user = services.user_or_404(_actor(), user_id)
    try:
        services.deactivate_user(_actor(), user, utcnow())
    except services.AdminRefused as refused:
        flash(REFUSALS[refused.code](), "danger")
    else:
        db.session.commit()
        flash(_("User %(name)s deactivated.", name=user.username), "success")
    return redirect(url_for("admin.edit_user", user_id=user.id))


@bp.route("/users/<int:user_id>/activate", methods=["POST"])
@college_scoped
def activate_user(user_id: int):
    """Let a deactivated user log in again."""
    user = services.user_or_404(_actor(), user_id)
    services.activate_user(_actor(), user, utcnow())
    db.session.commit()
    flash(_("User %(name)s activated.", name=user.username), "success")
    return redirect(url_for("admin.edit_user", user_id=user.id))


@bp.route("/departments")
@college_scoped
def departments():
    """List the actor's departments with their heads and number of users."""
    rows = services.list_departments(_actor())
    return render_template("admin/departments.html", rows=rows)


@bp.route("/departments/new", methods=["GET", "POST"])
@college_scoped
def create_department():
    """Create a department (and its institution if needed)."""
    return _department_form(None)


@bp.route("/departments/<int:department_id>/edit", methods=["GET", "POST"])
@college_scoped
def edit_department(department_id: int):
    """Change a department."""
    return _department_form(services.department_or_404(_actor(), department_id))


def _department_form(department: Department | None):
    form = DepartmentForm(obj=department, department=department, actor=_actor())
    if form.validate_on_submit():
        now, institution_id = utcnow(), form.institution_id.data
        if form.wants_new_institution:
            institution_id = services.create_institution(
                _actor(), form.new_institution_code.data,
                form.new_institution_name.data, now,
            ).id  # fmt: skip
        try:
            services.save_department(
                _actor(), department, institution_id=institution_id,
                code=form.code.data, name=form.name.data, name_en=form.name_en.data,
                now=now,
            )  # fmt: skip
            db.session.commit()
        except IntegrityError:
            db.session.rollback()
            form.code.errors = [*form.code.errors, _("This code is already in use.")]
        except services.AdminRefused as refused:
            db.session.rollback()
            flash(REFUSALS[refused.code](), "danger")
        else:
            flash(_("Department %(name)s saved.", name=form.name.data), "success")
            return redirect(url_for("admin.departments"))
    return render_template(
        "admin/department_form.html", form=form, department=department
    )


COLLEGE_REFUSALS = {
    "deployment_only": lambda: _("Only the deployment administrator can do this."),
    "no_such_user": lambda: _("No user has this username."),
    "other_college": lambda: _("This person belongs to another college."),
    "deployment_role": lambda: _(
        "Association staff, mentors and the deployment administrator cannot "
        "administer a college."
    ),
}


@bp.route("/institutions", methods=["GET", "POST"])
def institutions():
    """The member colleges; add one (the deployment admin only)."""
    form = InstitutionForm()
    if form.validate_on_submit():
        services.create_institution(_actor(), form.code.data, form.name.data, utcnow())
        db.session.commit()
        flash(_("College %(name)s created.", name=form.name.data), "success")
        return redirect(url_for("admin.institutions"))
    return render_template(
        "admin/institutions.html",
        form=form,
        rows=colleges.list_colleges(),
        admin_form=CollegeAdminForm(formdata=None),
    )


@bp.route("/institutions/<int:institution_id>/admins", methods=["POST"])
def add_college_admin(institution_id: int):
    """Make an existing person the administrator of a college."""
    institution = services.institution_or_404(_actor(), institution_id)
    form = CollegeAdminForm()
    if form.validate_on_submit():
        try:
            user = colleges.make_college_admin(
                _actor(), institution, form.username.data, utcnow()
            )
        except colleges.CollegeRefused as refused:
            db.session.rollback()
            flash(COLLEGE_REFUSALS[refused.code](), "danger")
        else:
            db.session.commit()
            flash(
                _(
                    "%(name)s now administers %(college)s.",
                    name=user.username,
                    college=institution.name,
                ),
                "success",
            )
    else:
        flash(_("Enter a username."), "danger")
    return redirect(url_for("admin.institutions"))
