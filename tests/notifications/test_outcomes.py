"""Outcome notifications: a teacher hears, once each, what happened to their things.

Issue 15, "Outcome notifications": verified / rejected (with the reason) activities;
approved, started, completed, cancelled (with the reason) placements; in-app and
by e-mail, in the teacher's language; the outbox's idempotency key decides that
each goes out once.
"""

from __future__ import annotations

import io
from datetime import date

import pytest
from sqlalchemy import select

from pdtracker.auth.models import Role
from pdtracker.extensions import db
from pdtracker.notifications import outcomes
from pdtracker.notifications.dispatch import dispatch_due
from pdtracker.notifications.models import Notification
from pdtracker.timeutil import utcnow
from tests.notifications.conftest import rows
from tests.placements.conftest import PDF

pytestmark = pytest.mark.usefixtures("no_planners")


@pytest.fixture
def cast(make_department, make_user):
    ai = make_department("AI", "人工智能技术应用系")
    return {
        "teacher": make_user("teacher1", department=ai, locale="en",
                             display_name="Li Na"),
        "head": make_user("head1", Role.HEAD, Role.TEACHER, department=ai,
                          display_name="Head Wang"),
    }  # fmt: skip


def _dispatch(app) -> dict[str, int]:
    with app.app_context():
        return dispatch_due(utcnow())


def _inbox(client, auth, username: str = "teacher1") -> str:
    auth.logout()
    auth.login(username)
    return client.get("/notifications/").text


def test_verified_activity_is_told_once_in_app_and_by_mail(
    app, client, auth, cast, make_activity, smtp
) -> None:
    activity = make_activity(cast["teacher"], title="AI lecture")
    auth.login("head1")
    assert client.post(f"/activities/{activity.id}/verify").status_code == 302
    assert _dispatch(app)["emailed"] == 1
    (message,) = smtp.received()
    assert message["Subject"] == "Activity verified: AI lecture"
    text = message.get_body(("plain",)).get_content()
    assert "Verified by Head Wang." in text
    assert f"http://pdtracker.test/activities/{activity.id}" in text
    # A second run sends nothing new.
    assert _dispatch(app)["claimed"] == 0
    assert len(smtp.received()) == 1
    page = _inbox(client, auth)
    assert page.count("Activity verified: AI lecture") == 1
    (row,) = rows(app)
    assert row.idempotency_key.startswith(f"activity_verified:{activity.id}:")


def test_rejected_activity_carries_the_reason_and_a_second_review_is_news(
    app, client, auth, cast, make_activity, smtp
) -> None:
    activity = make_activity(cast["teacher"], title="AI lecture")
    auth.login("head1")
    client.post(f"/activities/{activity.id}/reject", data={"reason": "No stamp"})
    _dispatch(app)
    (message,) = smtp.received()
    assert message["Subject"] == "Activity sent back: AI lecture"
    assert "Reason: No stamp" in message.get_body(("plain",)).get_content()
    # The teacher changes it (back to completed), the head verifies it after all.
    auth.logout()
    auth.login("teacher1")
    with app.app_context():
        from pdtracker.activities.models import Activity
        from pdtracker.activities.services import update_activity

        saved = db.session.get_one(Activity, activity.id)
        teacher = saved.teacher
        update_activity(saved, _fields(saved), actor=teacher, now=utcnow())
        db.session.commit()
    auth.logout()
    auth.login("head1")
    client.post(f"/activities/{activity.id}/verify")
    _dispatch(app)
    assert [m["Subject"] for m in smtp.received()] == [
        "Activity sent back: AI lecture",
        "Activity verified: AI lecture",
    ]
    assert _dispatch(app)["claimed"] == 0
    page = _inbox(client, auth)
    assert "Activity sent back: AI lecture" in page
    assert "Reason: No stamp" in page


def _fields(activity):
    from pdtracker.activities.services import ActivityFields

    return ActivityFields(
        kind_code=activity.kind_code, title=activity.title,
        starts_on=activity.starts_on, ends_on=activity.ends_on,
        hours=activity.hours, role=activity.role, status="completed",
    )  # fmt: skip


def test_the_same_outcome_planned_twice_is_one_row(app, cast) -> None:
    teacher = cast["teacher"]
    now = utcnow()
    with app.app_context():
        key = "activity_verified:1:2026-03-09T01:00:00+00:00"
        first = outcomes.enqueue_outcome(teacher, outcomes.K.ACTIVITY_VERIFIED, key,
                                         {"title": "x"}, now)  # fmt: skip
        again = outcomes.enqueue_outcome(teacher, outcomes.K.ACTIVITY_VERIFIED, key,
                                         {"title": "x"}, now)  # fmt: skip
        db.session.commit()
        assert (first, again) == (True, False)
        assert db.session.scalar(select(db.func.count(Notification.id))) == 1


def test_an_overlong_key_is_hashed_to_fit_and_stays_stable() -> None:
    key = "event_changed:" + "x" * 300
    assert len(outcomes.stored_key(key, 7)) == 200
    assert outcomes.stored_key(key, 7) == outcomes.stored_key(key, 7)
    assert outcomes.stored_key(key, 7) != outcomes.stored_key(key, 8)


@pytest.fixture
def placement(app, cast):
    from tests import factories

    return factories.make_placement(
        app, cast["teacher"], starts_on=date(2026, 3, 16), ends_on=date(2026, 4, 10),
        status="proposed", mentor_name="Zhao Gong",
    )  # fmt: skip


def test_placement_approved_started_completed_each_told_once(
    app, client, auth, cast, placement, smtp
) -> None:
    url = f"/placements/{placement.id}"
    auth.login("head1")
    client.post(f"{url}/approve")
    client.post(f"{url}/start")
    client.post(f"{url}/complete", data={"report": (io.BytesIO(PDF), "r.pdf")},
                content_type="multipart/form-data")  # fmt: skip
    assert _dispatch(app)["emailed"] == 3
    subjects = [m["Subject"] for m in smtp.received()]
    assert subjects == [
        "Placement approved: 华为技术有限公司",
        "Placement started: 华为技术有限公司",
        "Placement completed: 华为技术有限公司",
    ]
    approved, _, completed = (m.get_body(("plain",)).get_content()
                              for m in smtp.received())  # fmt: skip
    assert "Enterprise mentor: Zhao Gong" in approved
    assert "The placement runs from March 16, 2026 to April 10, 2026." in approved
    with app.app_context():
        from pdtracker.placements.models import Placement

        days = db.session.get_one(Placement, placement.id).activity.days
    assert f"{days} days were credited" in completed
    assert _dispatch(app)["claimed"] == 0
    page = _inbox(client, auth)
    assert "Placement completed: 华为技术有限公司" in page


def test_placement_cancelled_carries_the_reason(
    app, client, auth, cast, placement, smtp
) -> None:
    auth.login("head1")
    client.post(f"/placements/{placement.id}/cancel", data={"reason": "Seconded"})
    _dispatch(app)
    (message,) = smtp.received()
    assert message["Subject"] == "Placement cancelled: 华为技术有限公司"
    assert "Reason: Seconded" in message.get_body(("plain",)).get_content()
    assert _dispatch(app)["claimed"] == 0


def test_a_chinese_teacher_is_told_in_chinese(
    app, client, auth, make_department, make_user, make_activity, smtp
) -> None:
    from flask_babel import force_locale, gettext

    with app.test_request_context(), force_locale("zh_Hans_CN"):
        translated = gettext("Activity verified: %(title)s", title="讲座")
    if translated == "Activity verified: 讲座":
        pytest.skip("the zh catalog does not have the outcome strings yet (lead merge)")
    ai = make_department("AI", "人工智能技术应用系")
    teacher = make_user("teacher1", department=ai, locale="zh_Hans_CN")
    make_user("head1", Role.HEAD, department=ai)
    activity = make_activity(teacher, title="讲座")
    auth.login("head1")
    client.post(f"/activities/{activity.id}/verify")
    _dispatch(app)
    (message,) = smtp.received()
    assert message["Subject"] == translated


def test_in_app_only_without_mail_and_nothing_when_switched_off(
    app, client, auth, cast, make_activity
) -> None:
    from pdtracker.notifications.models import Channel, NotificationKind
    from pdtracker.notifications.preferences import set_preferences

    one = make_activity(cast["teacher"], title="One")
    two = make_activity(cast["teacher"], title="Two")
    auth.login("head1")
    client.post(f"/activities/{one.id}/verify")  # no MAIL_SERVER: in-app only
    result = _dispatch(app)
    assert (result["sent"], result["emailed"]) == (1, 0)
    with app.app_context():
        from pdtracker.auth.models import User

        user = db.session.get_one(User, cast["teacher"].id)
        set_preferences(user, {NotificationKind.ACTIVITY_VERIFIED: Channel.OFF})
        db.session.commit()
    client.post(f"/activities/{two.id}/verify")
    assert _dispatch(app)["dropped"] == 1
    page = _inbox(client, auth)
    assert "Activity verified: One" in page
    assert "Activity verified: Two" not in page
