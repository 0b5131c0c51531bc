"""Landing page and the language switch for visitors."""

from __future__ import annotations

from flask import Blueprint, current_app, redirect, request, session, url_for
from flask_login import current_user, login_required

from pdtracker.auth.models import Role
from pdtracker.extensions import db

bp = Blueprint("main", __name__)

# Where each role starts; the first role a user holds wins.
HOME_BY_ROLE = (
    (Role.TEACHER, "progress.dashboard"),
    (Role.HEAD, "progress.department"),
    (Role.COLLEGE_ADMIN, "admin.users"),  # their college's people
    (Role.STAFF, "events.manage"),
    (Role.MENTOR, "placements.index"),  # their enterprise's placements
    (Role.ADMIN, "admin.users"),
)


@bp.route("/")
@login_required
def index():
    """Send users to the page their role starts on."""
    for role, endpoint in current_app.config.get("HOME_BY_ROLE", HOME_BY_ROLE):
        if current_user.has_role(role) and endpoint in current_app.view_functions:
            return redirect(url_for(endpoint))
    return redirect(url_for("auth.settings"))


@bp.route("/language", methods=["POST"])
def language():
    """Switch the interface language (stored on the user when signed in)."""
    choice = request.form.get("locale", "")
    if choice in current_app.config["LANGUAGES"]:
        session["locale"] = choice
        if current_user.is_authenticated:
            current_user.locale = choice
            db.session.commit()
    return redirect(_back())


def _back() -> str:
    target = request.referrer or ""
    host = request.host_url
    return target if target.startswith(host) else url_for("main.index")
