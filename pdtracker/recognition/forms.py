"""Recognition forms: rounds, applications, checks, votes, decisions, objections."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    DateField,
    IntegerField,
    RadioField,
    SelectField,
    SelectMultipleField,
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
)
from wtforms.widgets import CheckboxInput, ListWidget

TEXT_MAX = 4000


def options(pairs: Iterable[tuple[str, Any]]) -> list[SelectChoice]:
    """(value, label) pairs as WTForms choices."""
    return [SelectChoice(value, label) for value, label in pairs]


class CheckboxesField(SelectMultipleField):
    """Several choices as checkboxes."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class RoundForm(FlaskForm):
    """A new round: name, levels offered, the window, objections and validity."""

    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=120)])
    levels = CheckboxesField(_l("Levels offered"), validators=[DataRequired()])
    opens_on = DateField(_l("Applications open on"), validators=[DataRequired()])
    closes_on = DateField(_l("Applications close on"), validators=[DataRequired()])
    objection_days = IntegerField(
        _l("Objection period (days)"),
        default=7,
        validators=[InputRequired(), NumberRange(min=0, max=90)],
    )
    validity_years = IntegerField(
        _l("Valid for (years)"),
        default=5,
        validators=[InputRequired(), NumberRange(min=1, max=10)],
    )


class ReviewerForm(FlaskForm):
    """Add a panel member by user name."""

    username = StringField(_l("User name"), validators=[DataRequired(), Length(max=80)])


class ApplyForm(FlaskForm):
    """The level applied for, and a statement (required when not meeting)."""

    level = SelectField(_l("Level"), validators=[DataRequired()])
    statement = TextAreaField(
        _l("Statement"),
        validators=[Optional(), Length(max=TEXT_MAX)],
        description=_l("Required when the pre-check says you do not meet the level."),
    )


class ResubmitForm(FlaskForm):
    """Re-submit after adding evidence."""

    statement = TextAreaField(
        _l("Statement"), validators=[Optional(), Length(max=TEXT_MAX)]
    )


class CheckForm(FlaskForm):
    """The head's formal check."""

    outcome = RadioField(
        _l("Outcome"),
        choices=[
            SelectChoice("complete", _l("Complete")),
            SelectChoice("returned", _l("Return for more evidence")),
        ],
        validators=[DataRequired()],
    )
    note = TextAreaField(
        _l("Note to the teacher"), validators=[Optional(), Length(max=TEXT_MAX)]
    )


class VoteForm(FlaskForm):
    """A panel member's vote and reason."""

    choice = RadioField(
        _l("Vote"),
        choices=[
            SelectChoice("approve", _l("Approve")),
            SelectChoice("reject", _l("Reject")),
        ],
        validators=[DataRequired()],
    )
    reason = TextAreaField(
        _l("Reason"), validators=[DataRequired(), Length(max=TEXT_MAX)]
    )


class DecisionForm(FlaskForm):
    """The round's decision: approve at a level, or reject."""

    outcome = RadioField(
        _l("Decision"),
        choices=[
            SelectChoice("approve", _l("Approve")),
            SelectChoice("reject", _l("Reject")),
        ],
        validators=[DataRequired()],
    )
    level = SelectField(_l("Level"), validators=[Optional()])
    reason = TextAreaField(_l("Reason"), validators=[Optional(), Length(max=TEXT_MAX)])


class ObjectionForm(FlaskForm):
    """The teacher's one objection."""

    statement = TextAreaField(
        _l("Statement"), validators=[DataRequired(), Length(max=TEXT_MAX)]
    )


class ResolveForm(FlaskForm):
    """The admin upholds the decision or changes it."""

    outcome = RadioField(
        _l("Resolution"),
        choices=[
            SelectChoice("uphold", _l("Uphold the decision")),
            SelectChoice("approve", _l("Change to approve")),
            SelectChoice("reject", _l("Change to reject")),
        ],
        validators=[DataRequired()],
    )
    level = SelectField(_l("Level"), validators=[Optional()])
    resolution = TextAreaField(
        _l("Reason"), validators=[DataRequired(), Length(max=TEXT_MAX)]
    )


class ReviewForm(FlaskForm):
    """The review of a suspended recognition (or a revocation)."""

    outcome = RadioField(
        _l("Outcome"),
        choices=[
            SelectChoice("restore", _l("Restore")),
            SelectChoice("revoke", _l("Revoke")),
        ],
        validators=[DataRequired()],
    )
    reason = TextAreaField(
        _l("Reason"), validators=[DataRequired(), Length(max=TEXT_MAX)]
    )
