"""Attendance only for seat-holders of events that take place (issue 10, finding 10).

Marking a waitlisted registration gave capacity 1 two seat-holders (and a credited
activity for a teacher who had no seat); marking on a cancelled event credited hours
for an event that never happened. Both are refused with a clear message, one by one
and through "mark all".
"""

from __future__ import annotations

from sqlalchemy import func, select

from pdtracker.activities.models import Activity
from pdtracker.auth.models import User
from pdtracker.events.models import Registration
from pdtracker.extensions import db
from tests.events.conftest import soon


def _english(app, user) -> None:
    with app.app_context():
        db.session.get(User, user.id).locale = "en"
        db.session.commit()


def _state(app) -> tuple[dict[int, str], int]:
    with app.app_context():
        statuses = dict(
            db.session.execute(select(Registration.id, Registration.status)).all()
        )
        credited = db.session.scalar(select(func.count()).select_from(Activity))
    return statuses, credited


def test_waitlisted_registration_cannot_be_marked(
    app, client, auth, world, make_event, registered
) -> None:
    event = make_event(starts_at=soon(-1), capacity=1)
    seated = registered(world["teacher1"], event)
    waiting = registered(world["teacher2"], event)
    assert (seated.status, waiting.status) == ("registered", "waitlisted")
    _english(app, world["staff1"])
    auth.login("staff1")
    response = client.post(
        f"/events/{event.id}/registrations/{waiting.id}/attend", follow_redirects=True
    )
    assert response.status_code == 200
    assert (
        "This teacher is on the waiting list and has no seat: attendance cannot be"
        " marked." in response.text
    )
    assert _state(app) == ({seated.id: "registered", waiting.id: "waitlisted"}, 0)
    # "Mark all" marks the seat-holder only.
    client.post(f"/events/{event.id}/attend-all")
    assert _state(app) == ({seated.id: "attended", waiting.id: "waitlisted"}, 1)


def test_cancelled_event_takes_no_attendance(
    app, client, auth, world, make_event, registered
) -> None:
    event = make_event(starts_at=soon(-1))
    reg = registered(world["teacher1"], event)
    _english(app, world["staff1"])
    auth.login("staff1")
    assert client.post(f"/events/{event.id}/cancel").status_code == 302
    single = client.post(
        f"/events/{event.id}/registrations/{reg.id}/attend", follow_redirects=True
    )
    assert "This event is cancelled." in single.text
    every = client.post(f"/events/{event.id}/attend-all", follow_redirects=True)
    assert "This event is cancelled." in every.text
    assert "attendances recorded" not in every.text
    assert _state(app) == ({reg.id: "registered"}, 0)
