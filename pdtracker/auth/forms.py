"""Account forms."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, PasswordField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, EqualTo, Length


class LoginForm(FlaskForm):
    """Username and password."""

    username = StringField(_l("Username"), validators=[DataRequired(), Length(max=64)])
    password = PasswordField(
        _l("Password"), validators=[DataRequired(), Length(max=256)]
    )
    remember = BooleanField(_l("Keep me signed in"))


def _new_password() -> PasswordField:
    # The same strength rule wherever a password is chosen (change, reset).
    return PasswordField(
        _l("New password"), validators=[DataRequired(), Length(min=10, max=256)]
    )


def _confirm() -> PasswordField:
    return PasswordField(
        _l("Repeat the new password"),
        validators=[
            DataRequired(),
            EqualTo("new_password", _l("The passwords differ.")),
        ],
    )


class PasswordChangeForm(FlaskForm):
    """Change one's own password (the current one is checked, throttled, by the view)."""

    current_password = PasswordField(
        _l("Current password"), validators=[DataRequired(), Length(max=256)]
    )
    new_password = _new_password()
    confirm = _confirm()


class ForgotPasswordForm(FlaskForm):
    """Ask for a link to set a new password."""

    identifier = StringField(
        _l("Username or e-mail address"),
        validators=[DataRequired(), Length(max=254)],
        filters=[lambda value: value.strip() if value else value],
    )


class ResetPasswordForm(FlaskForm):
    """Choose a new password through a reset link."""

    new_password = _new_password()
    confirm = _confirm()


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
