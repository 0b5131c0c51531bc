"""Admin forms: users with roles and teacher profile, departments, list filters."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from markupsafe import Markup, escape
from sqlalchemy import func, select
from wtforms import (
    BooleanField,
    Form,
    IntegerField,
    PasswordField,
    SelectField,
    SelectMultipleField,
    StringField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import (
    DataRequired,
    Email,
    Length,
    NumberRange,
    Optional,
    Regexp,
    ValidationError,
)
from wtforms.widgets import CheckboxInput

from pdtracker.admin.services import departments_for, institutions_for
from pdtracker.auth.models import Role, User
from pdtracker.extensions import db
from pdtracker.form_fields import blank_to_none, optional_text
from pdtracker.org.display import department_name
from pdtracker.org.models import Department, Institution, TeacherProfile
from pdtracker.tenancy import (
    grantable_roles,
    is_deployment_admin,
    managed_institution,
    own_admin_role,
)

ROLE_LABELS = {
    Role.TEACHER: _l("Teacher"),
    Role.HEAD: _l("Department head"),
    Role.COLLEGE_ADMIN: _l("College administrator"),
    Role.STAFF: _l("Association staff"),
    Role.MENTOR: _l("Enterprise mentor"),
    Role.ADMIN: _l("Administrator"),
}

# Stored as the Chinese title (职称); shown translated.
TITLE_LABELS = {
    "助教": _l("Teaching assistant"),
    "讲师": _l("Lecturer"),
    "副教授": _l("Associate professor"),
    "教授": _l("Professor"),
    "工程师": _l("Engineer"),
    "高级工程师": _l("Senior engineer"),
}

ROLE_VALUES = frozenset(r.value for r in Role)
NEW_INSTITUTION = 0


def role_label(role: str) -> str:
    """The translated label of a role."""
    return str(ROLE_LABELS[Role(role)]) if role in ROLE_VALUES else role


def title_label(title: str | None) -> str:
    """The translated label of a title (职称); unknown titles are shown as stored."""
    return str(TITLE_LABELS.get(title or "", title or ""))


def _strip(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


class CheckboxListWidget:
    """Render a multiple choice as Bootstrap inline checkboxes."""

    def __call__(self, field: SelectMultipleField, **kwargs: Any) -> Markup:
        css = kwargs.get("class_", "") or kwargs.get("class", "")
        invalid = " is-invalid" if "is-invalid" in css else ""
        html = [f'<div id="{escape(field.id)}" class="pt-1{invalid}">']
        for option in field:
            html.append(
                '<div class="form-check form-check-inline">'
                f"{option(class_='form-check-input', required=False)} "
                f"{option.label(class_='form-check-label')}</div>"
            )
        html.append("</div>")
        return Markup("".join(html))


class MultiCheckboxField(SelectMultipleField):
    """A multiple choice shown as checkboxes (usable on a phone)."""

    widget = CheckboxListWidget()
    option_widget = CheckboxInput()


class UserForm(FlaskForm):
    """Create or edit a user, with roles, department and teacher profile."""

    username = StringField(
        _l("Username"),
        filters=[_strip],
        validators=[
            DataRequired(),
            Length(min=3, max=64),
            Regexp(
                r"^[A-Za-z0-9_.-]+$",
                message=_l("Use letters, digits, dots, dashes and underscores only."),
            ),
        ],
    )
    display_name = StringField(
        _l("Display name"),
        filters=[_strip],
        validators=[DataRequired(), Length(max=100)],
    )
    email = StringField(
        _l("Email"),
        filters=[blank_to_none],
        validators=[Optional(), Length(max=254), Email()],
    )
    password = PasswordField(
        _l("Initial password"), validators=[DataRequired(), Length(min=10, max=256)]
    )
    roles = MultiCheckboxField(
        _l("Roles"),
        choices=[SelectChoice(r.value, ROLE_LABELS[r]) for r in Role],
        validators=[DataRequired(message=_l("Choose at least one role."))],
    )
    department_id = SelectField(_l("Department"), coerce=int)
    institution_id = SelectField(
        _l("College"),
        coerce=int,
        default=0,
        description=_l(
            "For people without a department (a college administrator); "
            "members of a department belong to its college."
        ),
    )
    staff_number = StringField(
        _l("Staff number"),
        filters=[blank_to_none],
        # No Optional(): it would stop the chain before the teacher check below.
        validators=[Length(max=32)],
        description=_l("Teachers only."),
    )
    title = SelectField(_l("Title (职称)"))
    is_professional_course = BooleanField(
        _l("Professional-course teacher"), default=True
    )
    prior_industry_years = IntegerField(
        _l("Years of prior industry work"),
        default=0,
        validators=[Optional(), NumberRange(min=0, max=60)],
    )

    def __init__(
        self,
        *args: Any,
        user: User | None = None,
        actor: User | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.user, self.actor = user, actor
        if user is not None:
            del self.password  # set on its own page
        self._scope_choices(actor)
        titles = dict(TITLE_LABELS)
        current = self.title.data or (
            user.teacher_profile.title if user and user.teacher_profile else None
        )
        if current and current not in titles:
            titles[current] = current  # keep titles the list does not know
        self.title.choices = [SelectChoice("", "—")] + [
            SelectChoice(value, label) for value, label in titles.items()
        ]

    def _scope_choices(self, actor: User | None) -> None:
        """Departments, colleges and roles the actor may hand out, and no others."""
        departments = departments_for(actor) if actor is not None else []
        several = len({d.institution_id for d in departments}) > 1
        self.department_id.choices = [SelectChoice(0, "—")] + [
            SelectChoice(
                d.id,
                f"{d.institution.name} · {department_name(d)}"
                if several
                else department_name(d),
            )
            for d in departments
        ]
        grantable = grantable_roles(actor) if actor is not None else frozenset()
        self.roles.choices = [
            SelectChoice(r.value, ROLE_LABELS[r]) for r in Role if r in grantable
        ]
        if actor is not None and is_deployment_admin(actor):
            self.institution_id.choices = [SelectChoice(0, "—")] + [
                SelectChoice(i.id, i.name) for i in institutions_for(actor)
            ]
            if self.institution_id.data is None:  # a person of no college
                self.institution_id.data = 0
        else:
            del self.institution_id  # a college admin's people join their college

    @property
    def institution_choice(self) -> int | None:
        """The college chosen for a person without a department (deployment admin)."""
        field = getattr(self, "institution_id", None)
        return (field.data or None) if field is not None else None

    @property
    def role_set(self) -> set[Role]:
        """The chosen roles."""
        return {Role(r) for r in self.roles.data or () if r in ROLE_VALUES}

    def _taken(self, stmt: Any) -> bool:
        found = db.session.scalar(stmt.limit(1))
        return found is not None and (self.user is None or found != self.user.id)

    def validate_username(self, field: StringField) -> None:
        """Usernames are unique, ignoring case."""
        stmt = select(User.id).where(func.lower(User.username) == field.data.lower())
        if self._taken(stmt):
            raise ValidationError(_l("This username is already taken."))

    def validate_email(self, field: StringField) -> None:
        """Email addresses are unique, ignoring case."""
        field.data = field.data.lower() if field.data else None
        stmt = select(User.id).where(func.lower(User.email) == field.data)
        if field.data and self._taken(stmt):
            raise ValidationError(_l("This email address is already in use."))

    def validate_roles(self, field: MultiCheckboxField) -> None:
        """An admin cannot take their administering role away from themselves."""
        if (
            self.user is not None
            and self.actor is not None
            and self.user.id == self.actor.id
            and own_admin_role(self.actor) not in self.role_set
        ):
            raise ValidationError(_l("You cannot remove your own administrator role."))
        if (
            Role.COLLEGE_ADMIN in self.role_set
            and self.actor is not None
            and is_deployment_admin(self.actor)
            and not (self.department_id.data or self.institution_choice)
        ):
            raise ValidationError(_l("A college administrator needs a college."))

    def validate_department_id(self, field: SelectField) -> None:
        """Teachers and heads belong to a department."""
        if not field.data and self.role_set & {Role.TEACHER, Role.HEAD}:
            raise ValidationError(
                _l("Teachers and department heads need a department.")
            )

    def validate_institution_id(self, field: SelectField) -> None:
        """A teacher profile (工号, title) belongs to a college, so a person who has
        one, a former teacher too, stays in a college (the database insists)."""
        profile = self.user.teacher_profile if self.user is not None else None
        if profile is not None and self._college() is None:
            raise ValidationError(
                _l(
                    "This person has a teacher profile (staff number %(number)s), "
                    "which belongs to a college: choose one.",
                    number=profile.staff_number,
                )
            )

    def validate_staff_number(self, field: StringField) -> None:
        """Teachers need a staff number, unique among their college's teachers
        (each college numbers its own people)."""
        if not field.data:
            if Role.TEACHER in self.role_set:
                raise ValidationError(_l("Teachers need a staff number."))
            return
        college = self._college()
        if college is None:
            raise ValidationError(
                _l("A staff number belongs to a college: choose a department.")
            )
        stmt = select(TeacherProfile.user_id).where(
            TeacherProfile.institution_id == college,
            TeacherProfile.staff_number == field.data,
        )
        if self._taken(stmt):
            raise ValidationError(_l("This staff number is already in use."))

    def _college(self) -> int | None:
        """The college the person will belong to: the department's, else the one
        chosen, else the college admin's own."""
        if self.department_id.data:
            department = db.session.get(Department, self.department_id.data)
            return department.institution_id if department else None
        if self.institution_choice:
            return self.institution_choice
        return managed_institution(self.actor) if self.actor is not None else None


class PasswordResetForm(FlaskForm):
    """Set a new password for a user."""

    password = PasswordField(
        _l("New password"), validators=[DataRequired(), Length(min=10, max=256)]
    )


class UserFilterForm(Form):
    """Search and filters of the user list (GET, no CSRF needed)."""

    q = StringField(_l("Search"), filters=[_strip], validators=[Length(max=100)])
    role = SelectField(
        _l("Role"),
        choices=[SelectChoice("", _l("All roles"))]
        + [SelectChoice(r.value, ROLE_LABELS[r]) for r in Role],
        validate_choice=False,
    )
    department = SelectField(_l("Department"), validate_choice=False)
    status = SelectField(
        _l("Status"),
        choices=[
            SelectChoice("", _l("All")),
            SelectChoice("active", _l("Active")),
            SelectChoice("inactive", _l("Deactivated")),
        ],
        validate_choice=False,
    )

    def __init__(self, *args: Any, departments: list[Department], **kwargs: Any):
        super().__init__(*args, **kwargs)
        several = len({d.institution_id for d in departments}) > 1
        self.department.choices = [SelectChoice("", _l("All departments"))] + [
            SelectChoice(
                str(d.id),
                f"{d.institution.name} · {department_name(d)}"
                if several
                else department_name(d),
            )
            for d in departments
        ]


class DepartmentForm(FlaskForm):
    """Create or edit a department; a new institution may be created with it."""

    institution_id = SelectField(_l("Institution"), coerce=int)
    new_institution_code = StringField(
        _l("New institution code"),
        filters=[blank_to_none],
        validators=[Length(max=32)],
    )
    new_institution_name = StringField(
        _l("New institution name"),
        filters=[blank_to_none],
        validators=[Length(max=200)],
    )
    code = StringField(
        _l("Code"), filters=[_strip], validators=[DataRequired(), Length(max=32)]
    )
    name = StringField(
        _l("Name"), filters=[_strip], validators=[DataRequired(), Length(max=200)]
    )
    name_en = optional_text(_l("English name"), 200)

    def __init__(
        self,
        *args: Any,
        actor: User,
        department: Department | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.department = department
        institutions = institutions_for(actor)
        self.institution_id.choices = [SelectChoice(i.id, i.name) for i in institutions]
        if not is_deployment_admin(actor):
            # A college admin's departments stay in their college.
            del self.new_institution_code, self.new_institution_name
            return
        self.institution_id.choices.append(
            SelectChoice(NEW_INSTITUTION, _l("New institution…"))
        )
        if not institutions:
            self.institution_id.description = _l(
                "No institution yet: enter the new institution's code and name."
            )

    @property
    def wants_new_institution(self) -> bool:
        """True when the department goes into a new institution."""
        return self.institution_id.data == NEW_INSTITUTION

    def validate_institution_id(self, field: SelectField) -> None:
        """A department with people stays in its college (their rows name it)."""
        department = self.department
        if (
            department is not None
            and field.data != department.institution_id
            and db.session.scalar(
                select(User.id).where(User.department_id == department.id).limit(1)
            )
        ):
            raise ValidationError(
                _l("A department with people cannot move to another college.")
            )

    def validate_new_institution_code(self, field: StringField) -> None:
        """A new institution needs a code nobody uses yet."""
        if not self.wants_new_institution:
            return
        if not field.data:
            raise ValidationError(_l("Enter the new institution's code."))
        if db.session.scalar(
            select(Institution.id).where(Institution.code == field.data)
        ):
            raise ValidationError(_l("This institution code is already in use."))

    def validate_new_institution_name(self, field: StringField) -> None:
        """A new institution needs a name."""
        if self.wants_new_institution and not field.data:
            raise ValidationError(_l("Enter the new institution's name."))

    def validate_code(self, field: StringField) -> None:
        """Department codes are unique within an institution."""
        if self.wants_new_institution:
            return
        found = db.session.scalar(
            select(Department.id).where(
                Department.institution_id == self.institution_id.data,
                Department.code == field.data,
            )
        )
        if found is not None and (
            self.department is None or found != self.department.id
        ):
            raise ValidationError(
                _l("This institution already has a department with this code.")
            )


class InstitutionForm(FlaskForm):
    """A new member college."""

    code = StringField(
        _l("Code"), filters=[_strip], validators=[DataRequired(), Length(max=32)]
    )
    name = StringField(
        _l("Name"), filters=[_strip], validators=[DataRequired(), Length(max=200)]
    )

    def validate_code(self, field: StringField) -> None:
        """College codes are unique."""
        if db.session.scalar(
            select(Institution.id).where(Institution.code == field.data)
        ):
            raise ValidationError(_l("This institution code is already in use."))


class CollegeAdminForm(FlaskForm):
    """Name an existing person the administrator of a college."""

    username = StringField(
        _l("Username"), filters=[_strip], validators=[DataRequired(), Length(max=64)]
    )
