"""The navigation bar, which follows the user's roles, and template helpers."""

from __future__ import annotations

import functools
from dataclasses import dataclass, replace

from flask import Flask, current_app
from flask_babel import force_locale, get_locale
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from pdtracker.auth.models import Role


@dataclass(frozen=True)
class NavItem:
    """One link in the navigation bar."""

    endpoint: str
    label: str
    roles: tuple[Role, ...]
    badge: int | None = None


# One table: an item appears once its endpoint exists and the user holds a role.
NAV: tuple[NavItem, ...] = (
    NavItem("progress.dashboard", _l("My progress"), (Role.TEACHER,)),
    NavItem("activities.index", _l("My activities"), (Role.TEACHER,)),
    NavItem("events.index", _l("Events"), (Role.TEACHER, Role.HEAD)),
    NavItem("calendar.subscribe", _l("Calendar"), (Role.TEACHER, Role.HEAD)),
    NavItem(
        "activities.review_queue",
        _l("Verification"),
        (Role.HEAD, Role.COLLEGE_ADMIN, Role.ADMIN),
    ),
    NavItem("progress.department", _l("Department"), (Role.HEAD,)),
    NavItem(
        "placements.index",
        _l("Placements"),
        (Role.TEACHER, Role.HEAD, Role.MENTOR, Role.COLLEGE_ADMIN),
    ),
    NavItem(
        "placements.offers",
        _l("Enterprise offers"),
        (Role.TEACHER, Role.HEAD, Role.STAFF, Role.ADMIN),
    ),
    NavItem("placements.requests_list", _l("Seat requests"), (Role.MENTOR, Role.STAFF)),
    NavItem("recognition.index", _l("Recognition"), (Role.TEACHER,)),
    NavItem("recognition.checks", _l("Recognition checks"), (Role.HEAD,)),
    NavItem(
        "papers.index", _l("Papers"), (Role.TEACHER, Role.HEAD, Role.COLLEGE_ADMIN)
    ),
    NavItem("papers.exports", _l("Official exports"), (Role.COLLEGE_ADMIN, Role.ADMIN)),
    NavItem(
        "recognition.rounds_index",
        _l("Recognition rounds"),
        (Role.COLLEGE_ADMIN, Role.ADMIN),
    ),
    NavItem("events.manage", _l("Manage events"), (Role.STAFF,)),
    NavItem("placements.enterprises", _l("Enterprises"), (Role.STAFF, Role.ADMIN)),
    NavItem("association.index", _l("Association"), (Role.STAFF, Role.ADMIN)),
    NavItem("admin.users", _l("Users"), (Role.COLLEGE_ADMIN, Role.ADMIN)),
    NavItem("admin.departments", _l("Departments"), (Role.COLLEGE_ADMIN, Role.ADMIN)),
    NavItem("admin.institutions", _l("Colleges"), (Role.ADMIN,)),
    NavItem("admin.rulesets", _l("Rulesets"), (Role.ADMIN,)),
    NavItem(
        "onboarding.index", _l("Imports"), (Role.ADMIN, Role.COLLEGE_ADMIN, Role.HEAD)
    ),
    NavItem("notifications.scheduler_runs", _l("Scheduler"), (Role.ADMIN,)),
    NavItem(
        "notifications.index",
        _l("Notifications"),
        (Role.TEACHER, Role.HEAD, Role.COLLEGE_ADMIN, Role.STAFF, Role.ADMIN),
    ),
)

STATUS_LABELS = {
    "planned": _l("Planned"),
    "completed": _l("Completed"),
    "verified": _l("Verified"),
    "rejected": _l("Rejected"),
}


def nav_items() -> list[NavItem]:
    """The items the current user may see."""
    if not current_user.is_authenticated:
        return []
    views = current_app.view_functions
    items = [i for i in NAV if i.endpoint in views and current_user.has_role(*i.roles)]
    # Areas register badge counters (e.g. unread notifications) in app.extensions.
    badges = current_app.extensions.get("nav_badges", {})
    return [
        replace(i, badge=badges[i.endpoint]() or None) if i.endpoint in badges else i
        for i in items
    ]


def status_label(status: str) -> str:
    """The translated label of an activity status (memoized: one per row of a list)."""
    return _status_label(status, str(get_locale()))


@functools.lru_cache(maxsize=64)
def _status_label(status: str, locale: str) -> str:
    # Per app the catalogs are fixed, so the locale decides the text.
    with force_locale(locale):
        return str(STATUS_LABELS.get(status, status))


def init_navigation(app: Flask) -> None:
    """Expose the helpers to templates."""
    app.jinja_env.globals.update(
        nav_items=nav_items, status_label=status_label, get_locale=get_locale
    )
