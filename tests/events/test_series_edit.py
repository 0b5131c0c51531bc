"""Editing a series' schedule carries its stored sessions over to the new keys.

A session's key is its original start, so a new time or rule renames every
session. The places (seats, waitlist), attendance and moves stored on the old
sessions follow to the new ones (same date, else same position among the future
sessions); a session that no longer exists is cancelled and its teachers told.
The edit page says so before saving; past sessions keep their attendance.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from pdtracker.auth.models import User
from pdtracker.events.attendance import mark_session_attended
from pdtracker.events.models import (
    Event,
    EventSession,
    Registration,
    SessionRegistration,
)
from pdtracker.events.registrations import register
from pdtracker.events.services import EventData
from pdtracker.events.session_changes import cancel_one_session
from pdtracker.events.sessions import list_sessions
from pdtracker.events.sessions_remap import update_series
from pdtracker.extensions import db
from pdtracker.notifications.models import Notification
from pdtracker.timeutil import utcnow
from tests.calendar.feedkit import FeedKit, get, soon, window_dates
from tests.interop.pyparsers import parse_icalendar

Z = "%Y-%m-%dT%H:%M:%SZ"


def _series(kit: FeedKit, start: datetime, rrule: str) -> Event:
    return kit.event(
        kind_code="seminar", title="每周教研研讨", location="实训楼 301",
        starts_at=start, ends_at=start + timedelta(minutes=90), rrule=rrule,
    )  # fmt: skip


def _hold(app, teacher: User, event: Event, numbers: list[int]) -> None:
    with app.app_context():
        row = db.session.get_one(Event, event.id)
        keys = [s.key for s in list_sessions(row)]
        chosen = [keys[n] for n in numbers]
        register(db.session.get_one(User, teacher.id), row, utcnow(), keys=chosen)
        db.session.commit()


def _form(start: datetime, *, hour: int, weekday: int, count: int) -> dict:
    day = start.date().isoformat()
    return {
        "kind_code": "seminar", "title": "每周教研研讨", "description": "",
        "speakers": "", "location": "实训楼 301", "online_url": "",
        "tzid": "Asia/Shanghai", "start_date": day, "start_time": f"{hour:02}:00",
        "end_date": day, "end_time": f"{hour + 1:02}:30", "capacity": "",
        "registration_deadline": "", "credited_hours": "2", "repeat": "weekly",
        "interval": "1", "weekdays": [str(weekday)], "monthly": "date",
        "ends": "count", "count": str(count), "until": "", "exdates": "",
    }  # fmt: skip


def _held(app, event_id: int, teacher: User) -> dict[str, str]:
    """The teacher's places: session key -> status."""
    with app.app_context():
        rows = db.session.execute(
            select(EventSession.key, SessionRegistration.status)
            .join(
                SessionRegistration, SessionRegistration.session_id == EventSession.id
            )
            .join(Registration, Registration.id == SessionRegistration.registration_id)
            .where(
                EventSession.event_id == event_id,
                Registration.teacher_id == teacher.id,
            )
        )
        return {k: s for k, s in rows}


def _keys(app, event_id: int) -> list[str]:
    with app.app_context():
        return [s.key for s in list_sessions(db.session.get_one(Event, event_id))]


def _told(app, teacher: User, kind: str) -> int:
    with app.app_context():
        return (
            db.session.scalar(
                select(func.count())
                .select_from(Notification)
                .where(
                    Notification.recipient_id == teacher.id, Notification.kind == kind
                )
            )
            or 0
        )


def test_new_time_moves_the_places_after_a_confirmation(
    app, client, auth, world
) -> None:
    kit = FeedKit(app)
    t1 = world["teacher1"]
    start = soon(3, 14)
    event = _series(kit, start, "FREQ=WEEKLY;COUNT=4")
    _hold(app, t1, event, [0, 1])
    old_keys = _keys(app, event.id)
    auth.login("staff1")
    form = _form(start, hour=10, weekday=start.weekday(), count=4)

    page = client.post(f"/events/{event.id}/edit", data=form)
    assert page.status_code == 200  # asked first, nothing saved
    assert "2 个报名将转到新的场次。" in page.text  # the staff member's language
    assert 'name="confirm_sessions"' in page.text
    assert _keys(app, event.id) == old_keys
    assert set(_held(app, event.id, t1)) == set(old_keys[:2])

    preview = client.post(f"/events/{event.id}/edit", data={**form, "preview": "1"})
    assert "2 个报名将转到新的场次。" in preview.text

    saved = client.post(
        f"/events/{event.id}/edit", data={**form, "confirm_sessions": "1"}
    )
    assert saved.status_code == 302
    new_keys = _keys(app, event.id)
    assert new_keys != old_keys
    assert _held(app, event.id, t1) == {
        new_keys[0]: "registered",
        new_keys[1]: "registered",
    }
    assert _told(app, t1, "event_changed") == 1
    assert _told(app, t1, "event_cancelled") == 0

    kit.clear_cache()
    feed = get(app, kit.url(t1))
    mine = [
        e
        for e in parse_icalendar(feed.data, window_dates()).events
        if e["uid"] == event.uid
    ]
    ten = start.replace(hour=10)
    expected = [(ten + timedelta(weeks=w)).astimezone(UTC).strftime(Z) for w in (0, 1)]
    assert sorted(e["start_utc"] for e in mine) == expected
    assert {e["status"] for e in mine} == {"CONFIRMED"}


def test_new_weekday_maps_by_order_and_cancels_sessions_gone(
    app, client, auth, world
) -> None:
    kit = FeedKit(app)
    t1, t2 = world["teacher1"], world["teacher2"]
    start = soon(3, 14)
    event = _series(kit, start, "FREQ=WEEKLY;COUNT=4")
    _hold(app, t1, event, [0, 1, 2, 3])
    _hold(app, t2, event, [3])
    auth.login("staff1")
    client.post("/language", data={"locale": "en"})  # the English plurals
    thursday = start + timedelta(days=1)
    form = _form(thursday, hour=14, weekday=thursday.weekday(), count=3)

    page = client.post(f"/events/{event.id}/edit", data=form)
    assert page.status_code == 200
    assert "3 registrations move to the new sessions." in page.text
    assert (
        "1 session no longer exists: registrations cancelled: 2; "
        "the teachers are told." in page.text
    )
    saved = client.post(
        f"/events/{event.id}/edit", data={**form, "confirm_sessions": "1"}
    )
    assert saved.status_code == 302
    keys = _keys(app, event.id)
    assert len(keys) == 3
    held = _held(app, event.id, t1)
    assert [held.get(k) for k in keys] == ["registered"] * 3
    assert sorted(held.values()) == [
        "cancelled",
        "registered",
        "registered",
        "registered",
    ]
    assert list(_held(app, event.id, t2).values()) == ["cancelled"]
    with app.app_context():
        regs = dict(
            db.session.execute(
                select(Registration.teacher_id, Registration.status).where(
                    Registration.event_id == event.id
                )
            ).all()
        )
    assert regs == {t1.id: "registered", t2.id: "cancelled"}
    # Each told once: t1 of the move and of the session gone, t2 of the session gone.
    assert _told(app, t1, "event_changed") == 1
    assert _told(app, t1, "event_cancelled") == 1
    assert _told(app, t2, "event_cancelled") == 1
    assert _told(app, t2, "event_changed") == 0


def test_an_edit_without_stored_places_saves_at_once(app, client, auth, world) -> None:
    kit = FeedKit(app)
    start = soon(3, 14)
    event = _series(kit, start, "FREQ=WEEKLY;COUNT=4")
    auth.login("staff1")
    old_keys = _keys(app, event.id)
    form = _form(start, hour=10, weekday=start.weekday(), count=4)
    assert client.post(f"/events/{event.id}/edit", data=form).status_code == 302
    assert set(_keys(app, event.id)).isdisjoint(old_keys)


def test_past_sessions_keep_their_attendance_and_credit(app, world) -> None:
    kit = FeedKit(app)
    t1 = world["teacher1"]
    start = soon(-8, 14)  # sessions 8 days ago, yesterday, in 6 and 13 days
    event = _series(kit, start, "FREQ=WEEKLY;COUNT=4")
    with app.app_context():
        row = db.session.get_one(Event, event.id)
        keys = [s.key for s in list_sessions(row)]
        teacher = db.session.get_one(User, t1.id)
        register(teacher, row, start - timedelta(days=2))
        activity = mark_session_attended(
            None, row, keys[0], teacher, "manual", start + timedelta(hours=1)
        )
        assert activity is not None
        activity_id = activity.id
        db.session.commit()
        data = EventData(
            kind_code="seminar", title="每周教研研讨", location="实训楼 301",
            starts_at=start.replace(hour=10),
            ends_at=start.replace(hour=10) + timedelta(minutes=90),
            rrule="FREQ=WEEKLY;COUNT=4",
        )  # fmt: skip
        assert update_series(row, data, None, utcnow())
        db.session.commit()
        new_keys = [s.key for s in list_sessions(row)]
    held = _held(app, event.id, t1)
    assert held[keys[0]] == "attended"  # as it was, with its credit
    assert keys[1] in held  # begun before the edit: left alone
    assert held[new_keys[2]] == held[new_keys[3]] == "registered"
    with app.app_context():
        reg = db.session.scalars(
            select(Registration).where(Registration.event_id == event.id)
        ).one()
        assert reg.activity_id == activity_id
        assert reg.status == "registered"


def test_a_single_event_moved_keeps_its_registrations(app, client, auth, world) -> None:
    kit = FeedKit(app)
    t1 = world["teacher1"]
    start = soon(3, 14)
    event = kit.event(
        kind_code="seminar", title="每周教研研讨", location="实训楼 301",
        starts_at=start, ends_at=start + timedelta(minutes=90),
    )  # fmt: skip
    _hold(app, t1, event, [0])
    auth.login("staff1")
    form = {**_form(start, hour=10, weekday=start.weekday(), count=4), "repeat": ""}
    assert client.post(f"/events/{event.id}/edit", data=form).status_code == 302
    [key] = _keys(app, event.id)
    assert _held(app, event.id, t1) == {key: "registered"}
    assert _told(app, t1, "event_changed") == 1
    kit.clear_cache()
    events = parse_icalendar(get(app, kit.url(t1)).data, window_dates()).events
    mine = [e["start_utc"] for e in events if e["uid"] == event.uid]
    assert mine == [start.replace(hour=10).astimezone(UTC).strftime(Z)]


def test_a_session_cancelled_before_is_not_announced_again(app, world) -> None:
    kit = FeedKit(app)
    t1 = world["teacher1"]
    start = soon(3, 14)
    event = _series(kit, start, "FREQ=WEEKLY;COUNT=3")
    _hold(app, t1, event, [0, 1, 2])
    with app.app_context():
        row = db.session.get_one(Event, event.id)
        keys = [s.key for s in list_sessions(row)]
        cancel_one_session(row, keys[2], None, utcnow())
        db.session.commit()
        assert _told(app, t1, "event_cancelled") == 1
        data = EventData(
            kind_code="seminar", title="每周教研研讨", location="实训楼 301",
            starts_at=start, ends_at=start + timedelta(minutes=90),
            rrule="FREQ=WEEKLY;COUNT=2",
        )  # fmt: skip
        assert update_series(row, data, None, utcnow())
        db.session.commit()
    assert _told(app, t1, "event_cancelled") == 1
    assert _held(app, event.id, t1) == {
        keys[0]: "registered",
        keys[1]: "registered",
        keys[2]: "cancelled",
    }
