"""The hours statement's period."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, ValidationError
from wtforms.validators import DataRequired


class StatementForm(FlaskForm):
    """The period a 学时证明 covers (both days included)."""

    period_start = DateField(_l("From"), validators=[DataRequired()])
    period_end = DateField(_l("To"), validators=[DataRequired()])

    def validate_period_end(self, field: DateField) -> None:
        if (
            self.period_start.data
            and field.data
            and field.data < self.period_start.data
        ):
            raise ValidationError(_l("The period cannot end before it starts."))
