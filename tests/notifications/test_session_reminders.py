"""Event-tomorrow reminders per session: a teacher hears of the sessions they hold.

Issue 15: a teacher registers for a series or for chosen sessions and can cancel
one. The reminder the day before goes for each session the teacher holds a seat
in (not a session they did not choose, cancelled, or wait for), once per session,
at the session's own time and place when it was moved, and not at all when the
session is cancelled. The e-mail's .ics is that session.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from icalendar import Calendar

from pdtracker.auth.models import User
from pdtracker.events.models import Event
from pdtracker.events.registrations import cancel_session, register
from pdtracker.events.session_changes import cancel_one_session, move_session
from pdtracker.events.sessions import list_sessions
from pdtracker.extensions import db
from pdtracker.notifications.dispatch import dispatch_due
from pdtracker.notifications.planners import plan_reminders
from tests.notifications.conftest import NOW, rows

FIRST = datetime(2026, 3, 10, 6, 30, tzinfo=UTC)  # Tuesdays 14:30 in Shanghai
WEEK = timedelta(days=7)


def _series(make_event, **fields) -> int:
    return make_event(
        starts_at=FIRST, ends_at=FIRST + timedelta(hours=2),
        rrule="FREQ=WEEKLY;COUNT=4", **fields,
    )  # fmt: skip


def _keys(app, event_id: int) -> list[str]:
    with app.app_context():
        return [s.key for s in list_sessions(db.session.get_one(Event, event_id))]


def _register(app, teacher, event_id: int, keys: list[str] | None) -> None:
    with app.app_context():
        register(
            db.session.get_one(User, teacher.id),
            db.session.get_one(Event, event_id),
            NOW - timedelta(days=5),
            keys=keys,
        )
        db.session.commit()


def _planned(app) -> set[tuple[int, str]]:
    """(recipient, session start) of the pending event-tomorrow reminders."""
    return {
        (r.recipient_id, r.payload["starts_at"])
        for r in rows(app)
        if r.kind == "event_tomorrow" and r.status == "pending"
    }


def _plan_each_week(app) -> None:
    with app.app_context():
        for week in range(4):
            plan_reminders(NOW - timedelta(hours=1) + week * WEEK)


def test_a_teacher_is_reminded_only_of_the_sessions_they_chose(
    app, world, make_event
) -> None:
    event_id = _series(make_event)
    keys = _keys(app, event_id)
    t1, t2 = world["teacher1"], world["teacher2"]
    _register(app, t1, event_id, [keys[0], keys[2]])
    _register(app, t2, event_id, None)  # the whole series...
    with app.app_context():  # ...then gives up the first session
        cancel_session(
            db.session.get_one(User, t2.id),
            db.session.get_one(Event, event_id),
            keys[0],
            NOW - timedelta(days=4),
        )
        db.session.commit()
    _plan_each_week(app)
    starts = [(FIRST + n * WEEK).isoformat() for n in range(4)]
    assert _planned(app) == {
        (t1.id, starts[0]),
        (t1.id, starts[2]),
        (t2.id, starts[1]),
        (t2.id, starts[2]),
        (t2.id, starts[3]),
    }


def test_a_waitlisted_session_is_not_reminded(app, world, make_event) -> None:
    event_id = _series(make_event, capacity=1)
    keys = _keys(app, event_id)
    _register(app, world["teacher1"], event_id, [keys[0]])
    _register(app, world["teacher2"], event_id, [keys[0], keys[1]])  # waits for 1st
    _plan_each_week(app)
    assert _planned(app) == {
        (world["teacher1"].id, FIRST.isoformat()),
        (world["teacher2"].id, (FIRST + WEEK).isoformat()),
    }


def test_each_session_is_reminded_once_under_its_own_key(
    app, world, make_event
) -> None:
    event_id = _series(make_event)
    keys = _keys(app, event_id)
    _register(app, world["teacher1"], event_id, None)
    with app.app_context():
        assert plan_reminders(NOW - timedelta(hours=2))["planned"] == 1
        assert plan_reminders(NOW - timedelta(hours=1))["planned"] == 0
        assert dispatch_due(NOW)["sent"] == 1
        assert plan_reminders(NOW + timedelta(hours=1))["planned"] == 0
    (row,) = rows(app)
    assert row.idempotency_key.endswith(f":{keys[0]}")


def test_a_moved_session_is_reminded_at_its_new_time_and_place(
    app, world, make_event, smtp
) -> None:
    event_id = _series(make_event)
    keys = _keys(app, event_id)
    _register(app, world["teacher1"], event_id, [keys[1]])
    moved = FIRST + WEEK + timedelta(days=2)  # Thursday instead of Tuesday
    with app.app_context():
        event = db.session.get_one(Event, event_id)
        move_session(event, keys[1], moved, moved + timedelta(hours=1), "实训楼 502",
                     None, NOW - timedelta(days=1))  # fmt: skip
        db.session.commit()
        plan_reminders(NOW + WEEK - timedelta(hours=1))  # the old day before: none
        assert _planned(app) == set()
        plan_reminders(NOW + WEEK + timedelta(days=2) - timedelta(hours=1))
        (row,) = [r for r in rows(app) if r.kind == "event_tomorrow"]
        assert row.due_at == NOW + WEEK + timedelta(days=2)
        assert row.stale_after == moved
        assert row.payload["location"] == "实训楼 502"
        dispatch_due(NOW + WEEK + timedelta(days=2))
    # The reminder, and the notice of the change: each attaches the session as it is.
    attached = [list(m.iter_attachments()) for m in smtp.received()]
    assert len(attached) == 2
    for (part,) in attached:
        (entry,) = Calendar.from_ical(part.get_payload(decode=True)).walk("VEVENT")
        assert entry.decoded("DTSTART") == moved
        assert entry.decoded("DTEND") == moved + timedelta(hours=1)
        assert str(entry["LOCATION"]) == "实训楼 502"
        assert int(entry["SEQUENCE"]) == 1  # the session's change is a new version
        assert "20260317T063000Z" in str(entry["UID"])  # the session's stable UID


def test_a_cancelled_session_is_not_reminded(app, world, make_event) -> None:
    event_id = _series(make_event)
    keys = _keys(app, event_id)
    _register(app, world["teacher1"], event_id, None)
    with app.app_context():
        plan_reminders(NOW - timedelta(hours=3))
        cancel_one_session(db.session.get_one(Event, event_id), keys[0], None,
                           NOW - timedelta(hours=2))  # fmt: skip
        db.session.commit()
        assert plan_reminders(NOW - timedelta(hours=1))["cancelled"] == 1
    _plan_each_week(app)
    assert _planned(app) == {
        (world["teacher1"].id, (FIRST + n * WEEK).isoformat()) for n in (1, 2, 3)
    }


def test_a_session_given_up_after_the_last_tick_is_not_sent(
    app, world, make_event
) -> None:
    """The dispatcher asks the planner again: the session's key is no longer wanted."""
    event_id = _series(make_event)
    keys = _keys(app, event_id)
    _register(app, world["teacher1"], event_id, [keys[0], keys[1]])
    with app.app_context():
        plan_reminders(NOW - timedelta(hours=3))
        cancel_session(
            db.session.get_one(User, world["teacher1"].id),
            db.session.get_one(Event, event_id),
            keys[0],
            NOW - timedelta(minutes=1),
        )
        db.session.commit()
        assert dispatch_due(NOW)["sent"] == 0
    (reminder,) = [r for r in rows(app) if r.kind == "event_tomorrow"]
    assert (reminder.status, reminder.reason) == ("cancelled", "no_longer_due")
