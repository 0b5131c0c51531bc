"""The in-app page, the unread badge, preferences, and the admin scheduler page."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from pdtracker.extensions import db
from pdtracker.notifications.dispatch import dispatch_due
from pdtracker.notifications.models import (
    Notification,
    NotificationKind,
    NotificationPreference,
)
from pdtracker.notifications.runs import finish_run, start_run
from pdtracker.scheduler import SCHEDULE, run_tick
from tests.notifications.conftest import NOW, rows

# The reminders here are made by hand: no planner re-checks (and cancels) them.
pytestmark = pytest.mark.usefixtures("no_planners")


def _deliver(app, make_reminder, user, count=1):
    for n in range(count):
        make_reminder(user, object_id=n + 1, payload={"title": f"讲座{n + 1}号"})
    with app.app_context():
        dispatch_due(NOW)
    return [r.id for r in rows(app) if r.recipient_id == user.id]


def test_the_inbox_lists_delivered_notifications_with_an_unread_badge(
    app, client, auth, world, make_reminder
):
    ids = _deliver(app, make_reminder, world["teacher1"], count=3)
    make_reminder(world["teacher1"], object_id=9, due_at=NOW + timedelta(days=1),
                  payload={"title": "未到期"})  # fmt: skip
    _deliver(app, make_reminder, world["teacher2"])
    auth.login("teacher1")
    page = client.get("/notifications/").get_data(as_text=True)
    assert all(f'id="notification-{i}"' in page for i in ids)
    assert "讲座1号" in page
    assert "讲座3号" in page
    assert "未到期" not in page  # pending, not delivered yet
    assert page.count("notification-") == 3  # not teacher2's
    assert '<span class="badge bg-light text-dark">3</span>' in page


def test_marking_read_is_for_own_notifications_only(
    app, client, auth, world, make_reminder
):
    (mine,) = _deliver(app, make_reminder, world["teacher1"])
    (theirs,) = _deliver(app, make_reminder, world["teacher2"])
    auth.login("teacher1")
    assert client.post(f"/notifications/{theirs}/read").status_code == 404
    assert client.post("/notifications/999999/read").status_code == 404
    assert client.post(f"/notifications/{mine}/read").status_code == 302
    read = {r.id: r.read_at for r in rows(app)}
    assert read[mine] is not None
    assert read[theirs] is None
    page = client.get("/notifications/").get_data(as_text=True)
    assert "badge bg-light text-dark" not in page


def test_mark_all_read(app, client, auth, world, make_reminder):
    _deliver(app, make_reminder, world["teacher1"], count=2)
    auth.login("teacher1")
    client.post("/notifications/read-all")
    assert all(r.read_at is not None for r in rows(app))
    assert client.get("/notifications/").status_code == 200


def test_mark_read_needs_a_csrf_token(app, client, auth, world, make_reminder):
    (mine,) = _deliver(app, make_reminder, world["teacher1"])
    auth.login("teacher1")
    app.config["WTF_CSRF_ENABLED"] = True
    assert client.post(f"/notifications/{mine}/read").status_code == 400
    assert rows(app)[0].read_at is None


def test_the_inbox_needs_a_login(client):
    response = client.get("/notifications/")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_the_inbox_issues_a_bounded_number_of_queries(
    app, client, auth, world, make_reminder, count_queries
):
    _deliver(app, make_reminder, world["teacher1"], count=2)
    auth.login("teacher1")
    with count_queries() as few:
        client.get("/notifications/")
    _deliver(app, make_reminder, world["teacher1"], count=15)
    with count_queries() as many:
        client.get("/notifications/")
    assert many.count == few.count


def test_preferences_show_the_kinds_a_teacher_receives_and_save(
    app, client, auth, world
):
    auth.login("teacher1")
    page = client.get("/notifications/preferences").get_data(as_text=True)
    assert 'name="event_tomorrow"' in page
    assert 'name="department_digest"' not in page  # heads only
    assert 'name="feed_failed"' not in page  # admins only
    response = client.post(
        "/notifications/preferences",
        data={"event_tomorrow": "off", "registration_deadline": "app_only",
              "placement_starting": "email_and_app", "placement_report_due": "off",
              "lapse_warning": "app_only", "department_digest": "off"},
    )  # fmt: skip
    assert response.status_code == 302
    with app.app_context():
        saved = dict(
            db.session.execute(
                select(NotificationPreference.kind, NotificationPreference.channel)
            ).all()
        )
    assert saved["event_tomorrow"] == "off"
    assert saved["lapse_warning"] == "app_only"
    assert "department_digest" not in saved  # not offered, not stored
    page = client.get("/notifications/preferences").get_data(as_text=True)
    assert '<option selected value="off">' in page


def test_an_unknown_channel_is_refused(app, client, auth, world, table_counts):
    auth.login("head1")
    before = table_counts()
    response = client.post(
        "/notifications/preferences", data={"event_tomorrow": "carrier-pigeon"}
    )
    assert response.status_code == 200
    assert table_counts() == before


def test_the_chosen_channel_applies_at_send_time(
    app, client, auth, world, make_reminder
):
    auth.login("teacher1")
    client.post("/notifications/preferences", data={"event_tomorrow": "off"})
    make_reminder(world["teacher1"])
    with app.app_context():
        assert dispatch_due(NOW)["dropped"] == 1


@pytest.mark.parametrize(("user", "status"), [("teacher1", 403), ("head1", 403),
                                              ("staff1", 403), ("admin", 200)])  # fmt: skip
def test_the_scheduler_page_is_for_admins(client, auth, world, user, status):
    auth.login(user)
    assert client.get("/admin/scheduler").status_code == status


def test_the_scheduler_page_shows_runs_errors_and_heartbeat(
    app, client, auth, world, count_queries
):
    with app.app_context():
        run = start_run("dispatch", "host:1", NOW)
        finish_run(run, NOW + timedelta(seconds=2), {"sent": 4}, None)
        run = start_run("refresh_feeds", "host:1", NOW)
        finish_run(run, NOW, {}, "Traceback…\nRuntimeError: feed down")
        db.session.commit()
    auth.login("admin")
    page = client.get("/admin/scheduler").get_data(as_text=True)
    assert "sent=4" in page
    assert "RuntimeError: feed down" in page
    assert "flask --app pdtracker scheduler" in page  # never ran: no heartbeat
    for tick in SCHEDULE:
        assert f'id="tick-{tick.id}"' in page
    with count_queries() as few:
        client.get("/admin/scheduler")
    for minute in range(30):
        run_tick(
            app,
            SCHEDULE[0],
            "host:1",
            NOW,
            clock=lambda m=minute: NOW + timedelta(minutes=m),
        )
    with count_queries() as many:
        page = client.get("/admin/scheduler").get_data(as_text=True)
    assert many.count == few.count
    assert 'id="heartbeat-status">' in page


def test_in_app_text_follows_the_kind(app, client, auth, world, make_reminder):
    make_reminder(world["admin"], kind=NotificationKind.FEED_FAILED,
                  payload={"source": "协会日历", "error": "HTTP 500"})  # fmt: skip
    with app.app_context():
        dispatch_due(NOW)
        assert db.session.scalar(select(Notification.status)) == "sent"
    auth.login("admin")
    page = client.get("/notifications/").get_data(as_text=True)
    assert "协会日历" in page
    assert "HTTP 500" in page
