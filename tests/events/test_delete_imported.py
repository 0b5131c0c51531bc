"""Staff delete an imported event (issue 10, finding 2).

A bad imported event (a forged UID, a test entry in the association's calendar) could
be cancelled but never removed. Staff may now delete an imported event: a confirmation
page, then a POST with CSRF; audited. Events made here are cancelled, never deleted
(their UIDs are published). Registrations: an event with attendance recorded is never
deleted (the credited activity points at it); one with active registrations must be
cancelled first, so teachers see the cancellation, and then takes them along.
"""

from __future__ import annotations

import re

from sqlalchemy import func, select

from pdtracker.audit import AuditEntry
from pdtracker.auth.models import User
from pdtracker.events.attendance import mark_attended
from pdtracker.events.importing import import_file
from pdtracker.events.models import Event, Registration
from pdtracker.extensions import db
from pdtracker.timeutil import utcnow
from tests.calendar.feedkit import get
from tests.events.conftest import soon
from tests.events.test_importing import calendar, vevent


def _imported(app, uid: str = "bad@assoc.example", start=None) -> Event:
    start = start or soon(20)
    text = calendar(
        vevent(
            uid,
            "误导入的测试活动",
            DTSTART=start.strftime("%Y%m%dT%H%M%SZ"),
            DTEND=(start.replace(hour=start.hour + 2)).strftime("%Y%m%dT%H%M%SZ"),
        )
    )
    with app.app_context():
        report = import_file(text.encode(), "assoc.ics", None, utcnow())
        db.session.commit()
        assert report.created == 1
        event = db.session.scalars(select(Event).where(Event.uid == uid)).one()
        db.session.expunge(event)
        return event


def _exists(app, event_id: int) -> bool:
    with app.app_context():
        return db.session.get(Event, event_id) is not None


def _english(app, user) -> None:
    with app.app_context():
        db.session.get(User, user.id).locale = "en"
        db.session.commit()


def test_staff_delete_an_imported_event_after_confirming(
    app, client, auth, world
) -> None:
    event = _imported(app)
    assert b"bad@assoc.example" in get(app, "/calendar/association.ics").data
    _english(app, world["staff1"])
    auth.login("staff1")
    assert f"/events/{event.id}/delete" in client.get(f"/events/{event.id}").text
    page = client.get(f"/events/{event.id}/delete")
    assert page.status_code == 200
    assert page.headers["Cache-Control"] == "private, no-store"
    assert "误导入的测试活动" in page.text
    assert re.search(r'<form method="post"[^>]*/events/\d+/delete', page.text)
    assert 'name="csrf_token"' in page.text
    assert _exists(app, event.id)  # the GET only asks

    response = client.post(f"/events/{event.id}/delete", follow_redirects=True)
    assert response.status_code == 200
    assert "The imported event was deleted." in response.text
    assert not _exists(app, event.id)
    with app.app_context():
        entry = db.session.scalars(
            select(AuditEntry).where(AuditEntry.action == "event.delete")
        ).one()
        assert (entry.actor_id, entry.object_id) == (world["staff1"].id, event.id)
        assert entry.details["uid"] == "bad@assoc.example"
    assert b"bad@assoc.example" not in get(app, "/calendar/association.ics").data
    assert client.get(f"/events/{event.id}/delete").status_code == 404
    assert client.post(f"/events/{event.id}/delete").status_code == 404


def test_delete_needs_the_csrf_token(app, client, auth, world) -> None:
    event = _imported(app)
    auth.login("staff1")
    app.config["WTF_CSRF_ENABLED"] = True
    assert client.post(f"/events/{event.id}/delete").status_code == 400
    assert _exists(app, event.id)


def test_an_event_made_here_is_not_deleted(
    app, client, auth, world, make_event
) -> None:
    event = make_event()
    _english(app, world["staff1"])
    auth.login("staff1")
    assert f"/events/{event.id}/delete" not in client.get(f"/events/{event.id}").text
    response = client.post(f"/events/{event.id}/delete", follow_redirects=True)
    assert "Only imported events can be deleted" in response.text
    assert _exists(app, event.id)


def test_registered_teachers_see_a_cancellation_before_a_deletion(
    app, client, auth, world, registered
) -> None:
    event = _imported(app)
    registered(world["teacher1"], event, utcnow())
    _english(app, world["staff1"])
    auth.login("staff1")
    refused = client.post(f"/events/{event.id}/delete", follow_redirects=True)
    assert "Cancel it first" in refused.text
    assert _exists(app, event.id)

    assert client.post(f"/events/{event.id}/cancel").status_code == 302
    page = client.get(f"/events/{event.id}/delete")
    assert "Registrations deleted with it: 1" in page.text
    assert client.post(f"/events/{event.id}/delete").status_code == 302
    assert not _exists(app, event.id)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Registration)) == 0
        entry = db.session.scalars(
            select(AuditEntry).where(AuditEntry.action == "event.delete")
        ).one()
        assert entry.details["registrations"] == [world["teacher1"].id]


def test_recorded_attendance_keeps_the_event(
    app, client, auth, world, registered
) -> None:
    event = _imported(app, start=soon(-2))
    with app.app_context():
        row = db.session.get(Event, event.id)
        row.registration_deadline = None
        db.session.commit()
    reg = registered(world["teacher1"], event, soon(-3))
    with app.app_context():
        mark_attended(db.session.get(Registration, reg.id), None, utcnow())
        db.session.commit()
    _english(app, world["staff1"])
    auth.login("staff1")
    client.post(f"/events/{event.id}/cancel")
    response = client.post(f"/events/{event.id}/delete", follow_redirects=True)
    assert "Attendance was recorded" in response.text
    assert _exists(app, event.id)
