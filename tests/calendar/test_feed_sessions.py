"""A series in the feeds: sessions held, one moved, one cancelled, one waitlisted.

docs/calendar-feeds.md F19 (overrides with their own RECURRENCE-ID and SEQUENCE)
and F20 (a teacher's feed lists only the sessions they hold, TENTATIVE while
waitlisted, CONFIRMED once promoted). Every parser (ical.js and libical included)
must read the same occurrences.
"""

from __future__ import annotations

import re
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from pdtracker.auth.models import User
from pdtracker.calendar.models import FeedScope
from pdtracker.events.models import Event
from pdtracker.events.registrations import cancel_session, register
from pdtracker.events.session_changes import cancel_one_session, move_session
from pdtracker.events.sessions import list_sessions
from pdtracker.extensions import db
from pdtracker.notifications.models import Notification
from pdtracker.timeutil import utcnow
from tests.calendar.conftest import PARSERS
from tests.calendar.feedkit import FeedKit, get, soon, window_dates

Z = "%Y-%m-%dT%H:%M:%SZ"
# These harnesses expand each VEVENT on its own (tests/interop): they read the
# overrides, but do not take the overridden occurrences out of the master.
PER_COMPONENT = ("libical", "vobject")


def _check(name: str, events: list[dict], expected: dict) -> None:
    """The occurrences a parser reports are the expected ones (see PER_COMPONENT)."""
    if name in PER_COMPONENT:
        triples = {(e["start_utc"], e["end_utc"], e["status"]) for e in events}
        assert {(*k, v) for k, v in expected.items()} <= triples
        return
    seen = {(e["start_utc"], e["end_utc"]): e["status"] for e in events}
    assert len(seen) == len(events)
    assert seen == expected


@pytest.fixture
def series(app, world):
    """A weekly series of 6 (one seat each); teacher2 holds the second session."""
    kit = FeedKit(app)
    t1, t2 = world["teacher1"], world["teacher2"]
    start = soon(3, 14)
    event = kit.event(
        kind_code="seminar", title="每周教研研讨", starts_at=start,
        ends_at=start + timedelta(minutes=90), rrule="FREQ=WEEKLY;COUNT=6",
        capacity=1,
    )  # fmt: skip
    with app.app_context():
        row = db.session.get_one(Event, event.id)
        keys = [s.key for s in list_sessions(row)]
        now = utcnow()
        register(db.session.get_one(User, t2.id), row, now, keys=[keys[1]])
        register(db.session.get_one(User, t1.id), row, now)  # waits for the 2nd
        cancel_session(db.session.get_one(User, t1.id), row, keys[4], now)
        move_session(
            row, keys[2], row.starts_at + timedelta(days=15),
            row.starts_at + timedelta(days=15, hours=2), "实训楼 502", None, now,
        )  # fmt: skip
        cancel_one_session(row, keys[3], None, now)
        db.session.commit()
    return kit, event, keys


def _occ(event: Event, week: int, hours: float = 1.5, days: int = 0) -> tuple:
    start = event.starts_at + timedelta(weeks=week, days=days)
    return start.strftime(Z), (start + timedelta(hours=hours)).strftime(Z)


def _feed(kit: FeedKit, user) -> bytes:
    response = get(kit.app, kit.url(user))
    assert response.status_code == 200
    return response.data


@pytest.mark.interop
@pytest.mark.parametrize("name", PARSERS)
def test_teacher_feed_lists_held_sessions_with_overrides(
    series, world, parsers, name: str
) -> None:
    kit, event, _keys = series
    data = _feed(kit, world["teacher1"])
    result = parsers(name)(data, window_dates())
    assert result.problems == []
    mine = [e for e in result.events if e["uid"] == event.uid]
    expected = {
        _occ(event, 0): "CONFIRMED",
        _occ(event, 1): "TENTATIVE",  # waitlisted for the second session
        _occ(event, 0, hours=2, days=15): "CONFIRMED",  # the third, moved
        _occ(event, 3): "CANCELLED",  # the fourth, cancelled by staff
        _occ(event, 5): "CONFIRMED",  # the fifth is left out: the teacher gave it up
    }
    _check(name, mine, expected)
    assert _occ(event, 4)[0] not in {e["start_utc"] for e in mine}


def test_overrides_carry_recurrence_id_and_their_own_sequence(series, world) -> None:
    kit, event, keys = series
    text = _feed(kit, world["teacher1"]).decode().replace("\r\n ", "")
    blocks = re.findall(r"BEGIN:VEVENT.*?END:VEVENT", text, re.S)
    mine = [b for b in blocks if f"UID:{event.uid}" in b]
    master = next(b for b in mine if "RRULE:" in b)
    # F20: the session given up is an EXDATE in DTSTART's zone.
    fifth = (event.starts_at + timedelta(weeks=4)).astimezone(ZoneInfo("Asia/Shanghai"))
    assert f"EXDATE;TZID=Asia/Shanghai:{fifth:%Y%m%dT%H%M%S}" in master
    overrides = {
        re.search(r"RECURRENCE-ID;TZID=Asia/Shanghai:(\S+)", b).group(1): b
        for b in mine
        if "RECURRENCE-ID" in b
    }
    assert len(overrides) == 3
    moved = next(b for b in overrides.values() if "实训楼 502" in b)
    assert "SEQUENCE:1" in moved
    assert "STATUS:CONFIRMED" in moved
    cancelled = next(b for b in overrides.values() if "STATUS:CANCELLED" in b)
    assert "SEQUENCE:1" in cancelled
    waiting = next(b for b in overrides.values() if "STATUS:TENTATIVE" in b)
    assert "SEQUENCE:0" in waiting


def test_promotion_turns_the_session_confirmed_and_tells_once(
    app, series, world, parsers
) -> None:
    kit, event, keys = series
    t1, t2 = world["teacher1"], world["teacher2"]
    with app.app_context():
        row = db.session.get_one(Event, event.id)
        cancel_session(db.session.get_one(User, t2.id), row, keys[1], utcnow())
        db.session.commit()
    kit.clear_cache()
    events = parsers("icalendar")(_feed(kit, t1), window_dates()).events
    second = [e for e in events if e["start_utc"] == _occ(event, 1)[0]]
    assert [e["status"] for e in second] == ["CONFIRMED"]
    with app.app_context():
        kinds = db.session.scalars(
            select(Notification.kind).where(Notification.recipient_id == t1.id)
        ).all()
    assert kinds.count("waitlist_promoted") == 1
    assert kinds.count("event_changed") == 1  # the moved session
    assert kinds.count("event_cancelled") == 1  # the cancelled one


def test_a_teacher_sees_only_the_session_they_chose(series, world, parsers) -> None:
    kit, event, _keys = series
    events = parsers("icalendar")(_feed(kit, world["teacher2"]), window_dates()).events
    mine = [e for e in events if e["uid"] == event.uid]
    assert [(e["start_utc"], e["status"]) for e in mine] == [
        (_occ(event, 1)[0], "CONFIRMED")
    ]


@pytest.mark.interop
@pytest.mark.parametrize("name", PARSERS)
def test_public_feed_shows_the_moved_and_cancelled_sessions(
    series, parsers, name: str
) -> None:
    _kit, event, _keys = series
    response = get(_kit.app, "/calendar/association.ics")
    result = parsers(name)(response.data, window_dates())
    assert result.problems == []
    mine = [e for e in result.events if e["uid"] == event.uid]
    expected = {_occ(event, week): "CONFIRMED" for week in (0, 1, 4, 5)}
    expected[_occ(event, 0, hours=2, days=15)] = "CONFIRMED"
    expected[_occ(event, 3)] = "CANCELLED"
    _check(name, mine, expected)


def test_a_waitlisted_single_event_turns_confirmed_on_promotion(
    app, world, parsers
) -> None:
    kit = FeedKit(app)
    t1, t2 = world["teacher1"], world["teacher2"]
    event = kit.event(title="名额有限的工作坊", starts_at=soon(6, 9), capacity=1)
    kit.register(t2, event)
    kit.register(t1, event)  # waitlisted

    def status() -> list[str]:
        found = parsers("icalendar")(_feed(kit, t1), window_dates()).events
        return [e["status"] for e in found if e["uid"] == event.uid]

    assert status() == ["TENTATIVE"]
    kit.unregister(t2, event)
    kit.clear_cache()
    assert status() == ["CONFIRMED"]


@pytest.mark.interop
@pytest.mark.parametrize("name", ["icalendar", "icaljs", "libical"])
def test_a_department_feed_lists_the_sessions_its_teachers_hold(
    app, world, make_user, parsers, name: str
) -> None:
    """Not every session of the series: those the department's teachers registered
    for (waitlisted ones TENTATIVE); a session held only elsewhere is left out."""
    kit = FeedKit(app)
    outsider = make_user("outsider", department=world["other"])
    start = soon(4, 14)
    event = kit.event(
        kind_code="seminar", title="每周教研研讨", starts_at=start,
        ends_at=start + timedelta(minutes=90), rrule="FREQ=WEEKLY;COUNT=5",
        capacity=1,
    )  # fmt: skip
    with app.app_context():
        row = db.session.get_one(Event, event.id)
        keys = [s.key for s in list_sessions(row)]
        now = utcnow()

        def take(user, *chosen: int) -> None:
            register(db.session.get_one(User, user.id), row, now,
                     keys=[keys[i] for i in chosen])  # fmt: skip

        take(outsider, 3)
        take(world["teacher2"], 1)
        take(world["teacher1"], 1, 4)  # waits for the 2nd
        db.session.commit()
    response = get(app, kit.url(world["head1"], FeedScope.DEPARTMENT))
    assert response.status_code == 200
    result = parsers(name)(response.data, window_dates())
    assert result.problems == []
    mine = [e for e in result.events if e["uid"] == event.uid]
    seen = {e["start_utc"]: e["status"] for e in mine}
    if name in PER_COMPONENT:  # see PER_COMPONENT
        assert seen[_occ(event, 4)[0]] == "CONFIRMED"
        assert _occ(event, 3)[0] not in seen
        assert _occ(event, 0)[0] not in seen
        return
    assert seen == {_occ(event, 1)[0]: "CONFIRMED", _occ(event, 4)[0]: "CONFIRMED"}
