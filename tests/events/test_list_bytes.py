"""The event list, kept per worker, is the list a new worker draws, every time.

Every request of ``/events/`` here is also drawn with every keep emptied
(tests.support.kept_and_fresh: no kept order, body, rows, filters, pager or
frame). The two pages must be the same bytes (CSRF tokens masked), in Chinese and
English, for a teacher and for staff, on several pages and filters, on the first
visit and the next ones, and after each kind of change: a new registration, a
cancelled registration, a cancelled session, a changed event, another user, a
language switch.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from pdtracker.auth.models import User
from pdtracker.events.models import Event
from pdtracker.events.registrations import cancel_registration
from pdtracker.events.session_changes import cancel_one_session
from pdtracker.events.sessions import list_sessions, next_session
from pdtracker.extensions import db
from pdtracker.timeutil import SHANGHAI, utcnow
from tests.support import kept_and_fresh


def _list(app, client, path: str = "/events/", label: str = "") -> str:
    """``path``'s page, checked equal to a new worker's."""
    page, fresh = kept_and_fresh(app, client, path)
    assert page == fresh, (label, path)
    return page


def _as(client, auth, name: str) -> None:
    auth.logout()
    client.get("/login")  # shows "logged out" once, here, not on a compared page
    auth.login(name)


def _world(make_event, registered, world, now: datetime) -> dict[str, Event]:
    """Events of every shape (in app context): one tomorrow with markup in its
    title, a full one, an online one, an all-day one, a weekly series, one whose
    registration was cancelled, 24 more (pages) and 4 past ones."""
    events = {
        "soon": make_event(
            title="明天 <讲座> & 研讨", starts_at=now + timedelta(days=1)
        ),
        "full": make_event(
            title="满员讲座", capacity=1, starts_at=now + timedelta(days=2)
        ),
        "online": make_event(
            title="线上讲座",
            location=None,
            online_url="https://meet.example.org/x",
            starts_at=now + timedelta(days=3),
            ends_at=now + timedelta(days=4, hours=2),
        ),
        "all_day": make_event(
            title="全天工作坊",
            is_all_day=True,
            start_on=date(2031, 5, 6),
            end_on=date(2031, 5, 9),
        ),
        "series": make_event(
            title="每周研讨",
            kind_code="seminar",
            starts_at=now - timedelta(weeks=2) + timedelta(hours=30),
            ends_at=now - timedelta(weeks=2) + timedelta(hours=31, minutes=30),
            rrule="FREQ=WEEKLY;COUNT=6",
        ),
        "cancelled": make_event(
            title="取消了的讲座", starts_at=now + timedelta(days=5)
        ),
    }
    for i in range(24):
        make_event(title=f"讲座{i:02d}", starts_at=now + timedelta(days=6, hours=7 * i))
    for i in range(4):
        make_event(title=f"旧讲座{i}", starts_at=now - timedelta(days=3 + i))
    teacher1, teacher2 = world["teacher1"], world["teacher2"]
    registered(teacher2, events["full"])
    registered(teacher1, events["full"])  # waitlisted
    registered(teacher1, events["soon"])
    registered(teacher2, events["series"])  # places in stored sessions
    registered(teacher1, events["cancelled"])
    with db.session.begin():
        cancel_registration(
            db.session.get_one(User, teacher1.id),
            db.session.get_one(Event, events["cancelled"].id),
            datetime(2020, 1, 3, tzinfo=UTC),
        )
    return events


PATHS = [
    "/events/",
    "/events/?page=2",
    "/events/?kind=seminar",
    f"/events/?month={utcnow().astimezone(SHANGHAI):%Y-%m}",
]


def _visit_all(app, client, label: str) -> str:
    """Every path, twice, each checked (_list); the first path's page."""
    pages = [_list(app, client, path, f"{label}, {visit}")
             for visit in ("first", "again") for path in PATHS]  # fmt: skip
    return pages[0]


def _set_locale(app, world, locale: str) -> None:
    with app.app_context():
        for name in ("teacher1", "teacher2", "staff1"):
            db.session.get_one(User, world[name].id).locale = locale
        db.session.commit()


@pytest.mark.parametrize("locale", ["zh_Hans_CN", "en"])
def test_the_list_is_the_plain_lists_bytes_through_changes(
    app, client, auth, world, make_event, registered, locale
) -> None:
    with app.app_context():
        events = _world(make_event, registered, world, utcnow())
    _set_locale(app, world, locale)
    firsts = {}
    for name in ("teacher1", "teacher2", "staff1"):
        _as(client, auth, name)
        firsts[name] = _visit_all(app, client, name)
    first = firsts["teacher1"]
    assert ("Association events" in first) == (locale == "en")
    assert "明天 &lt;讲座&gt; &amp; 研讨" in first
    assert first.count('class="badge text-bg-success"') == 1  # not the cancelled
    assert first.count('class="badge text-bg-warning"') == 1  # waitlisted

    _as(client, auth, "teacher1")
    registered(world["teacher1"], events["online"])  # a new registration
    _visit_all(app, client, "registered")
    with app.app_context(), db.session.begin():  # a cancelled registration
        cancel_registration(
            db.session.get_one(User, world["teacher1"].id),
            db.session.get_one(Event, events["soon"].id),
            utcnow(),
        )
    _visit_all(app, client, "cancelled registration")
    with app.app_context(), db.session.begin():  # a cancelled session
        series = db.session.get_one(Event, events["series"].id)
        upcoming = next_session(list_sessions(series), utcnow())
        assert upcoming is not None
        cancel_one_session(series, upcoming.key, None, utcnow())
    _visit_all(app, client, "cancelled session")
    with app.app_context():  # a changed event
        db.session.get_one(Event, events["online"].id).title = "改名的讲座"
        db.session.commit()
    _visit_all(app, client, "renamed")
    _as(client, auth, "teacher2")  # another user
    _visit_all(app, client, "teacher2 after")
    other = "zh_Hans_CN" if locale == "en" else "en"
    client.post("/language", data={"locale": other})  # a language switch
    switched = _visit_all(app, client, "switched")
    assert ("Association events" in switched) == (other == "en")


def test_a_changed_seat_count_or_status_shows_on_the_next_request(
    app, client, auth, world, make_event, registered
) -> None:
    event = make_event(title="讲座", capacity=2, starts_at=utcnow() + timedelta(days=1))
    _set_locale(app, world, "en")
    _as(client, auth, "teacher1")
    assert "2 of 2 seats left" in _list(app, client)
    registered(world["teacher2"], event)  # someone else's registration
    page = _list(app, client)
    assert "1 of 2 seats left" in page
    assert 'class="badge text-bg-success"' not in page
    registered(world["teacher1"], event)
    page = _list(app, client)
    assert "Full" in page
    assert 'class="badge text-bg-success"' in page
    _as(client, auth, "teacher2")
    assert 'class="badge text-bg-success"' in _list(app, client)
    _as(client, auth, "staff1")
    assert 'class="badge text-bg-success"' not in _list(app, client)


def test_a_past_event_is_drawn_as_past(app, client, auth, world, make_event) -> None:
    make_event(
        title="旧讲座",
        starts_at=datetime(2020, 3, 1, 1, tzinfo=UTC),
        ends_at=datetime(2020, 3, 1, 3, tzinfo=UTC),
    )
    _as(client, auth, "teacher1")
    assert "text-body-secondary" in _list(app, client)
