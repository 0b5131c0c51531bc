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
    """One link in the navigation bar; items of one group share a drop-down menu."""

    endpoint: str
    label: str
    roles: tuple[Role, ...]
    badge: int | None = None
    group: str | None = None


@dataclass(frozen=True)
class NavGroup:
    """A drop-down menu of the navigation bar (on phones, its links are listed)."""

    label: str
    items: tuple[NavItem, ...]

    @property
    def badge(self) -> int | None:
        """The sum of the items' badges."""
        return sum(i.badge or 0 for i in self.items) or None

    @property
    def endpoints(self) -> tuple[str, ...]:
        """The endpoints of the menu's links (one of them may be the current page)."""
        return tuple(i.endpoint for i in self.items)


# The drop-down menus. One visible item of a group shows as a plain link, so a
# menu appears only when it saves room. Named for what they hold, so that the
# English bar fits one line at 1366 px (tests/browser/test_english_nav.py).
GROUPS = {
    "placements": _l("Placements"),
    "recognition": _l("Recognition"),
    "admin": _l("Administration"),
}


# One table: an item appears once its endpoint exists and the user holds a role.
NAV: tuple[NavItem, ...] = (
    NavItem("progress.dashboard", _l("My progress"), (Role.TEACHER,)),
    # A teacher's own records and the association's events: 我的记录 and 协会活动,
    # never both 活动.
    NavItem("activities.index", _l("My records"), (Role.TEACHER,)),
    NavItem("events.index", _l("Association events"), (Role.TEACHER, Role.HEAD)),
    NavItem("calendar.subscribe", _l("Calendar"), (Role.TEACHER, Role.HEAD)),
    NavItem(
        "activities.review_queue",
        _l("Verification"),
        (Role.HEAD, Role.COLLEGE_ADMIN, Role.ADMIN),
    ),
    NavItem("progress.department", _l("Department"), (Role.HEAD,)),
    # A college admin's departments side by side (the deployment admin picks one).
    NavItem(
        "progress.college",
        _l("College overview"),
        (Role.COLLEGE_ADMIN, Role.ADMIN),
        group="admin",
    ),
    NavItem(
        "placements.index",
        _l("Placements"),
        (Role.TEACHER, Role.HEAD, Role.MENTOR, Role.COLLEGE_ADMIN),
        group="placements",
    ),
    NavItem(
        "placements.offers",
        _l("Enterprise offers"),
        (Role.TEACHER, Role.HEAD, Role.STAFF, Role.ADMIN),
        group="placements",
    ),
    NavItem(
        "placements.requests_list",
        _l("Seat requests"),
        (Role.MENTOR, Role.STAFF),
        group="placements",
    ),
    NavItem(
        "recognition.index", _l("Recognition"), (Role.TEACHER,), group="recognition"
    ),
    NavItem(
        "recognition.checks",
        _l("Recognition checks"),
        (Role.HEAD,),
        group="recognition",
    ),
    NavItem(
        "papers.index",
        _l("Papers"),
        (Role.TEACHER, Role.HEAD, Role.COLLEGE_ADMIN),
        group="recognition",
    ),
    NavItem(
        "papers.exports",
        _l("Official exports"),
        (Role.COLLEGE_ADMIN, Role.ADMIN),
        group="recognition",
    ),
    NavItem(
        "recognition.rounds_index",
        _l("Recognition rounds"),
        (Role.COLLEGE_ADMIN, Role.ADMIN),
        group="recognition",
    ),
    NavItem("events.manage", _l("Manage events"), (Role.STAFF,)),
    NavItem(
        "placements.enterprises",
        _l("Enterprises"),
        (Role.STAFF, Role.ADMIN),
        group="placements",
    ),
    NavItem("association.index", _l("Association"), (Role.STAFF, Role.ADMIN)),
    NavItem(
        "admin.users", _l("Users"), (Role.COLLEGE_ADMIN, Role.ADMIN), group="admin"
    ),
    NavItem(
        "admin.departments",
        _l("Departments"),
        (Role.COLLEGE_ADMIN, Role.ADMIN),
        group="admin",
    ),
    NavItem("admin.institutions", _l("Colleges"), (Role.ADMIN,), group="admin"),
    # Staff publish the regional layer, a college admin their college's.
    NavItem(
        "admin.rulesets",
        _l("Rulesets"),
        (Role.ADMIN, Role.COLLEGE_ADMIN, Role.STAFF),
        group="admin",
    ),
    NavItem(
        "onboarding.index",
        _l("Imports"),
        (Role.ADMIN, Role.COLLEGE_ADMIN, Role.HEAD),
        group="admin",
    ),
    NavItem(
        "notifications.scheduler_runs", _l("Scheduler"), (Role.ADMIN,), group="admin"
    ),
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


def nav_items() -> list[NavItem | NavGroup]:
    """The links and menus the current user may see, in the table's order.

    A group's menu stands where its first visible item is; a group with one
    visible item is that plain link.
    """
    if not current_user.is_authenticated:
        return []
    views = current_app.view_functions
    items = [i for i in NAV if i.endpoint in views and current_user.has_role(*i.roles)]
    # Areas register badge counters (e.g. unread notifications) in app.extensions.
    badges = current_app.extensions.get("nav_badges", {})
    items = [
        replace(i, badge=badges[i.endpoint]() or None) if i.endpoint in badges else i
        for i in items
    ]
    members: dict[str, list[NavItem]] = {}
    for item in items:
        if item.group is not None:
            members.setdefault(item.group, []).append(item)
    entries: list[NavItem | NavGroup] = []
    for item in items:
        group = members.get(item.group or "", [])
        if len(group) < 2:
            entries.append(item)
        elif group[0] is item:
            label = GROUPS.get(item.group or "", item.label)
            entries.append(NavGroup(str(label), tuple(group)))
    return entries


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
