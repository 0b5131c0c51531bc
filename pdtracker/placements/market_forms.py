"""Marketplace and mentor forms: offers, decisions, attendance, the 考核表, invitations."""

from __future__ import annotations

from collections.abc import Iterable

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    DateField,
    EmailField,
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
    ValidationError,
)

from pdtracker.auth.models import User
from pdtracker.form_fields import optional_text
from pdtracker.placements.market_models import GRADES, SCORE_FIELDS, ScoreScale
from pdtracker.placements.models import Enterprise

GRADE_VALUES = {label: value for value, label in GRADES.items()}


class OfferForm(FlaskForm):
    """An enterprise's offer (企业实践岗位)."""

    enterprise_id = SelectField(
        _l("Host enterprise"), coerce=int, validators=[InputRequired()]
    )
    post = StringField(_l("Post"), validators=[DataRequired(), Length(max=200)])
    scene = optional_text(_l("Production or service scene"), 200)
    tasks = optional_text(_l("Tasks"), 5000, TextAreaField)
    sector = StringField(_l("Sector"), validators=[DataRequired(), Length(max=100)])
    skills = optional_text(
        _l("Skill tags"), 500, description=_l("Separated by commas.")
    )
    mentor_id = SelectField(_l("Enterprise mentor"), coerce=int, default=0)
    seats = IntegerField(
        _l("Seats"), validators=[InputRequired(), NumberRange(min=1, max=1000)]
    )
    starts_on = DateField(_l("Starts on"), validators=[DataRequired()])
    ends_on = DateField(_l("Ends on"), validators=[DataRequired()])
    working_days = IntegerField(
        _l("Working days"), validators=[InputRequired(), NumberRange(min=0, max=3660)]
    )
    city = optional_text(_l("City"), 100)
    location = optional_text(_l("Location"), 200)
    bring_back = optional_text(
        _l("What the teacher brings back to teaching"), 5000, TextAreaField
    )

    def __init__(
        self,
        *args,
        enterprises: Iterable[Enterprise],
        mentors: Iterable[tuple[User, str]],
        **kwargs,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.enterprise_id.choices = [SelectChoice(e.id, e.name) for e in enterprises]
        self.mentor_id.choices = [SelectChoice(0, _l("No mentor"))] + [
            SelectChoice(m.id, f"{m.display_name} ({enterprise})")
            for m, enterprise in mentors
        ]

    def validate_ends_on(self, field: DateField) -> None:
        """The end cannot come before the start."""
        if self.starts_on.data and field.data and field.data < self.starts_on.data:
            raise ValidationError(_l("The end date is before the start date."))

    def validate_working_days(self, field: IntegerField) -> None:
        """Working days fit inside the span."""
        start, end = self.starts_on.data, self.ends_on.data
        fits = not (start and end and end >= start) or field.data is None
        if not fits and field.data > (end - start).days + 1:
            raise ValidationError(_l("More working days than days between the dates."))


class DeclineForm(FlaskForm):
    """Why a request is declined."""

    reason = TextAreaField(
        _l("Reason for declining"), validators=[DataRequired(), Length(max=500)]
    )


class AttendanceForm(FlaskForm):
    """Days on site: every weekday from one date to another."""

    first_day = DateField(_l("From"), validators=[DataRequired()])
    last_day = DateField(_l("To"), validators=[DataRequired()])

    def validate_last_day(self, field: DateField) -> None:
        """The range runs forward."""
        if self.first_day.data and field.data and field.data < self.first_day.data:
            raise ValidationError(_l("The end date is before the start date."))


def _score(label) -> StringField:
    return StringField(
        label,
        validators=[DataRequired(), Length(max=3)],
        description=_l("优, 良, 中 or 差, or points from 0 to 100."),
    )


class AssessmentForm(FlaskForm):
    """The 企业实践考核表."""

    attendance_score = _score(_l("Attendance"))
    task_score = _score(_l("Task completion"))
    skill_score = _score(_l("Professional skill"))
    attitude_score = _score(_l("Work attitude"))
    confirmed_days = IntegerField(
        _l("Days confirmed by the mentor"),
        validators=[InputRequired(), NumberRange(min=1, max=3660)],
    )
    comments = optional_text(_l("Comments"), 5000, TextAreaField)

    def scored(self) -> tuple[str, dict[str, int]] | None:
        """(scale, scores) when the four scores share one scale, else None."""
        raw = {name: (getattr(self, name).data or "").strip() for name in SCORE_FIELDS}
        if all(v in GRADE_VALUES for v in raw.values()):
            return ScoreScale.GRADE.value, {k: GRADE_VALUES[v] for k, v in raw.items()}
        if all(v.isdigit() and int(v) <= 100 for v in raw.values()):
            return ScoreScale.POINTS.value, {k: int(v) for k, v in raw.items()}
        return None


class InviteMentorForm(FlaskForm):
    """A new mentor account of an enterprise."""

    username = StringField(_l("Username"), validators=[DataRequired(), Length(max=64)])
    display_name = StringField(_l("Name"), validators=[DataRequired(), Length(max=100)])
    email = optional_text(_l("E-mail"), 254, EmailField)
