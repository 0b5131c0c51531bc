"""Placement and enterprise forms."""

from __future__ import annotations

from collections.abc import Iterable

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from sqlalchemy import func, select
from wtforms import (
    BooleanField,
    DateField,
    IntegerField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    ValidationError,
)

from pdtracker.auth.models import User
from pdtracker.extensions import db
from pdtracker.form_fields import optional_text
from pdtracker.placements.models import Enterprise

# What the report field offers to pick: the types the upload check accepts
# (pdtracker.activities.evidence.ALLOWED_TYPES; not imported: the activities
# package imports this one's models).
ACCEPT = ".pdf,.jpg,.jpeg,.png,application/pdf,image/jpeg,image/png"


class PlacementForm(FlaskForm):
    """Who goes where, when, with whom, to do what."""

    teacher_id = SelectField(_l("Teacher"), coerce=int, validators=[InputRequired()])
    enterprise_id = SelectField(
        _l("Host enterprise"), coerce=int, validators=[InputRequired()]
    )
    starts_on = DateField(_l("Starts on"), validators=[DataRequired()])
    ends_on = DateField(_l("Ends on"), validators=[DataRequired()])
    working_days = IntegerField(
        _l("Working days"),
        validators=[Optional(), NumberRange(min=0, max=3660)],
        description=_l("Leave empty to count the weekdays between the dates."),
    )
    mentor_name = optional_text(_l("Enterprise mentor"), 100)
    mentor_contact = optional_text(_l("Mentor contact"), 200)
    tasks = optional_text(_l("Tasks"), 5000, TextAreaField)
    notes = optional_text(
        _l("Private notes"),
        5000,
        TextAreaField,
        description=_l("Seen by the teacher and the department heads only."),
    )
    confirm_conflicts = BooleanField(_l("Save anyway, despite the warnings above"))

    def __init__(
        self,
        *args,
        teachers: Iterable[User],
        enterprises: Iterable[Enterprise],
        **kwargs,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.teacher_id.choices = [SelectChoice(t.id, t.display_name) for t in teachers]
        self.enterprise_id.choices = [SelectChoice(e.id, e.name) for e in enterprises]

    def validate_ends_on(self, field: DateField) -> None:
        """The end cannot come before the start."""
        if self.starts_on.data and field.data and field.data < self.starts_on.data:
            raise ValidationError(_l("The end date is before the start date."))

    def validate_working_days(self, field: IntegerField) -> None:
        """Working days fit inside the span."""
        start, end = self.starts_on.data, self.ends_on.data
        if field.data is None or not (start and end) or end < start:
            return
        if field.data > (end - start).days + 1:
            raise ValidationError(_l("More working days than days between the dates."))


class CompleteForm(FlaskForm):
    """The final report that completes a placement."""

    report = FileField(
        _l("Final report (PDF, JPEG or PNG)"),
        validators=[FileRequired(_l("Upload the final report."))],
        render_kw={"accept": ACCEPT},
    )


class CancelForm(FlaskForm):
    """Why a placement is cancelled."""

    reason = TextAreaField(
        _l("Reason for cancelling"), validators=[DataRequired(), Length(max=500)]
    )


class EnterpriseForm(FlaskForm):
    """A member enterprise that hosts placements."""

    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    sector = optional_text(_l("Sector"), 100)
    city = optional_text(_l("City"), 100)
    contact_name = optional_text(_l("Contact person"), 100)
    contact_phone = optional_text(_l("Contact phone"), 40)
    placement_capacity = IntegerField(
        _l("Placement capacity"),
        validators=[InputRequired(), NumberRange(min=0, max=10000)],
        default=2,
        description=_l("Teachers the enterprise can host at the same time."),
    )

    def __init__(self, *args, enterprise_id: int | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.enterprise_id = enterprise_id

    def validate_name(self, field: StringField) -> None:
        """Enterprise names are unique (ignoring case and surrounding spaces)."""
        field.data = (field.data or "").strip()
        query = select(Enterprise.id).where(
            func.lower(Enterprise.name) == field.data.lower()
        )
        if self.enterprise_id is not None:
            query = query.where(Enterprise.id != self.enterprise_id)
        if db.session.scalar(query) is not None:
            raise ValidationError(_l("An enterprise with this name already exists."))
