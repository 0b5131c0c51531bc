"""In-app notifications, delivery preferences, and the admin page of scheduler runs."""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    url_for,
)
from flask.sansio.blueprints import BlueprintSetupState
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user, login_required
from werkzeug.routing import BuildError

from pdtracker.auth.models import Role
from pdtracker.auth.session import role_required
from pdtracker.extensions import db
from pdtracker.notifications import inbox, outbox, runs
from pdtracker.notifications.delivery import compose, formatter_for
from pdtracker.notifications.forms import PreferencesForm
from pdtracker.notifications.preferences import preferences_of, set_preferences
from pdtracker.notifications.ticks import tick_description, tick_label
from pdtracker.scheduler import SCHEDULE
from pdtracker.timeutil import utcnow

bp = Blueprint("notifications", __name__)

PER_PAGE = 20


def unread_notifications() -> int:
    """The signed-in user's unread count (0 for visitors), for the nav badge."""
    if not current_user.is_authenticated:
        return 0
    return inbox.unread_for_badge(current_user.id)


@bp.record_once
def _expose(state: BlueprintSetupState) -> None:
    inbox.install()
    state.app.jinja_env.globals["unread_notifications"] = unread_notifications
    badges = state.app.extensions.setdefault("nav_badges", {})
    badges["notifications.index"] = unread_notifications


def _link(endpoint_and_values: tuple[str, dict] | None) -> str | None:
    if endpoint_and_values is None:
        return None
    endpoint, values = endpoint_and_values
    if endpoint not in current_app.view_functions:
        return None
    try:
        return url_for(endpoint, **values)
    except BuildError:  # the page needs values this notification lacks
        return None


@bp.route("/notifications/")
@login_required
def index() -> str:
    """The user's notifications, newest first, unread ones marked."""
    page = db.paginate(
        inbox.inbox_query(current_user), per_page=PER_PAGE, error_out=False
    )
    fmt = formatter_for(current_user)
    items = []
    for notification in page.items:
        content = compose(notification, fmt)
        items.append((notification, content, _link(content.link)))
    return render_template(
        "notifications/index.html",
        page=page,
        items=items,
        unread=inbox.unread_count(current_user.id),
    )


@bp.route("/notifications/<int:notification_id>/read", methods=["POST"])
@login_required
def mark_read(notification_id: int) -> ResponseReturnValue:
    """Mark one of the user's notifications read."""
    notification = inbox.get_own(current_user, notification_id)
    if notification is None:
        abort(404)
    inbox.mark_read(notification, utcnow())
    db.session.commit()
    return redirect(url_for("notifications.index"))


@bp.route("/notifications/read-all", methods=["POST"])
@login_required
def mark_all_read() -> ResponseReturnValue:
    """Mark all of the user's notifications read."""
    count = inbox.mark_all_read(current_user, utcnow())
    db.session.commit()
    flash(_("%(num)s notifications marked as read.", num=count), "success")
    return redirect(url_for("notifications.index"))


@bp.route("/notifications/preferences", methods=["GET", "POST"])
@login_required
def preferences() -> ResponseReturnValue:
    """Choose, per kind, e-mail and in-app, in-app only, or off."""
    form = PreferencesForm(
        roles=current_user.role_set, current=preferences_of(current_user)
    )
    if form.validate_on_submit():
        set_preferences(current_user, form.choices())
        db.session.commit()
        flash(_("Notification settings saved."), "success")
        return redirect(url_for("notifications.preferences"))
    mail = bool(current_app.config.get("MAIL_SERVER"))
    return render_template("notifications/preferences.html", form=form, mail=mail)


@bp.route("/admin/scheduler")
@role_required(Role.ADMIN)
def scheduler_runs() -> str:
    """The scheduler's heartbeat, the last runs of each tick, and the outbox by status."""
    now = utcnow()
    heartbeat = runs.last_heartbeat()
    return render_template(
        "admin/scheduler.html",
        schedule=SCHEDULE,
        runs=runs.recent_runs(),
        heartbeat=heartbeat,
        fresh=runs.heartbeat_is_fresh(heartbeat, now),
        outbox=outbox.outbox_counts(),
        fast=current_app.config.get("SCHEDULER_FAST"),
        tick_label=tick_label,
        tick_description=tick_description,
    )
