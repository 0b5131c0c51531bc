"""Outcome notifications about events and sessions: each sent once.

waitlist_promoted, attendance_credited, event_changed and event_cancelled go
through the outbox with an idempotency key: running the same step again plans
nothing new, and the dispatcher delivers each once.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from pdtracker.auth.models import User
from pdtracker.events import notices
from pdtracker.events.attendance import mark_session_attended
from pdtracker.events.errors import EventError
from pdtracker.events.models import Event, Registration
from pdtracker.events.places import promote_waitlisted
from pdtracker.events.registrations import cancel_session, register
from pdtracker.events.services import (
    EventData,
    cancel_event,
    create_event,
    publish_event,
    update_event,
)
from pdtracker.events.session_changes import cancel_one_session, move_session
from pdtracker.events.sessions import list_sessions
from pdtracker.extensions import db
from pdtracker.notifications.dispatch import dispatch_due
from pdtracker.notifications.models import Notification

T0 = datetime(2026, 2, 1, tzinfo=UTC)
FIRST = datetime(2026, 3, 4, 6, 0, tzinfo=UTC)


def _data(**fields) -> EventData:
    fields.setdefault("rrule", "FREQ=WEEKLY;COUNT=4")
    return EventData(
        kind_code="seminar",
        title="教学能力提升研讨会",
        starts_at=FIRST,
        ends_at=FIRST + timedelta(minutes=90),
        credited_hours=Decimal("1.5"),
        **fields,
    )


def _event(**fields) -> Event:
    event = create_event(_data(**fields), None, T0)
    publish_event(event, None, T0)
    return event


def _user(id_: int) -> User:
    return db.session.get_one(User, id_)


def _count(kind: str, teacher_id: int | None = None) -> int:
    query = (
        select(func.count()).select_from(Notification).where(Notification.kind == kind)
    )
    if teacher_id is not None:
        query = query.where(Notification.recipient_id == teacher_id)
    return db.session.scalar(query) or 0


@pytest.fixture
def two(make_user) -> tuple[User, User]:
    return make_user("t1"), make_user("t2")


def test_promotion_is_told_once(two, ctx) -> None:
    a, b = two
    event = _event(capacity=1)
    key = list_sessions(event)[0].key
    register(_user(a.id), event, T0, keys=[key])
    register(_user(b.id), event, T0, keys=[key])
    cancel_session(_user(a.id), event, key, T0 + timedelta(hours=1))
    assert _count("waitlist_promoted", b.id) == 1
    promote_waitlisted(event, T0 + timedelta(hours=2))  # again: nobody waits
    assert _count("waitlist_promoted") == 1


def test_attendance_credit_is_told_once_per_session(two, ctx) -> None:
    a, _b = two
    event = _event()
    keys = [s.key for s in list_sessions(event)]
    register(_user(a.id), event, T0)
    later = FIRST + timedelta(weeks=1, hours=1)
    for key in keys[:2]:
        mark_session_attended(None, event, key, _user(a.id), "manual", later)
        mark_session_attended(None, event, key, _user(a.id), "checkin", later)
    assert _count("attendance_credited", a.id) == 2
    payloads = db.session.scalars(
        select(Notification.payload).where(Notification.kind == "attendance_credited")
    ).all()
    assert {p["credit"] for p in payloads} == {"1.5"}
    assert all(p.get("activity_id") for p in payloads)


def test_moving_a_session_tells_its_teachers_once_per_change(two, ctx) -> None:
    a, b = two
    event = _event()
    keys = [s.key for s in list_sessions(event)]
    register(_user(a.id), event, T0, keys=[keys[1]])
    register(_user(b.id), event, T0, keys=[keys[2]])  # another session: not told
    start = FIRST + timedelta(weeks=1, days=1)
    end = start + timedelta(hours=1)
    assert move_session(event, keys[1], start, end, "502", None, T0)
    assert not move_session(event, keys[1], start, end, "502", None, T0)
    assert (_count("event_changed", a.id), _count("event_changed", b.id)) == (1, 0)
    move_session(event, keys[1], start, end, "503", None, T0 + timedelta(hours=1))
    assert _count("event_changed", a.id) == 2  # a second change is news


def test_cancelling_a_session_tells_once(two, ctx) -> None:
    a, _b = two
    event = _event()
    keys = [s.key for s in list_sessions(event)]
    register(_user(a.id), event, T0)
    cancel_one_session(event, keys[2], None, T0)
    with pytest.raises(EventError) as exc:
        cancel_one_session(event, keys[2], None, T0)
    assert exc.value.code == "session_cancelled"
    row = next(s for s in list_sessions(event) if s.key == keys[2])
    assert row.is_cancelled
    assert _count("event_cancelled", a.id) == 1


def test_a_session_cancelled_is_told_only_to_those_holding_it(
    two, make_user, ctx
) -> None:
    a, b = two
    c = make_user("t3")
    event = _event()
    keys = [s.key for s in list_sessions(event)]
    register(_user(a.id), event, T0, keys=[keys[2]])
    register(_user(b.id), event, T0, keys=[keys[1]])  # another session only
    register(_user(c.id), event, T0, keys=[keys[1], keys[2]])
    cancel_session(_user(c.id), event, keys[2], T0 + timedelta(hours=1))  # gave up
    cancel_one_session(event, keys[2], None, T0 + timedelta(hours=2))
    told = [_count("event_cancelled", t.id) for t in (a, b, c)]
    assert told == [1, 0, 0]


def test_moving_a_session_tells_a_registration_made_before_sessions(two, ctx) -> None:
    a, _b = two
    event = _event()
    keys = [s.key for s in list_sessions(event)]
    # A registration from before sessions existed holds the whole series.
    db.session.add(
        Registration(event_id=event.id, teacher_id=a.id, status="registered",
                     queued_at=T0, created_at=T0, updated_at=T0)
    )  # fmt: skip
    db.session.flush()
    start = FIRST + timedelta(weeks=1, days=1)
    move_session(event, keys[1], start, start + timedelta(hours=1), None, None, T0)
    assert _count("event_changed", a.id) == 1


def test_whole_event_changed_or_cancelled_tells_registrants_once(two, ctx) -> None:
    a, b = two
    event = _event(rrule=None)
    register(_user(a.id), event, T0)
    moved = _data(rrule=None, location="新地点")
    assert update_event(event, moved, None, T0 + timedelta(hours=1))
    registrants = [a.id]
    previous = (event.starts_at, event.ends_at, None)
    assert notices.event_changed(event, registrants, T0, previous) == 0  # same key
    cancel_event(event, None, T0 + timedelta(hours=2))
    assert _count("event_changed", a.id) == 1
    assert _count("event_cancelled", a.id) == 1
    assert _count("event_cancelled", b.id) == 0


def test_dispatch_delivers_each_once(app, two, ctx) -> None:
    a, _b = two
    event = _event(capacity=1)
    keys = [s.key for s in list_sessions(event)]
    register(_user(a.id), event, T0)
    mark_session_attended(None, event, keys[0], _user(a.id), "manual", FIRST)
    cancel_one_session(event, keys[3], None, FIRST)
    event_id = event.id
    db.session.commit()
    dispatch_due(FIRST + timedelta(minutes=1))

    def sent() -> list[str]:
        return sorted(
            db.session.scalars(
                select(Notification.kind).where(Notification.status == "sent")
            )
        )

    assert sent() == ["attendance_credited", "event_cancelled"]
    event = db.session.get_one(Event, event_id)
    mark_session_attended(None, event, keys[0], _user(a.id), "manual", FIRST)
    db.session.commit()
    dispatch_due(FIRST + timedelta(minutes=2))  # the second run: nothing new
    assert sent() == ["attendance_credited", "event_cancelled"]
    assert db.session.scalar(select(func.count()).select_from(Notification)) == 2
