"""The event list is the same bytes as the list worked out plainly, every time.

Every request of ``/events/`` here is also drawn with the list template as it was
before anything was kept (``REFERENCE`` of test_list_render.py), from a context
this module works out on its own, the plain way: every published event read as
it is now, sorted by its next session, the seats and the user's registrations
counted. The two pages must be the same bytes (CSRF tokens masked), in Chinese
and English, for a teacher and for staff, on several pages and filters, on the
first visit and the next ones, and after each kind of change: a new
registration, a cancelled registration, a cancelled session, a changed event,
another user, a language switch.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import flask
import pytest
from flask_login import current_user
from sqlalchemy import select

from pdtracker.auth.models import Role, User
from pdtracker.events import views as event_views
from pdtracker.events.forms import kind_choices, parse_month
from pdtracker.events.listing import ListPage
from pdtracker.events.models import EVENT_KINDS, Event, EventStatus
from pdtracker.events.registrations import cancel_registration
from pdtracker.events.roster import registrations_of, seat_counts, session_counts
from pdtracker.events.services import month_bounds
from pdtracker.events.session_changes import cancel_one_session
from pdtracker.events.sessions import list_sessions, next_session
from pdtracker.extensions import db
from pdtracker.main.paging import page_number
from pdtracker.timeutil import SHANGHAI, to_local, utcnow
from tests.events.test_list_render import REFERENCE


def reference_context(now: datetime) -> dict[str, Any]:
    """What the list template was drawn from, worked out without anything kept."""
    args = flask.request.args
    kind = args.get("kind") if args.get("kind") in EVENT_KINDS else None
    month = parse_month(args.get("month"))
    bounds = month_bounds(*month, current_user.timezone) if month else None
    events = list(
        db.session.scalars(select(Event).where(Event.status == EventStatus.PUBLISHED))
    )
    if kind:
        events = [e for e in events if e.kind_code == kind]
    if bounds:
        events = [
            e
            for e in events
            if e.starts_at < bounds[1]
            and (e.series_ends_at is None or e.series_ends_at > bounds[0])
        ]
    upcoming = [
        e for e in events if e.series_ends_at is None or e.series_ends_at >= now
    ]
    past = [e for e in events if e not in upcoming]
    nexts = {
        e.id: next_session(list_sessions(e), now) if e.is_series else None
        for e in upcoming
    }
    upcoming.sort(
        key=lambda e: ((nexts[e.id].starts_at if nexts[e.id] else e.starts_at), e.id)  # type: ignore[union-attr]
    )
    past.sort(key=lambda e: (-e.starts_at.timestamp(), e.id))
    number = page_number()
    start = (number - 1) * event_views.PER_PAGE
    items = (upcoming + past)[start : start + event_views.PER_PAGE]
    page = ListPage(
        items=items,
        page=number,
        per_page=event_views.PER_PAGE,
        total=len(events),
        next_sessions={e.id: nexts.get(e.id) for e in items},
    )
    counts = seat_counts(e.id for e in items)
    for event in items:
        found = page.next_sessions.get(event.id)
        if found is not None:
            if found.session_id is None:
                counts[event.id] = (0, 0)
            else:
                counts[event.id] = session_counts([found.session_id])[found.session_id]
    mine = (
        registrations_of(current_user, [e.id for e in items])
        if current_user.has_role(Role.TEACHER)
        else {}
    )
    month_text = f"{month[0]:04d}-{month[1]:02d}" if month else ""
    local = to_local(now, current_user.timezone)
    this = month or (local.year, local.month)
    return {
        "page": page,
        "counts": counts,
        "mine": mine,
        "next_sessions": page.next_sessions,
        "kinds": kind_choices(),
        "kind": kind or "",
        "month": month_text,
        "months": event_views._neighbour_months(this),
        "now": now,
    }


def masked(text: str) -> str:
    """The page with its CSRF tokens masked (they are signed with the time)."""
    return re.sub(r'name="csrf_token" value="[^"]*"', "csrf", text)


@pytest.fixture
def checked(monkeypatch) -> list[tuple[str, str]]:
    """Each list page with the reference drawn in the same request."""
    pairs: list[tuple[str, str]] = []
    real = event_views.render_template

    def both(name: str, **context: Any) -> str:
        page = real(name, **context)
        if name == "events/index.html":
            reference = flask.render_template_string(
                REFERENCE, **reference_context(utcnow())
            )
            pairs.append((page, reference))
        return page

    monkeypatch.setattr(event_views, "render_template", both)
    return pairs


def _as(auth, name: str) -> None:
    auth.logout()
    auth.login(name)


def _world(make_event, registered, world) -> dict[str, Event]:
    now = utcnow()
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
        ),
        "series": make_event(
            title="每周研讨",
            kind_code="seminar",
            starts_at=now - timedelta(weeks=2) + timedelta(hours=30),
            ends_at=now - timedelta(weeks=2) + timedelta(hours=31, minutes=30),
            rrule="FREQ=WEEKLY;COUNT=6",
        ),
    }
    for i in range(24):
        make_event(title=f"讲座{i:02d}", starts_at=now + timedelta(days=6, hours=7 * i))
    for i in range(4):
        make_event(title=f"旧讲座{i}", starts_at=now - timedelta(days=3 + i))
    registered(world["teacher2"], events["full"])
    registered(world["teacher1"], events["full"])  # waitlisted
    registered(world["teacher1"], events["soon"])
    registered(world["teacher2"], events["series"])  # places in stored sessions
    return events


PATHS = [
    "/events/",
    "/events/?page=2",
    "/events/?kind=seminar",
    f"/events/?month={utcnow().astimezone(SHANGHAI):%Y-%m}",
]


def _visit_all(client, checked, label: str) -> None:
    for visit in ("first", "again"):
        for path in PATHS:
            before = len(checked)
            client.get(path)
            assert len(checked) == before + 1, path
            page, reference = checked[-1]
            assert masked(page) == masked(reference), (label, visit, path)


def _set_locale(app, world, locale: str) -> None:
    with app.app_context():
        for name in ("teacher1", "teacher2", "staff1"):
            db.session.get_one(User, world[name].id).locale = locale
        db.session.commit()


@pytest.mark.parametrize("locale", ["zh_Hans_CN", "en"])
def test_the_list_is_the_plain_lists_bytes_through_changes(
    app, client, auth, world, make_event, registered, checked, locale
) -> None:
    events = _world(make_event, registered, world)
    _set_locale(app, world, locale)
    for name in ("teacher1", "teacher2", "staff1"):
        _as(auth, name)
        _visit_all(client, checked, name)
    first = checked[0][0]
    assert ("Association events" in first) == (locale == "en")
    assert "明天 &lt;讲座&gt; &amp; 研讨" in first

    _as(auth, "teacher1")
    registered(world["teacher1"], events["online"])  # a new registration
    _visit_all(client, checked, "registered")
    with app.app_context(), db.session.begin():  # a cancelled registration
        cancel_registration(
            db.session.get_one(User, world["teacher1"].id),
            db.session.get_one(Event, events["soon"].id),
            utcnow(),
        )
    _visit_all(client, checked, "cancelled registration")
    with app.app_context(), db.session.begin():  # a cancelled session
        series = db.session.get_one(Event, events["series"].id)
        upcoming = next_session(list_sessions(series), utcnow())
        assert upcoming is not None
        cancel_one_session(series, upcoming.key, None, utcnow())
    _visit_all(client, checked, "cancelled session")
    with app.app_context():  # a changed event
        db.session.get_one(Event, events["online"].id).title = "改名的讲座"
        db.session.commit()
    _visit_all(client, checked, "renamed")
    _as(auth, "teacher2")  # another user
    _visit_all(client, checked, "teacher2 after")
    other = "zh_Hans_CN" if locale == "en" else "en"
    client.post("/language", data={"locale": other})  # a language switch
    _visit_all(client, checked, "switched")
    assert ("Association events" in checked[-1][0]) == (other == "en")


def test_a_changed_seat_count_or_status_shows_on_the_next_request(
    app, client, auth, world, make_event, registered, checked
) -> None:
    event = make_event(title="讲座", capacity=2, starts_at=utcnow() + timedelta(days=1))
    _set_locale(app, world, "en")
    _as(auth, "teacher1")
    assert "2 of 2 seats left" in client.get("/events/").text
    registered(world["teacher2"], event)  # someone else's registration
    page = client.get("/events/").text
    assert "1 of 2 seats left" in page
    assert 'class="badge text-bg-success"' not in page
    registered(world["teacher1"], event)
    page = client.get("/events/").text
    assert "Full" in page
    assert 'class="badge text-bg-success"' in page
    _as(auth, "teacher2")
    assert 'class="badge text-bg-success"' in client.get("/events/").text
    _as(auth, "staff1")
    assert 'class="badge text-bg-success"' not in client.get("/events/").text
    for page, reference in checked:
        assert masked(page) == masked(reference)


def test_a_past_event_is_drawn_as_past(
    app, client, auth, world, make_event, checked
) -> None:
    make_event(
        title="旧讲座",
        starts_at=datetime(2020, 3, 1, 1, tzinfo=UTC),
        ends_at=datetime(2020, 3, 1, 3, tzinfo=UTC),
    )
    _as(auth, "teacher1")
    assert "text-body-secondary" in client.get("/events/").text
    page, reference = checked[-1]
    assert masked(page) == masked(reference)
