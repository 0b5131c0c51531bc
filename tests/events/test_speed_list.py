"""The event list's order, kept per worker, is the order worked out each time.

The upcoming events' order and next sessions, and the past count, are kept under
the public feed's version and the filters until the first moment time alone
changes them. Here: the page is the same HTML with and without the kept order
(both languages, filters, pages 1-3); a new or moved event shows at once; a series
whose next session ends, and an event that ends, move without any change in the
database.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from pdtracker.auth.models import User
from pdtracker.events import listing
from pdtracker.events import views as event_views
from pdtracker.extensions import db
from pdtracker.timeutil import SHANGHAI, utcnow


def _weekly(make_event, first: datetime, count: int = 6, **fields):
    return make_event(
        kind_code="seminar",
        starts_at=first,
        ends_at=first + timedelta(minutes=90),
        rrule=f"FREQ=WEEKLY;COUNT={count}",
        **fields,
    )


def _events(make_event, now: datetime) -> None:
    for i in range(30):
        make_event(title=f"讲座{i:02d}", starts_at=now + timedelta(hours=5 + 7 * i))
    for i in range(8):
        make_event(title=f"旧讲座{i}", starts_at=now - timedelta(days=3 + i))
    _weekly(
        make_event, now - timedelta(weeks=2) + timedelta(hours=30), title="每周研讨"
    )


PATHS = [
    "/events/",
    "/events/?page=2",
    "/events/?page=3",
    "/events/?kind=seminar",
    "/events/?kind=expert_lecture&page=2",
    f"/events/?month={utcnow().astimezone(SHANGHAI):%Y-%m}",
]


def _page(client, path: str) -> str:
    """The page with its CSRF tokens masked (they are signed with the time)."""
    text = client.get(path).text
    return re.sub(r'name="csrf_token" value="[^"]*"', "csrf", text)


@pytest.mark.parametrize("locale", ["zh_Hans_CN", "en"])
def test_the_page_is_the_same_with_and_without_the_kept_order(
    app, client, auth, world, make_event, monkeypatch, locale
) -> None:
    _events(make_event, utcnow())
    with app.app_context():
        db.session.get_one(User, world["teacher1"].id).locale = locale
        db.session.commit()
    auth.login("teacher1")
    assert ("Association events" in client.get("/events/").text) == (locale == "en")
    kept = {path: _page(client, path) for path in PATHS}
    again = {path: _page(client, path) for path in PATHS}  # from the kept order
    assert again == kept
    app.extensions.pop(listing._EXTENSION)
    monkeypatch.setattr(listing, "ORDERS", 0)  # keeps nothing: worked out each time
    fresh = {path: _page(client, path) for path in PATHS}
    assert fresh == kept
    assert "讲座00" in kept["/events/"]
    assert "旧讲座" in kept["/events/?page=2"]


def test_a_new_or_changed_event_shows_at_once(
    app, client, auth, world, make_event
) -> None:
    now = utcnow()
    make_event(title="后天的讲座", starts_at=now + timedelta(days=2))
    auth.login("teacher1")
    assert "明天的讲座" not in client.get("/events/").text
    make_event(title="明天的讲座", starts_at=now + timedelta(days=1))
    page = client.get("/events/").text
    assert page.index("明天的讲座") < page.index("后天的讲座")
    auth.login("staff1")
    unpublished = make_event(title="草稿讲座", publish=False)
    assert "草稿讲座" not in client.get("/events/").text
    assert unpublished.id


def test_time_alone_moves_a_series_and_ends_an_event(
    app, client, auth, world, make_event, monkeypatch
) -> None:
    start = datetime(2031, 3, 3, 6, 0, tzinfo=UTC)
    _weekly(make_event, start, title="每周研讨")  # sessions 06:00-07:30 each Monday
    make_event(title="周三讲座", starts_at=start + timedelta(days=2))
    clock = {"now": start - timedelta(hours=1)}
    monkeypatch.setattr(event_views, "utcnow", lambda: clock["now"])
    auth.login("teacher1")
    page = client.get("/events/").text
    assert page.index("每周研讨") < page.index("周三讲座")
    clock["now"] = start + timedelta(minutes=90)  # the first session has just ended
    page = client.get("/events/").text
    assert page.index("周三讲座") < page.index("每周研讨")  # next session next week
    clock["now"] = start + timedelta(days=2, hours=3)  # the lecture is over
    page = client.get("/events/").text
    assert page.index("每周研讨") < page.index("周三讲座")  # past ones come last
    clock["now"] = start - timedelta(hours=1)  # a clock set back is worked out again
    page = client.get("/events/").text
    assert page.index("每周研讨") < page.index("周三讲座")
