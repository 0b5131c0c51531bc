"""Flask-Login wiring and the role guard used by every area."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache, wraps
from typing import Any

from flask import Flask, abort
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy import BindParameter, Select, bindparam, select
from sqlalchemy.orm import joinedload

from pdtracker.auth.models import Role, User
from pdtracker.extensions import db, login_manager
from pdtracker.notifications import inbox


def init_login(app: Flask) -> None:
    """Configure Flask-Login."""
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Please log in to see this page.")
    login_manager.login_message_category = "warning"
    login_manager.session_protection = "basic"


@login_manager.user_loader
def load_user(identity: str) -> User | None:
    """Load the user only if the session's version is still current."""
    user_id, _, version = identity.partition(":")
    if not (user_id.isdigit() and version.isdigit()):
        return None
    row = db.session.execute(_user_query(), {"user_id": int(user_id)}).unique().first()
    if row is None:
        return None
    user, count = row
    if not user.is_active or user.session_version != int(version):
        return None
    inbox.remember_unread(user.id, count or 0)
    return user


@cache
def _user_query() -> Select[User, int]:
    """The user with what every page asks next, in one query: the roles (the
    navigation), the department (a head's pages) and the unread badge's count.

    Built once: a statement made per request cost more than the query it saves.
    """
    user_id: BindParameter[int] = bindparam("user_id")
    unread = inbox.unread_statement(user_id).scalar_subquery()
    return (
        select(User, unread)
        .options(joinedload(User.roles), joinedload(User.department))
        .where(User.id == user_id)
    )


def role_required(*roles: Role) -> Callable:
    """Require a signed-in user holding any of the roles, else 403."""

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        @login_required
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if not current_user.has_role(*roles):
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator
