"""Login, logout, password change and reset, and personal settings."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Response,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import format_timedelta
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from pdtracker.auth import reset
from pdtracker.auth.forms import (
    ForgotPasswordForm,
    LoginForm,
    PasswordChangeForm,
    ResetPasswordForm,
    SettingsForm,
)
from pdtracker.auth.services import (
    authenticate,
    change_password,
    check_current_password,
    end_sessions,
)
from pdtracker.auth.throttle import Verdict, as_timedelta
from pdtracker.extensions import db
from pdtracker.timeutil import utcnow

bp = Blueprint("auth", __name__)


@bp.after_request
def _private(response: Response) -> Response:
    # Account pages show forms, tokens and personal settings: never cache them.
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _safe_next(target: str | None) -> str:
    """Only follow same-site relative paths; anything else goes to the index.

    Browsers drop tabs and newlines from URLs and read a backslash as a slash, so
    "/\\evil.example" or "/<TAB>/evil.example" would leave the site: control
    characters and backslashes make the target unusable (and CR/LF could not go
    into a Location header at all).
    """
    index = url_for("main.index")
    if not target or any(ord(c) < 32 or ord(c) == 127 or c == "\\" for c in target):
        return index
    parts = urlsplit(target)
    if not target.startswith("/") or target.startswith("//"):
        return index
    return target if not (parts.scheme or parts.netloc) else index


def _address() -> str:
    """The client's address (ProxyFix has applied X-Forwarded-For from trusted proxies)."""
    return request.remote_addr or "unknown"


def _throttled(template: str, verdict: Verdict, **context: object) -> Response:
    wait = format_timedelta(verdict.retry_after, threshold=1.0, add_direction=False)
    flash(
        _("Too many attempts. Please wait %(wait)s and try again.", wait=wait), "danger"
    )
    response = current_app.make_response((render_template(template, **context), 429))
    response.headers["Retry-After"] = str(verdict.retry_seconds)
    return response


@bp.route("/login", methods=["GET", "POST"])
def login():
    """Show and handle the login form."""
    if current_user.is_authenticated:
        return redirect(url_for("main.index"))
    form = LoginForm()
    if form.validate_on_submit():
        attempt = authenticate(
            form.username.data, form.password.data, _address(), utcnow()
        )
        if attempt.throttled:
            return _throttled("auth/login.html", attempt.verdict, form=form)
        if attempt.user is None:
            flash(_("Wrong username or password."), "danger")
            return render_template("auth/login.html", form=form), 200
        login_user(attempt.user, remember=form.remember.data)
        return redirect(_safe_next(request.args.get("next")))
    return render_template("auth/login.html", form=form)


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    """End the session, and every copy of its cookies, on every device."""
    end_sessions(current_user)
    db.session.commit()
    logout_user()  # also clears the remember-me cookie
    flash(_("You have logged out."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def password():
    """Change one's own password; other sessions end."""
    form = PasswordChangeForm()
    if form.validate_on_submit():
        user = current_user._get_current_object()
        attempt = check_current_password(
            user, form.current_password.data, _address(), utcnow()
        )
        if attempt.throttled:
            return _throttled("auth/password.html", attempt.verdict, form=form)
        if attempt.user is None:
            form.current_password.errors.append(_("The current password is wrong."))
            return render_template("auth/password.html", form=form)
        change_password(user, form.new_password.data, utcnow())
        db.session.commit()
        login_user(user)  # keep this session
        flash(
            _("Your password has been changed. Other sessions were signed out."),
            "success",
        )
        return redirect(url_for("main.index"))
    return render_template("auth/password.html", form=form)


def _reset_link(token: str) -> str:
    """The reset page's absolute URL: PUBLIC_BASE_URL, else the host asked."""
    base = current_app.config.get("PUBLIC_BASE_URL")
    if base:
        return base.rstrip("/") + url_for("auth.reset_password", token=token)
    return url_for("auth.reset_password", token=token, _external=True)


@bp.route("/password/forgot", methods=["GET", "POST"])
def forgot_password():
    """Ask for a reset link; the answer is the same whether the account exists or not."""
    if not current_app.config.get("MAIL_SERVER"):
        return render_template("auth/forgot.html", form=None)
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        verdict = reset.request_reset(
            form.identifier.data, _address(), _reset_link, utcnow()
        )
        if not verdict.allowed:
            return _throttled("auth/forgot.html", verdict, form=form)
        life = as_timedelta(current_app.config["PASSWORD_RESET_LIFETIME"])
        flash(
            _(
                "If this is the username or e-mail address of an account with an"
                " e-mail address, a link to set a new password is on its way there."
                " The link works once, for %(minutes)s minutes.",
                minutes=int(life.total_seconds() // 60),
            ),
            "info",
        )
        return redirect(url_for("auth.login"))
    return render_template("auth/forgot.html", form=form)


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
def reset_password(token: str):
    """Set a new password through a mailed link (once); every session ends."""
    now = utcnow()
    invalid = _("This link is not valid any more: it was used, or it expired.")
    if not reset.is_usable(token, now):
        flash(invalid + " " + _("You can ask for a new one."), "warning")
        return redirect(url_for("auth.forgot_password"))
    form = ResetPasswordForm()
    if form.validate_on_submit():
        user = reset.reset_password(token, form.new_password.data, now)
        if user is None:  # used by a concurrent request meanwhile
            db.session.rollback()
            flash(invalid, "warning")
            return redirect(url_for("auth.forgot_password"))
        db.session.commit()
        logout_user()
        flash(_("Your new password is set. Please log in with it."), "success")
        return redirect(url_for("auth.login"))
    return render_template("auth/reset.html", form=form)


@bp.route("/account/settings", methods=["GET", "POST"])
@login_required
def settings():
    """Choose language and time zone."""
    form = SettingsForm(obj=current_user)
    if form.validate_on_submit():
        current_user.locale = form.locale.data
        current_user.timezone = form.timezone.data
        db.session.commit()
        flash(_("Settings saved."), "success")
        return redirect(url_for("auth.settings"))
    return render_template("auth/settings.html", form=form)
