"""Login, logout, password change and personal settings."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from pdtracker.auth import bp
from pdtracker.auth.forms import LoginForm, PasswordChangeForm, SettingsForm
from pdtracker.auth.services import authenticate, change_password, is_throttled
from pdtracker.extensions import db
from pdtracker.timeutil import utcnow


def _safe_next(target: str | None) -> str:
    """Only follow same-site relative redirects."""
    if target and target.startswith("/") and not urlsplit(target).netloc:
        return target if not target.startswith("//") else url_for("main.index")
    return url_for("main.index")


@bp.route("/login", methods=["GET", "POST"])
def login():  # noqa: ANN201
    """Show and handle the login form."""
    if current_user.is_authenticated:
        return redirect(url_for("main.index"))
    form = LoginForm()
    if form.validate_on_submit():
        now, address = utcnow(), request.remote_addr or "unknown"
        if is_throttled(form.username.data, address, now):
            flash(
                _("Too many failed attempts. Please wait 15 minutes and try again."),
                "danger",
            )
            return render_template("auth/login.html", form=form), 429
        user = authenticate(form.username.data, form.password.data, address, now)
        db.session.commit()
        if user is None:
            flash(_("Wrong username or password."), "danger")
            return render_template("auth/login.html", form=form), 200
        login_user(user, remember=form.remember.data)
        return redirect(_safe_next(request.args.get("next")))
    return render_template("auth/login.html", form=form)


@bp.route("/logout", methods=["POST"])
@login_required
def logout():  # noqa: ANN201
    """End the session."""
    logout_user()
    flash(_("You have logged out."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def password():  # noqa: ANN201
    """Change one's own password; other sessions end."""
    form = PasswordChangeForm(user=current_user)
    if form.validate_on_submit():
        change_password(current_user, form.new_password.data, utcnow())
        db.session.commit()
        login_user(current_user._get_current_object())  # keep this session
        flash(
            _("Your password has been changed. Other sessions were signed out."),
            "success",
        )
        return redirect(url_for("main.index"))
    return render_template("auth/password.html", form=form)


@bp.route("/account/settings", methods=["GET", "POST"])
@login_required
def settings():  # noqa: ANN201
    """Choose language and time zone."""
    form = SettingsForm(obj=current_user)
    if form.validate_on_submit():
        current_user.locale = form.locale.data
        current_user.timezone = form.timezone.data
        db.session.commit()
        flash(_("Settings saved."), "success")
        return redirect(url_for("auth.settings"))
    return render_template("auth/settings.html", form=form)
