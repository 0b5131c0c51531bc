"""The event list's kept parts follow every change at once and are never shared
wrongly: a change to an event, to its seats or to the user's registration shows
on the next request, one teacher's registration never shows on another's list,
and the rows are kept between requests. (Kept = drawn afresh, byte for byte:
test_list_bytes.py.)
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from pdtracker import fragments
from pdtracker.auth.models import User
from pdtracker.events.models import Event
from pdtracker.events.registrations import cancel_registration
from pdtracker.extensions import db
from pdtracker.timeutil import utcnow
from tests.support import masked


def _as(auth, name: str) -> None:
    auth.logout()
    auth.login(name)


def test_a_change_to_an_event_or_its_seats_shows_at_once(
    app, client, auth, world, make_event, registered
) -> None:
    event = make_event(
        title="旧标题", capacity=2, starts_at=utcnow() + timedelta(days=1)
    )
    with app.app_context():
        db.session.get_one(User, world["teacher1"].id).locale = "en"
        db.session.commit()
    auth.login("teacher1")
    page = client.get("/events/").text
    assert "旧标题" in page
    assert "2 of 2 seats left" in page
    with app.app_context():
        db.session.get_one(Event, event.id).title = "新标题"  # not even a version bump
        db.session.commit()
    page = client.get("/events/").text
    assert "新标题" in page
    assert "旧标题" not in page
    registered(world["teacher2"], event)
    page = client.get("/events/").text
    assert "1 of 2 seats left" in page
    assert "2 of 2 seats left" not in page


def test_one_teachers_registration_never_shows_on_anothers_list(
    app, client, auth, world, make_event, registered
) -> None:
    event = make_event(title="讲座", starts_at=utcnow() + timedelta(days=1))
    badge = 'class="badge text-bg-success"'
    _as(auth, "teacher2")
    assert badge not in client.get("/events/").text
    registered(world["teacher1"], event)
    _as(auth, "teacher1")
    assert badge in client.get("/events/").text  # kept with teacher1's status
    _as(auth, "teacher2")
    assert badge not in client.get("/events/").text
    _as(auth, "teacher1")
    assert badge in client.get("/events/").text
    with app.app_context(), db.session.begin():
        cancel_registration(
            db.session.get_one(User, world["teacher1"].id),
            db.session.get_one(Event, event.id),
            datetime(2020, 1, 3, tzinfo=UTC),
        )
    assert badge not in client.get("/events/").text


def test_rows_are_kept_between_requests(app, client, auth, world, make_event) -> None:
    for i in range(3):
        make_event(title=f"讲座{i}", starts_at=utcnow() + timedelta(days=1 + i))
    auth.login("teacher1")
    # CSRF tokens masked: they are signed with the second, which may tick between.
    first = masked(client.get("/events/").text)
    store = app.extensions[fragments._SMALL_EXTENSION]
    assert len(store) == 3 + 2  # rows, the filters and the pager
    assert masked(client.get("/events/").text) == first
    assert len(store) == 3 + 2  # rows, the filters and the pager
