"""Reminder e-mails carry the event as an .ics attachment (METHOD:PUBLISH).

Issue 15: "Reminder e-mails carry the event as an .ics attachment (METHOD:PUBLISH),
so any mail client can add it." The attachment is read back from the message the
SMTP server received and parsed with icalendar.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from email.utils import parseaddr

from icalendar import Calendar

from pdtracker.auth.models import User
from pdtracker.events.models import Event
from pdtracker.extensions import db
from pdtracker.notifications.dispatch import dispatch_due
from pdtracker.notifications.planners import plan_reminders
from tests.notifications.conftest import NOW

STARTS = datetime(2026, 3, 10, 6, 30, tzinfo=UTC)  # Tuesday 14:30 in Shanghai


def _english(app, user) -> None:
    with app.app_context():
        db.session.get_one(User, user.id).locale = "en"
        db.session.commit()


def _attachment(message) -> tuple[str, Calendar]:
    (part,) = list(message.iter_attachments())
    assert part.get_content_type() == "text/calendar"
    assert part.get_param("method") == "PUBLISH"
    assert part.get_filename() == "event.ics"
    data = part.get_payload(decode=True)
    return data.decode("utf-8"), Calendar.from_ical(data)


def test_the_reminder_carries_the_event_to_add(
    app, world, make_event, register_for, smtp
) -> None:
    _english(app, world["teacher1"])
    event_id = make_event(
        starts_at=STARTS, ends_at=STARTS + timedelta(hours=2), location="图书馆报告厅"
    )
    register_for(world["teacher1"], event_id)
    with app.app_context():
        plan_reminders(NOW - timedelta(hours=1))
        assert dispatch_due(NOW)["emailed"] == 1
        uid = db.session.get_one(Event, event_id).uid
    (message,) = smtp.received()
    # The words are still there, as text and HTML, next to the attachment.
    assert "Tomorrow:" in message["Subject"]
    assert message.get_body(("plain",)) is not None
    assert message.get_body(("html",)) is not None
    raw, calendar = _attachment(message)
    assert "\r\nMETHOD:PUBLISH\r\n" in raw
    assert calendar["METHOD"] == "PUBLISH"
    (event,) = calendar.walk("VEVENT")
    assert str(event["UID"]) == uid  # the feeds' UID: adding it twice updates
    assert str(event["SUMMARY"]) == "人工智能与职业教育讲座"
    assert str(event["LOCATION"]) == "图书馆报告厅"
    assert event.decoded("DTSTART") == STARTS
    assert event["DTSTART"].params["TZID"] == "Asia/Shanghai"
    assert event.decoded("DTEND") == STARTS + timedelta(hours=2)
    assert str(event["URL"]) == f"http://pdtracker.test/events/{event_id}"
    assert calendar.walk("VTIMEZONE")
    # RFC 5546: a PUBLISH names its organiser (here the app's sender address).
    assert str(event["ORGANIZER"]) == "mailto:" + parseaddr(app.config["MAIL_FROM"])[1]


def test_each_session_of_a_series_is_its_own_entry(
    app, world, make_event, register_for, smtp
) -> None:
    event_id = make_event(
        starts_at=STARTS,
        ends_at=STARTS + timedelta(hours=2),
        rrule="FREQ=WEEKLY;COUNT=3",
    )
    register_for(world["teacher1"], event_id)
    with app.app_context():
        for week in range(2):
            plan_reminders(NOW + timedelta(days=7 * week) - timedelta(hours=1))
            dispatch_due(NOW + timedelta(days=7 * week))
    events = [_attachment(m)[1].walk("VEVENT")[0] for m in smtp.received()]
    assert [e.decoded("DTSTART") for e in events] == [
        STARTS,
        STARTS + timedelta(days=7),
    ]
    assert "RRULE" not in events[0]  # the session, not the whole series
    assert events[0]["UID"] != events[1]["UID"]  # next week does not replace this


def test_an_all_day_event_is_attached_with_dates(
    app, world, make_event, register_for, smtp
) -> None:
    event_id = make_event(
        is_all_day=True, start_on=date(2026, 3, 10), end_on=date(2026, 3, 12)
    )
    register_for(world["teacher1"], event_id)
    with app.app_context():
        plan_reminders(NOW - timedelta(hours=1))
        dispatch_due(NOW)
    (message,) = smtp.received()
    (event,) = _attachment(message)[1].walk("VEVENT")
    assert event.decoded("DTSTART") == date(2026, 3, 10)
    assert event.decoded("DTEND") == date(2026, 3, 12)  # exclusive, as the feed


def test_mails_about_other_things_carry_no_attachment(
    app, world, make_event, register_for, smtp
) -> None:
    deadline = NOW + timedelta(days=2)
    event_id = make_event(capacity=1, registration_deadline=deadline)
    register_for(world["teacher1"], event_id)
    register_for(world["teacher2"], event_id)  # waitlisted: told about the deadline
    with app.app_context():
        plan_reminders(NOW - timedelta(hours=1))
        dispatch_due(NOW)
    attached = {m["To"].addresses[0].username: len(list(m.iter_attachments()))
                for m in smtp.received()}  # fmt: skip
    assert attached == {"teacher1": 1, "teacher2": 0}


def test_mail_clients_parsers_read_the_attachment(
    app, world, make_event, register_for, smtp
) -> None:
    """ical.js (Thunderbird) and libical (Evolution) read it without a problem."""
    import pytest

    from tests.interop.pyparsers import node_available, parse_icaljs, parse_libical

    if reason := node_available():
        pytest.skip(reason)
    event_id = make_event(starts_at=STARTS, ends_at=STARTS + timedelta(hours=2))
    register_for(world["teacher1"], event_id)
    with app.app_context():
        plan_reminders(NOW - timedelta(hours=1))
        dispatch_due(NOW)
    (message,) = smtp.received()
    (part,) = list(message.iter_attachments())
    data = part.get_payload(decode=True)
    window = (date(2026, 3, 1), date(2026, 4, 1))
    for parse in (parse_icaljs, parse_libical):
        result = parse(data, window)
        assert result.problems == []
        (event,) = result.events
        assert (event["start_utc"], event["end_utc"]) == (
            "2026-03-10T06:30:00Z",
            "2026-03-10T08:30:00Z",
        )
        assert event["status"] == "CONFIRMED"


def test_a_moved_session_is_attached_at_its_new_time(
    app, world, make_event, register_for, smtp
) -> None:
    """The notice of a change carries the session as it now is: the same UID as
    its reminder, a higher SEQUENCE, so a mail client updates what it added."""
    from pdtracker.events.session_changes import move_session
    from pdtracker.events.sessions import list_sessions

    event_id = make_event(
        starts_at=STARTS, ends_at=STARTS + timedelta(hours=2),
        rrule="FREQ=WEEKLY;COUNT=3",
    )  # fmt: skip
    register_for(world["teacher1"], event_id)
    moved = STARTS + timedelta(days=8)
    with app.app_context():
        plan_reminders(NOW - timedelta(hours=1))
        dispatch_due(NOW)  # the first session's reminder
        event = db.session.get_one(Event, event_id)
        key = list_sessions(event)[1].key
        move_session(event, key, moved, moved + timedelta(hours=1), "实训楼 502",
                     None, NOW + timedelta(minutes=5))  # fmt: skip
        db.session.commit()
        dispatch_due(NOW + timedelta(minutes=10))
    reminder, notice = smtp.received()
    (entry,) = _attachment(notice)[1].walk("VEVENT")
    assert entry.decoded("DTSTART") == moved
    assert str(entry["LOCATION"]) == "实训楼 502"
    assert int(entry["SEQUENCE"]) == 1
    first = _attachment(reminder)[1].walk("VEVENT")[0]
    assert str(entry["UID"]) != str(first["UID"])  # another session: its own UID
    assert "20260317T063000Z" in str(entry["UID"])
