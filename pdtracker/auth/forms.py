"""Account forms."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, PasswordField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, EqualTo, Length, ValidationError


class LoginForm(FlaskForm):
    """Username and password."""

    username = StringField(_l("Username"), validators=[DataRequired(), Length(max=64)])
    password = PasswordField(
        _l("Password"), validators=[DataRequired(), Length(max=256)]
    )
    remember = BooleanField(_l("Keep me signed in"))


class PasswordChangeForm(FlaskForm):
    """Change one's own password."""

    current_password = PasswordField(
        _l("Current password"), validators=[DataRequired()]
    )
    new_password = PasswordField(
        _l("New password"), validators=[DataRequired(), Length(min=10, max=256)]
    )
    confirm = PasswordField(
        _l("Repeat the new password"),
        validators=[
            DataRequired(),
            EqualTo("new_password", _l("The passwords differ.")),
        ],
    )

    def __init__(self, *args, user, **kwargs) -> None:  # noqa: ANN001, ANN002, ANN003
        super().__init__(*args, **kwargs)
        self.user = user

    def validate_current_password(self, field: PasswordField) -> None:
        """The current password must be right."""
        if not self.user.check_password(field.data or ""):
            raise ValidationError(_l("The current password is wrong."))


class SettingsForm(FlaskForm):
    """Language and time zone."""

    locale = SelectField(
        _l("Language"),
        choices=[SelectChoice("zh_Hans_CN", "中文"), SelectChoice("en", "English")],
    )
    timezone = SelectField(
        _l("Time zone"),
        choices=[
            SelectChoice("Asia/Shanghai", "Asia/Shanghai (UTC+8)"),
            SelectChoice("Asia/Urumqi", "Asia/Urumqi (UTC+6)"),
            SelectChoice("Asia/Hong_Kong", "Asia/Hong_Kong (UTC+8)"),
            SelectChoice("UTC", "UTC"),
        ],
    )
