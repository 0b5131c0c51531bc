"""The navigation bar, kept per worker, is the HTML the template rendered each time.

The reference is the bar a new worker draws (nothing kept, tests.support.keeps_emptied);
the kept bar must equal it byte for byte for every role and pair of roles, in both
languages, on pages whose link is a plain item, a menu's item, or none, while one
worker serves them all in turn.
"""

from __future__ import annotations

from datetime import UTC, datetime
from itertools import combinations

import pytest
from flask_babel import force_locale
from flask_login import login_user

from pdtracker.auth.models import Role, User
from pdtracker.extensions import db
from pdtracker.navigation import nav_links
from pdtracker.notifications.models import Notification, NotificationKind
from tests.support import keeps_emptied

ROLE_SETS = [(r,) for r in Role] + list(combinations(Role, 2)) + [tuple(Role)]
# A plain link, a menu's item (Users sits in Administration), a page in no bar.
PATHS = [
    "/notifications/",
    "/admin/users",
    "/placements/",
    "/account/settings",
    "/login",
]


def _bar(app, user: User, path: str, locale: str) -> tuple[str, str]:
    with app.test_request_context(path), force_locale(locale):
        login_user(user)
        with keeps_emptied(app):
            fresh = str(nav_links())
        kept = str(nav_links())
        # A second, kept rendering is the same HTML.
        assert str(nav_links()) == kept
    return fresh, kept


def test_the_kept_bar_equals_the_templates_for_every_role_and_language(
    app, make_user
) -> None:
    users = [make_user(f"u{n}", *roles) for n, roles in enumerate(ROLE_SETS)]
    with app.app_context():
        checked = 0
        for user in users:
            user = db.session.get(User, user.id)
            for locale in ("zh_Hans_CN", "en"):
                for path in PATHS:
                    old, new = _bar(app, user, path, locale)
                    assert new == old, (user.role_set, locale, path)
                    checked += 1
        assert checked == len(ROLE_SETS) * 2 * len(PATHS)
        actives = {
            path: _bar(app, db.session.get(User, users[-1].id), path, "en")[1]
            for path in PATHS
        }
    # The active item follows the page: the keys really separate pages.
    assert actives["/notifications/"].count(" active") == 1
    assert actives["/admin/users"].count(" active") == 2  # the menu and its item
    assert " active" not in actives["/login"]
    assert len(set(actives.values())) == len(PATHS) - 1  # /settings, /login: none


def _notify(user_id: int) -> None:
    db.session.add(
        Notification(
            kind=NotificationKind.ACTIVITY_VERIFIED.value,
            recipient_id=user_id,
            object_type="activity",
            object_id=1,
            idempotency_key=f"speed-{user_id}-{datetime.now(UTC).timestamp()}",
            due_at=datetime.now(UTC),
            status="sent",
            sent_at=datetime.now(UTC),
            payload={},
        )
    )
    db.session.commit()


@pytest.mark.parametrize("locale", ["en", "zh_Hans_CN"])
def test_the_unread_badge_is_never_stale(app, client, auth, make_user, locale) -> None:
    teacher = make_user("teacher1", Role.TEACHER)
    other = make_user("teacher2", Role.TEACHER)
    client.post("/language", data={"locale": locale})
    assert auth.login("teacher1").status_code == 302
    badge = '<span class="badge bg-light text-dark">'

    def bar() -> str:
        page = client.get("/progress/").get_data(as_text=True)
        return page[page.index("<nav") : page.index("</nav>")]

    assert badge not in bar()
    with app.app_context():
        _notify(teacher.id)
    assert f"{badge}1</span>" in bar()
    with app.app_context():
        _notify(teacher.id)
        _notify(other.id)  # someone else's
    assert f"{badge}2</span>" in bar()
    client.post("/notifications/read-all")
    assert badge not in bar()
