"""Admin pages: users and their roles, departments. Admins only."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from pdtracker.admin import services
from pdtracker.admin.forms import (
    DepartmentForm,
    PasswordResetForm,
    UserFilterForm,
    UserForm,
    role_label,
    title_label,
)
from pdtracker.auth.models import Role, User
from pdtracker.auth.session import role_required
from pdtracker.extensions import db
from pdtracker.main.paging import page_number
from pdtracker.org.models import Department
from pdtracker.timeutil import utcnow

bp = Blueprint("admin", __name__, url_prefix="/admin")

REFUSALS = {
    "deactivate_self": lambda: _("You cannot deactivate your own account."),
    "own_admin_role": lambda: _("You cannot remove your own administrator role."),
}


@bp.before_request
@role_required(Role.ADMIN)
def _admins_only() -> None:
    """Every admin page needs the admin role (anonymous users go to the login page)."""


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


@bp.route("/users")
def users():
    """List users with search and filters, a page at a time."""
    departments = db.session.scalars(select(Department).order_by(Department.name)).all()
    form = UserFilterForm(request.args, departments=departments)
    department = form.department.data or ""
    filters = services.UserFilters(
        q=(form.q.data or "")[:100],
        role=form.role.data if form.role.data in {r.value for r in Role} else "",
        department_id=int(department) if department.isdigit() else None,
        status=form.status.data or "",
    )
    page = services.list_users(filters, page_number())
    args = {k: v for k, v in request.args.items() if k != "page" and v}
    return render_template("admin/users.html", form=form, page=page, args=args)


@bp.route("/users/new", methods=["GET", "POST"])
def create_user():
    """Create a user."""
    form = UserForm(actor=_actor())
    if form.validate_on_submit():
        try:
            user = services.create_user(
                _actor(), _user_fields(form), form.password.data, _profile_fields(form),
                utcnow(),
            )  # fmt: skip
            db.session.commit()
        except IntegrityError:
            _duplicate(form)
        else:
            flash(_("User %(name)s created.", name=user.username), "success")
            return redirect(url_for("admin.users"))
    return render_template("admin/user_form.html", form=form, user=None)


@bp.route("/users/<int:user_id>/edit", methods=["GET", "POST"])
def edit_user(user_id: int):
    """Change a user's identity, roles, department and profile."""
    user = db.get_or_404(User, user_id)
    form = UserForm(obj=user, user=user, actor=_actor())
    if request.method == "GET":
        _fill_profile(form, user)
    if form.validate_on_submit():
        try:
            services.update_user(
                _actor(), user, _user_fields(form), _profile_fields(form), utcnow()
            )
            db.session.commit()
        except IntegrityError:
            _duplicate(form)
        except services.AdminRefused as refused:
            flash(REFUSALS[refused.code](), "danger")
        else:
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
def reset_password(user_id: int):
    """Set a new password for a user; their sessions end."""
    user = db.get_or_404(User, user_id)
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
def deactivate_user(user_id: int):
    """Stop a user from logging in; their sessions end."""
    user = db.get_or_404(User, user_id)
    try:
        services.deactivate_user(_actor(), user, utcnow())
    except services.AdminRefused as refused:
        flash(REFUSALS[refused.code](), "danger")
    else:
        db.session.commit()
        flash(_("User %(name)s deactivated.", name=user.username), "success")
    return redirect(url_for("admin.edit_user", user_id=user.id))


@bp.route("/users/<int:user_id>/activate", methods=["POST"])
def activate_user(user_id: int):
    """Let a deactivated user log in again."""
    user = db.get_or_404(User, user_id)
    services.activate_user(_actor(), user, utcnow())
    db.session.commit()
    flash(_("User %(name)s activated.", name=user.username), "success")
    return redirect(url_for("admin.edit_user", user_id=user.id))


@bp.route("/departments")
def departments():
    """List departments with their heads and number of users."""
    rows = services.list_departments()
    return render_template("admin/departments.html", rows=rows)


@bp.route("/departments/new", methods=["GET", "POST"])
def create_department():
    """Create a department (and its institution if needed)."""
    return _department_form(None)


@bp.route("/departments/<int:department_id>/edit", methods=["GET", "POST"])
def edit_department(department_id: int):
    """Change a department."""
    return _department_form(db.get_or_404(Department, department_id))


def _department_form(department: Department | None):
    form = DepartmentForm(obj=department, department=department)
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
        else:
            flash(_("Department %(name)s saved.", name=form.name.data), "success")
            return redirect(url_for("admin.departments"))
    return render_template(
        "admin/department_form.html", form=form, department=department
    )
