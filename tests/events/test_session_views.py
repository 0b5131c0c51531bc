"""Series on the pages: in words, by next session, sessions chosen, moved, cancelled."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from pdtracker.activities.models import Activity
from pdtracker.auth.models import User
from pdtracker.events.models import Event, SessionRegistration
from pdtracker.events.sessions import list_sessions
from pdtracker.extensions import db
from pdtracker.timeutil import SHANGHAI, utcnow


def _weekly(make_event, *, weeks_ago: int = 0, count: int = 10, **fields) -> Event:
    today = utcnow().astimezone(SHANGHAI).date()
    first = datetime.combine(
        today - timedelta(weeks=weeks_ago) + timedelta(days=1),
        datetime.min.time().replace(hour=14),
        SHANGHAI,
    )
    fields.setdefault("title", "教学能力提升研讨会")
    return make_event(
        kind_code="seminar",
        starts_at=first.astimezone(UTC),
        ends_at=(first + timedelta(minutes=90)).astimezone(UTC),
        rrule=f"FREQ=WEEKLY;COUNT={count}",
        **fields,
    )


def _keys(app, event_id: int) -> list[str]:
    with app.app_context():
        return [s.key for s in list_sessions(db.session.get_one(Event, event_id))]


def _english(app, user) -> None:
    with app.app_context():
        db.session.get_one(User, user.id).locale = "en"
        db.session.commit()


def test_series_reads_in_words_and_lists_by_next_session(
    app, client, auth, world, make_event
) -> None:
    # Began three weeks ago: its next session is in 1 day, before the lecture.
    _weekly(make_event, weeks_ago=3, title="每周研讨")
    make_event(title="两天后的讲座", starts_at=utcnow() + timedelta(days=2))
    auth.login("teacher1")
    page = client.get("/events/")
    assert page.status_code == 200
    assert page.text.index("每周研讨") < page.text.index("两天后的讲座")
    assert "每周" in page.text
    assert "共 10 次" in page.text
    _english(app, world["teacher1"])
    page = client.get("/events/")
    assert "Every " in page.text
    assert "10 sessions" in page.text
    assert "Next session" in page.text


def test_teacher_chooses_sessions_and_gives_one_up(
    app, client, auth, world, make_event
) -> None:
    event = _weekly(make_event)
    keys = _keys(app, event.id)
    auth.login("teacher1")
    detail = client.get(f"/events/{event.id}")
    assert f'value="{keys[3]}"' in detail.text
    response = client.post(
        f"/events/{event.id}/register",
        data={"chosen": "1", "sessions": [keys[1], keys[3]]},
    )
    assert response.status_code == 302
    response = client.post(f"/events/{event.id}/sessions/{keys[1]}/unregister")
    assert response.status_code == 302
    with app.app_context():
        statuses = dict(
            db.session.execute(
                select(SessionRegistration.session_id, SessionRegistration.status)
            ).all()
        )
    assert sorted(statuses.values()) == ["cancelled", "registered"]
    detail = client.get(f"/events/{event.id}")
    assert f'action="/events/{event.id}/sessions/{keys[3]}/unregister"' in detail.text


def test_staff_moves_and_cancels_a_session(
    app, client, auth, world, make_event
) -> None:
    event = _weekly(make_event, location="图书馆报告厅")
    keys = _keys(app, event.id)
    auth.login("staff1")
    page = client.get(f"/events/{event.id}/sessions/{keys[2]}/move")
    assert page.status_code == 200
    moved_day = (event.starts_at + timedelta(weeks=2, days=1)).astimezone(SHANGHAI)
    response = client.post(
        f"/events/{event.id}/sessions/{keys[2]}/move",
        data={"day": moved_day.date().isoformat(), "start_time": "09:00",
              "end_time": "10:30", "location": "实训楼 502"},
    )  # fmt: skip
    assert response.status_code == 302
    assert (
        client.post(f"/events/{event.id}/sessions/{keys[4]}/cancel").status_code == 302
    )
    with app.app_context():
        sessions = list_sessions(db.session.get_one(Event, event.id))
    assert sessions[2].is_moved
    assert sessions[2].location == "实训楼 502"
    assert sessions[2].starts_at.astimezone(SHANGHAI).hour == 9
    assert sessions[4].is_cancelled
    detail = client.get(f"/events/{event.id}")
    assert "实训楼 502" in detail.text
    assert (
        client.post(f"/events/{event.id}/sessions/{keys[4]}/restore").status_code == 302
    )
    with app.app_context():
        assert not list_sessions(db.session.get_one(Event, event.id))[4].is_cancelled


def test_staff_marks_attendance_per_session(
    app, client, auth, world, make_event, registered
) -> None:
    event = _weekly(make_event, weeks_ago=2)
    keys = _keys(app, event.id)
    with app.app_context():
        from pdtracker.events.registrations import register

        register(
            db.session.get_one(User, world["teacher1"].id),
            db.session.get_one(Event, event.id),
            event.starts_at - timedelta(days=1),
        )
        db.session.commit()
    auth.login("staff1")
    page = client.get(f"/events/{event.id}/registrations?session={keys[0]}")
    assert page.status_code == 200
    assert "teacher1" in page.text
    assert (
        client.get(f"/events/{event.id}/registrations?session=nope").status_code == 404
    )
    for key in keys[:2]:
        response = client.post(f"/events/{event.id}/attend-all?session={key}")
        assert response.status_code == 302
    client.post(f"/events/{event.id}/attend-all?session={keys[0]}")  # again: nothing
    with app.app_context():
        credited = db.session.scalars(select(Activity.starts_on)).all()
    assert len(credited) == 2


@pytest.mark.parametrize(
    ("user", "method", "path", "status"),
    [
        ("teacher1", "get", "/sessions/{key}/move", 403),
        ("teacher1", "post", "/sessions/{key}/cancel", 403),
        ("staff1", "post", "/sessions/{key}/unregister", 403),
        ("staff1", "get", "/sessions/20990101T000000Z/move", 404),
        ("staff1", "post", "/sessions/20990101T000000Z/cancel", 404),
    ],
)
def test_session_pages_access(
    app, client, auth, world, make_event, user, method, path, status
) -> None:
    event = _weekly(make_event)
    key = _keys(app, event.id)[0]
    auth.login(user)
    response = getattr(client, method)(f"/events/{event.id}" + path.format(key=key))
    assert response.status_code == status


def test_list_with_series_has_bounded_queries(
    client, auth, world, make_event, count_queries
) -> None:
    _weekly(make_event, weeks_ago=1)
    auth.login("teacher1")
    with count_queries() as one:
        assert client.get("/events/").status_code == 200
    for i in range(6):
        _weekly(make_event, weeks_ago=i % 3, title=f"研讨{i}")
        make_event(title=f"讲座{i}")
    with count_queries() as many:
        assert client.get("/events/").status_code == 200
    assert many.count == one.count
