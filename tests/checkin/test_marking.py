"""Staff mark a session's attendance by hand or from a pasted list (issue 15)."""

from __future__ import annotations

from datetime import timedelta

from pdtracker.checkin.marking import parse_entries
from tests.checkin.conftest import credits, places, register, session_keys

STARTED = timedelta(minutes=-10)


def _english(app) -> None:
    from sqlalchemy import update

    from pdtracker.auth.models import User
    from pdtracker.extensions import db

    with app.app_context():
        db.session.execute(update(User).values(locale="en"))
        db.session.commit()


def test_parse_entries_reads_a_sign_in_sheet() -> None:
    text = "teacher1\nS-teacher2, head1；teacher1、 x\t\n"
    assert parse_entries(text) == ["teacher1", "S-teacher2", "head1", "x"]


def test_staff_mark_one_teacher_by_hand_once(
    app, client, auth, cast, make_event
) -> None:
    event = make_event(STARTED)
    register(app, cast.teacher1, event)
    key = session_keys(app, event)[0]
    _english(app)
    auth.login("staff1")
    page = client.get(f"/checkin/events/{event.id}/sessions/{key}/attendance")
    assert page.status_code == 200
    action = f"/checkin/events/{event.id}/sessions/{key}/attend/{cast.teacher1.id}"
    assert action in page.text

    done = client.post(action, follow_redirects=True)
    assert "Attendance recorded and credited." in done.text
    assert places(app, event) == [("attended", "manual")]
    again = client.post(action, follow_redirects=True)
    assert "Attendance was already recorded." in again.text
    assert len(credits(app, cast.teacher1)) == 1


def test_marking_waits_for_the_session_to_start(
    app, client, auth, cast, make_event, table_counts
) -> None:
    event = make_event(timedelta(minutes=20))
    register(app, cast.teacher1, event)
    key = session_keys(app, event)[0]
    _english(app)
    auth.login("staff1")
    page = client.get(f"/checkin/events/{event.id}/sessions/{key}/attendance")
    assert "Attendance can be marked once the session has started." in page.text
    assert "/attend/" not in page.text
    before = table_counts()
    response = client.post(
        f"/checkin/events/{event.id}/sessions/{key}/attend/{cast.teacher1.id}",
        follow_redirects=True,
    )
    assert "Attendance can be marked once the event has started." in response.text
    assert table_counts() == before


def test_staff_mark_from_a_list(app, client, auth, cast, make_event) -> None:
    event = make_event(STARTED, capacity=2)
    register(app, cast.teacher1, event)
    register(app, cast.teacher2, event)
    register(app, cast.head, event)  # the event is full: the head waits
    key = session_keys(app, event)[0]
    _english(app)
    auth.login("staff1")
    client.post(f"/checkin/events/{event.id}/sessions/{key}/attend/{cast.teacher1.id}")

    response = client.post(
        f"/checkin/events/{event.id}/sessions/{key}/attend-list",
        data={"entries": "teacher1\nS-teacher2 teacher2, head1, nobody, S-nobody"},
        follow_redirects=True,
    )
    text = response.text
    assert "1 marked as attended, 1 already marked." in text
    assert "head1 (head1): This teacher is on the waiting list" in text
    assert "No teacher has these usernames or staff numbers: nobody, S-nobody" in text
    assert sorted(places(app, event)) == [
        ("attended", "bulk"),
        ("attended", "manual"),
        ("waitlisted", None),
    ]
    assert len(credits(app, cast.teacher2)) == 1
    assert credits(app, cast.head) == []


def test_an_empty_list_marks_nobody(app, client, auth, cast, make_event) -> None:
    event = make_event(STARTED)
    register(app, cast.teacher1, event)
    key = session_keys(app, event)[0]
    _english(app)
    auth.login("staff1")
    response = client.post(
        f"/checkin/events/{event.id}/sessions/{key}/attend-list",
        data={"entries": "  "},
        follow_redirects=True,
    )
    assert "Paste at least one username or staff number." in response.text
    assert places(app, event) == [("registered", None)]


def test_only_staff_mark(app, client, auth, cast, make_event) -> None:
    event = make_event(STARTED)
    register(app, cast.teacher1, event)
    key = session_keys(app, event)[0]
    base = f"/checkin/events/{event.id}/sessions/{key}"
    for user in ("teacher1", "head1"):
        auth.login(user)
        assert client.get(f"{base}/attendance").status_code == 403
        assert client.post(f"{base}/attend/{cast.teacher1.id}").status_code == 403
        response = client.post(f"{base}/attend-list", data={"entries": "teacher1"})
        assert response.status_code == 403
        auth.logout()
    assert places(app, event) == [("registered", None)]
    assert credits(app, cast.teacher1) == []
