"""The outbox with an explicit clock: planning, reconciling, claiming, leases, delivery."""

from __future__ import annotations

import smtplib
from datetime import timedelta

import pytest
from sqlalchemy import select

from pdtracker.auth.models import User
from pdtracker.extensions import db
from pdtracker.notifications import delivery
from pdtracker.notifications.dispatch import (
    claim_due,
    dispatch_due,
    mark_sending,
    mark_sent,
)
from pdtracker.notifications.models import (
    Channel,
    Notification,
    NotificationKind,
    NotificationPreference,
)
from pdtracker.notifications.outbox import Reminder, plan, sync
from pdtracker.notifications.planners import plan_reminders, run_planners
from pdtracker.notifications.runs import TickError
from tests.notifications.conftest import NOW, FakePlanner, rows
from tests.notifications.smtp import free_port

# The reminders here are made by hand: no planner re-checks (and cancels) them.
pytestmark = pytest.mark.usefixtures("no_planners")

LEASE = timedelta(minutes=5)


def _reminder(user, *, due_at=NOW, object_id=1, title="讲座", days_stale=1):
    return Reminder(
        NotificationKind.EVENT_TOMORROW,
        user.id,
        "event",
        object_id,
        due_at,
        due_at + timedelta(days=days_stale),
        {"title": title, "event_id": object_id},
    )


def test_planning_twice_inserts_one_row(app, world):
    reminder = _reminder(world["teacher1"])
    with app.app_context():
        assert plan([reminder], NOW) == 1
        assert plan([reminder], NOW + timedelta(minutes=5)) == 0
        db.session.commit()
    (row,) = rows(app)
    assert row.status == "pending"
    assert (
        row.idempotency_key
        == f"event_tomorrow:event:1:{world['teacher1'].id}:2026-03-09"
    )


def test_sync_twice_changes_nothing_the_second_time(app, world, fake_planner):
    fake_planner.wanted = [_reminder(world["teacher1"]), _reminder(world["teacher2"])]
    with app.app_context():
        first = plan_reminders(NOW)
        second = plan_reminders(NOW + timedelta(minutes=10))
    assert first == {"planned": 2, "moved": 0, "revived": 0, "cancelled": 0}
    assert second == {"planned": 0, "moved": 0, "revived": 0, "cancelled": 0}
    assert len(rows(app)) == 2


def test_a_changed_time_on_the_same_day_moves_the_pending_row(app, world, fake_planner):
    fake_planner.wanted = [
        _reminder(world["teacher1"], due_at=NOW + timedelta(hours=2))
    ]
    with app.app_context():
        plan_reminders(NOW)
        fake_planner.wanted = [
            _reminder(
                world["teacher1"], due_at=NOW + timedelta(hours=5), title="新题目"
            )
        ]
        counts = plan_reminders(NOW)
    assert counts["moved"] == 1
    (row,) = rows(app)
    assert row.due_at == NOW + timedelta(hours=5)
    assert row.payload["title"] == "新题目"


def test_an_event_moved_to_another_day_cancels_and_replans(app, world, fake_planner):
    teacher = world["teacher1"]
    fake_planner.wanted = [_reminder(teacher, due_at=NOW + timedelta(hours=2))]
    with app.app_context():
        plan_reminders(NOW)
        fake_planner.wanted = [_reminder(teacher, due_at=NOW + timedelta(days=1))]
        counts = plan_reminders(NOW)
    assert counts["planned"] == 1
    assert counts["cancelled"] == 1
    old, new = rows(app)
    assert (old.status, old.reason) == ("cancelled", "no_longer_due")
    assert new.status == "pending"
    assert new.due_at == NOW + timedelta(days=1)


def test_a_cancelled_event_cancels_its_reminders_and_revives_them_if_restored(
    app, world, fake_planner
):
    reminder = _reminder(world["teacher1"])
    fake_planner.wanted = [reminder]
    with app.app_context():
        plan_reminders(NOW - timedelta(hours=1))
        fake_planner.wanted = []
        assert plan_reminders(NOW - timedelta(minutes=30))["cancelled"] == 1
        assert dispatch_due(NOW)["claimed"] == 0
        fake_planner.wanted = [reminder]
        assert plan_reminders(NOW)["revived"] == 1
        assert dispatch_due(NOW)["sent"] == 1
    assert [r.status for r in rows(app)] == ["sent"]


def test_dispatch_asks_the_planner_again_before_sending(app, world, fake_planner, smtp):
    """An event cancelled after the last planning tick is not announced."""
    fake_planner.wanted = [_reminder(world["teacher1"]), _reminder(world["teacher2"])]
    with app.app_context():
        plan_reminders(NOW - timedelta(minutes=5))
        fake_planner.wanted = [_reminder(world["teacher2"], title="改过的标题")]
        result = dispatch_due(NOW)
    assert result["sent"] == 1
    assert result["cancelled"] == 1
    assert fake_planner.calls[-1] == {1}
    first, second = rows(app)
    assert (first.status, first.reason) == ("cancelled", "no_longer_due")
    assert second.payload["title"] == "改过的标题"
    (message,) = smtp.received()
    assert message["To"].addresses[0].username == "teacher2"


def test_a_due_row_is_sent_once_and_never_again(app, world, make_reminder, smtp):
    row_id = make_reminder(world["teacher1"], due_at=NOW)
    with app.app_context():
        assert dispatch_due(NOW - timedelta(seconds=1))["claimed"] == 0
        assert dispatch_due(NOW)["sent"] == 1
        for later in (timedelta(minutes=1), timedelta(hours=1), timedelta(days=30)):
            assert dispatch_due(NOW + later)["claimed"] == 0
    assert len(smtp.received()) == 1
    (row,) = rows(app)
    assert (row.id, row.status, row.channel) == (row_id, "sent", "email_and_app")
    assert row.sent_at == NOW
    assert row.emailed_at == NOW
    assert row.claim_token is None


def test_after_days_down_relevant_rows_go_once_and_stale_ones_are_dropped(
    app, world, make_reminder, smtp
):
    """Misfire: reminders planned before a 3-day outage; only the still-useful ones go."""
    teacher = world["teacher1"]
    down_since = NOW - timedelta(days=3)
    for hours in (0, 12, 30, 50):  # due during the outage; stale one day after due
        make_reminder(teacher, due_at=down_since + timedelta(hours=hours),
                      object_id=hours + 1, now=down_since)  # fmt: skip
    still_useful = make_reminder(
        teacher, due_at=NOW - timedelta(hours=2), object_id=99, now=down_since
    )
    with app.app_context():
        result = dispatch_due(NOW)
        again = dispatch_due(NOW + timedelta(minutes=1))
    assert result["claimed"] == 2  # the row due 50 h after the outage began, and 99
    assert result["sent"] == 2
    assert again["claimed"] == 0
    by_status = {r.id: (r.status, r.reason) for r in rows(app)}
    assert by_status[still_useful] == ("sent", None)
    assert sorted(by_status.values()).count(("dropped", "stale")) == 3
    assert len(smtp.received()) == 2


class Killed(BaseException):
    """Stands for the process dying (SIGKILL): nothing after it runs."""


def test_a_dispatcher_killed_between_claim_and_send_is_retried_after_the_lease(
    app, world, make_reminder, smtp, monkeypatch
):
    """Killed before the e-mail went near SMTP (here: while rendering it)."""
    make_reminder(world["teacher1"], due_at=NOW)
    real_render = delivery.render_email

    def die(notification, user):
        raise Killed

    monkeypatch.setattr(delivery, "render_email", die)
    with app.app_context(), pytest.raises(Killed):
        dispatch_due(NOW, lease=LEASE)
    (row,) = rows(app)
    assert (row.status, row.reason) == ("claimed", None)
    assert row.claimed_until == NOW + LEASE
    monkeypatch.setattr(delivery, "render_email", real_render)
    with app.app_context():
        assert dispatch_due(NOW + timedelta(minutes=1), lease=LEASE)["claimed"] == 0
        assert dispatch_due(NOW + LEASE, lease=LEASE)["claimed"] == 0
        retried = dispatch_due(NOW + LEASE + timedelta(seconds=1), lease=LEASE)
        assert dispatch_due(NOW + timedelta(days=1), lease=LEASE)["claimed"] == 0
    assert retried["sent"] == 1
    assert len(smtp.received()) == 1
    (row,) = rows(app)
    assert (row.status, row.attempts) == ("sent", 2)


def test_a_dispatcher_killed_while_handing_the_mail_to_smtp_never_resends_it(
    app, world, make_reminder, smtp, monkeypatch, client, auth
):
    """In doubt whether the server got it: settled as sent, in-app only, at most once."""
    row_id = make_reminder(world["teacher1"], due_at=NOW)
    real_send = delivery.Mailer.send

    def die(self, message):
        real_send(self, message)  # the server has it; the "sent" commit never comes
        raise Killed

    monkeypatch.setattr(delivery.Mailer, "send", die)
    with app.app_context(), pytest.raises(Killed):
        dispatch_due(NOW, lease=LEASE)
    (row,) = rows(app)
    assert (row.status, row.reason, row.channel) == (
        "claimed",
        "sending",
        "email_and_app",
    )
    monkeypatch.setattr(delivery.Mailer, "send", real_send)
    with app.app_context():
        assert dispatch_due(NOW + LEASE, lease=LEASE)["in_doubt"] == 0  # still leased
        settled = dispatch_due(NOW + LEASE + timedelta(seconds=1), lease=LEASE)
        assert dispatch_due(NOW + timedelta(days=1), lease=LEASE)["claimed"] == 0
    assert (settled["in_doubt"], settled["claimed"], settled["sent"]) == (1, 0, 0)
    assert len(smtp.received()) == 1
    (row,) = rows(app)
    assert (row.status, row.reason, row.emailed_at) == ("sent", "in_doubt", None)
    assert row.sent_at == NOW  # when it was handed to the mail server
    assert row.last_error.startswith("in doubt")
    auth.login("teacher1")
    page = client.get("/notifications/")
    assert f"/notifications/{row_id}/read" in page.get_data(as_text=True)
    assert "人工智能与职业教育讲座" in page.get_data(as_text=True)


def test_a_refused_mail_is_no_longer_in_doubt_and_is_retried(
    app, world, make_reminder, smtp, monkeypatch
):
    """A definite refusal (an SMTP error reply) means nothing was delivered: retry."""
    make_reminder(world["teacher1"], due_at=NOW)
    real_send = delivery.Mailer.send

    def refuse(self, message):
        raise smtplib.SMTPDataError(451, b"try again later")

    monkeypatch.setattr(delivery.Mailer, "send", refuse)
    with app.app_context():
        assert dispatch_due(NOW, lease=LEASE)["retried"] == 1
    (row,) = rows(app)
    assert (row.status, row.reason) == ("claimed", None)
    monkeypatch.setattr(delivery.Mailer, "send", real_send)
    with app.app_context():
        later = dispatch_due(NOW + timedelta(hours=1), lease=LEASE)
    assert (later["in_doubt"], later["sent"], later["emailed"]) == (0, 1, 1)
    assert len(smtp.received()) == 1


def test_a_dispatcher_that_lost_its_row_does_not_mail_it(app, world, make_reminder):
    row_id = make_reminder(world["teacher1"], due_at=NOW)
    with app.app_context():
        assert claim_due(NOW, limit=10, lease=LEASE, token="slow") == [row_id]
        later = NOW + LEASE + timedelta(seconds=1)
        assert claim_due(later, limit=10, lease=LEASE, token="fast") == [row_id]
        assert not mark_sending(row_id, "slow", later, channel=Channel.EMAIL_AND_APP)
        assert mark_sending(row_id, "fast", later, channel=Channel.EMAIL_AND_APP)


def test_a_late_dispatcher_cannot_mark_a_row_another_one_took_over(
    app, world, make_reminder
):
    row_id = make_reminder(world["teacher1"], due_at=NOW)
    with app.app_context():
        assert claim_due(NOW, limit=10, lease=LEASE, token="slow") == [row_id]
        later = NOW + LEASE + timedelta(seconds=1)
        assert dispatch_due(later, lease=LEASE)["sent"] == 1
        assert not mark_sent(
            row_id, "slow", later, channel=Channel.APP_ONLY, emailed=False
        )
        assert (
            claim_due(later + timedelta(days=1), limit=10, lease=LEASE, token="x") == []
        )
    (row,) = rows(app)
    assert (row.status, row.sent_at) == ("sent", later)


def test_switched_off_kind_is_dropped_and_app_only_is_not_emailed(
    app, world, make_reminder, smtp
):
    t1, t2 = world["teacher1"], world["teacher2"]
    with app.app_context():
        db.session.add_all([
            NotificationPreference(user_id=t1.id, kind="event_tomorrow", channel="off"),
            NotificationPreference(user_id=t2.id, kind="event_tomorrow",
                                   channel="app_only"),
        ])  # fmt: skip
        db.session.commit()
    make_reminder(t1)
    make_reminder(t2)
    with app.app_context():
        result = dispatch_due(NOW)
    assert (result["sent"], result["dropped"], result["emailed"]) == (1, 1, 0)
    off, app_only = rows(app)
    assert (off.status, off.reason) == ("dropped", "switched_off")
    assert (app_only.status, app_only.channel, app_only.emailed_at) == (
        "sent",
        "app_only",
        None,
    )
    assert smtp.received() == []


def test_without_a_mail_server_notifications_are_in_app_only(app, world, make_reminder):
    assert app.config["MAIL_SERVER"] is None
    make_reminder(world["teacher1"])
    with app.app_context():
        assert dispatch_due(NOW)["sent"] == 1
    (row,) = rows(app)
    assert (row.status, row.emailed_at) == ("sent", None)


def test_an_inactive_recipient_gets_nothing(app, world, make_reminder):
    with app.app_context():
        db.session.get(User, world["teacher1"].id).is_active_account = False
        db.session.commit()
    make_reminder(world["teacher1"])
    with app.app_context():
        assert dispatch_due(NOW)["dropped"] == 1
    assert rows(app)[0].reason == "inactive"


def test_smtp_down_retries_with_backoff_then_delivers_in_app(app, world, make_reminder):
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=free_port(),
                      NOTIFICATION_MAX_ATTEMPTS=3)  # fmt: skip
    make_reminder(world["teacher1"])
    with app.app_context():
        first = dispatch_due(NOW)
        assert first["retried"] == 1
        (row,) = db.session.scalars(select(Notification)).all()
        assert row.status == "claimed"
        assert row.claimed_until == NOW + timedelta(minutes=2)  # 2 ** attempts
        assert "smtp" in row.last_error
        assert dispatch_due(NOW + timedelta(minutes=1))["claimed"] == 0
        second = dispatch_due(NOW + timedelta(minutes=3))
        assert second["retried"] == 1
        third = dispatch_due(NOW + timedelta(minutes=20))
    assert third["sent"] == 1
    (row,) = rows(app)
    assert (row.status, row.attempts, row.emailed_at) == ("sent", 3, None)
    assert row.last_error.startswith("smtp")


def test_a_failing_planner_does_not_stop_the_others(app, world):
    good = FakePlanner()
    good.wanted = [_reminder(world["teacher1"])]

    def broken(now, until, ids):
        raise RuntimeError("boom")

    bad = FakePlanner(NotificationKind.PLACEMENT_STARTING)
    object.__setattr__(bad.planner, "collect", broken)
    with app.app_context(), pytest.raises(TickError) as caught:
        run_planners([bad.planner, good.planner], NOW)
    assert "boom" in str(caught.value)
    assert caught.value.counts["planned"] == 1
    assert len(rows(app)) == 1


def test_sync_restricted_to_objects_leaves_other_objects_alone(app, world):
    fake = FakePlanner()
    fake.wanted = [_reminder(world["teacher1"], object_id=1),
                   _reminder(world["teacher1"], object_id=2)]  # fmt: skip
    with app.app_context():
        sync(fake.planner, NOW - timedelta(hours=1))
        fake.wanted = []
        counts = sync(fake.planner, NOW - timedelta(hours=1), object_ids={2})
        db.session.commit()
    assert counts["cancelled"] == 1
    assert [r.status for r in rows(app)] == ["pending", "cancelled"]


def test_a_claim_takes_at_most_its_limit_oldest_first(app, world):
    teacher = world["teacher1"]
    with app.app_context():
        plan([_reminder(teacher, object_id=n, due_at=NOW - timedelta(minutes=n))
              for n in range(1, 11)], NOW - timedelta(hours=1))  # fmt: skip
        db.session.commit()
        first = claim_due(NOW, limit=3, lease=LEASE, token="a")
        second = claim_due(NOW, limit=3, lease=LEASE, token="b")
        objects = dict(
            db.session.execute(select(Notification.id, Notification.object_id)).all()
        )
    assert sorted(objects[i] for i in first) == [8, 9, 10]
    assert sorted(objects[i] for i in second) == [5, 6, 7]
