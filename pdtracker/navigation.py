"""The navigation bar, which follows the user's roles, and template helpers."""

from __future__ import annotations

import functools
import secrets
from collections.abc import Hashable
from dataclasses import dataclass, replace

from flask import Flask, current_app, request
from flask_babel import force_locale, get_locale
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from jinja2 import pass_context
from jinja2.runtime import Context
from markupsafe import Markup

from pdtracker.auth.models import Role
from pdtracker.caching import LRU, per_app


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
    visible = _visible(current_user.role_set)
    return _entries(visible, _badges(visible))


def nav_links() -> Markup:
    """The navigation bar's links as HTML (templates/_nav_links.html), kept per worker.

    The links follow only the user's roles, the language, the current page (the
    active item), the application root and the badges' counts, so the HTML is kept
    under those; the badges (e.g. unread notifications) are counted on every
    request, so a count is never stale.
    """
    if not current_user.is_authenticated:
        return Markup("")
    roles = current_user.role_set
    visible = _visible(roles)
    badges = _badges(visible)
    key = (roles, str(get_locale()), request.endpoint, request.script_root, badges)
    kept: dict = current_app.extensions.setdefault("nav_links", {})
    html = kept.get(key)
    if html is None:
        template = current_app.jinja_env.get_template("_nav_links.html")
        html = Markup(template.render(entries=_entries(visible, badges)))
        if len(kept) >= _KEPT_MAX:  # a bound, not an eviction policy: rare
            kept.clear()
        kept[key] = html
    return html


_KEPT_MAX = 2048


def _visible(roles: frozenset[Role]) -> tuple[NavItem, ...]:
    """The table's items a holder of ``roles`` sees (once per role set and app)."""
    per_roles: dict = current_app.extensions.setdefault("nav_visible", {})
    items = per_roles.get(roles)
    if items is None:
        views = current_app.view_functions
        items = tuple(
            i for i in NAV if i.endpoint in views and not roles.isdisjoint(i.roles)
        )
        per_roles[roles] = items
    return items


def _badges(visible: tuple[NavItem, ...]) -> tuple[tuple[str, int | None], ...]:
    """The visible items' badge counts (areas register counters in app.extensions)."""
    counters = current_app.extensions.get("nav_badges", {})
    return tuple(
        (i.endpoint, counters[i.endpoint]() or None)
        for i in visible
        if i.endpoint in counters
    )


def _entries(
    visible: tuple[NavItem, ...], badges: tuple[tuple[str, int | None], ...]
) -> list[NavItem | NavGroup]:
    counts = dict(badges)
    items = [
        replace(i, badge=counts[i.endpoint]) if i.endpoint in counts else i
        for i in visible
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


# base.html's frame around a page (the head's links, the bar, the scripts) is the
# same for every request with the same key (see _frame_key), apart from the CSRF
# token in its forms: kept with this stand-in, and the render's own token put back.
_FRAME_ENTRIES = 2048  # a frame is about 3 KB
_FRAME_TOKEN = f"frame-csrf-{secrets.token_hex(16)}"


def _frame_key(part: str) -> Hashable:
    """What a part of base.html's frame is drawn from, apart from the CSRF token.

    "top": the language, the application root (every link), the signed-in user's
    name and roles, the current page (the active items) and the badges' counts;
    "tail": the application root (the scripts' links).
    """
    if part == "tail":
        return (part, request.script_root)
    if not current_user.is_authenticated:
        return (part, str(get_locale()), request.script_root, request.endpoint, None)
    roles = current_user.role_set
    return (
        part, str(get_locale()), request.script_root, request.endpoint,
        current_user.display_name, roles, _badges(_visible(roles)),
    )  # fmt: skip


def _frames() -> LRU[Hashable, str]:
    return per_app(current_app, "navigation_frames", lambda: LRU(_FRAME_ENTRIES))


@pass_context
def kept_frame(context: Context, part: str) -> Markup | None:
    """base.html's ``part`` as kept for this request's key, or None (draw it)."""
    kept = _frames().get(_frame_key(part))
    if kept is None:
        return None
    return Markup(kept.replace(_FRAME_TOKEN, _token(context)))


@pass_context
def keep_frame(context: Context, part: str, html: str) -> Markup:
    """Keep the part base.html just drew (its CSRF token replaced), and return it."""
    token = _token(context)
    if token and _FRAME_TOKEN not in html:
        _frames().put(_frame_key(part), str(html).replace(token, _FRAME_TOKEN))
    return Markup(html)


def _token(context: Context) -> str:
    """The CSRF token this render's ``csrf_token()`` gives (a kept part's may be a
    stand-in of its own, see pdtracker.fragments)."""
    make = context.resolve("csrf_token")
    return str(make()) if callable(make) else ""


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
        nav_items=nav_items,
        nav_links=nav_links,
        kept_frame=kept_frame,
        keep_frame=keep_frame,
        status_label=status_label,
        get_locale=get_locale,
    )
