"""E-mail through a real SMTP server on 127.0.0.1: language, local times, both parts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from flask_babel import force_locale, gettext

from pdtracker.notifications.dispatch import dispatch_due
from pdtracker.notifications.models import NotificationKind
from tests.notifications.conftest import NOW

# The reminders here are made by hand: no planner re-checks (and cancels) them.
pytestmark = pytest.mark.usefixtures("no_planners")

# The event starts at 14:30 in Shanghai (06:30 UTC) on Tuesday 10 March 2026.
STARTS = datetime(2026, 3, 10, 6, 30, tzinfo=UTC)
PAYLOAD = {
    "title": "人工智能与职业教育讲座",
    "starts_at": STARTS.isoformat(),
    "ends_at": (STARTS + timedelta(hours=2)).isoformat(),
    "location": "图书馆报告厅 <A>",
    "event_id": 7,
}


def _parts(message):
    assert message.get_content_type() == "multipart/alternative"
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    return text, html


def _send(app, user, make_reminder):
    make_reminder(user, payload=PAYLOAD, object_id=7)
    with app.app_context():
        return dispatch_due(NOW)


def test_english_recipient_in_shanghai(app, make_user, make_reminder, smtp):
    user = make_user("alice", locale="en", display_name="Alice Wang")
    assert _send(app, user, make_reminder)["emailed"] == 1
    (message,) = smtp.received()
    assert message["Subject"] == "Tomorrow: 人工智能与职业教育讲座"
    assert message["To"].addresses[0].addr_spec == "alice@example.edu.cn"
    assert message["Message-ID"].startswith("<n")
    text, html = _parts(message)
    assert "Hello Alice Wang," in text
    assert (
        "It starts Tuesday, March 10, 2026 14:30 and ends Tuesday, March 10, 2026 16:30."
        in text
    )
    assert "Location: 图书馆报告厅 <A>" in text
    assert "Location: 图书馆报告厅 &lt;A&gt;" in html
    assert "Times are shown in Asia/Shanghai." in text
    # SERVER_NAME is set in tests, so the e-mail links to the app's pages.
    assert "http://pdtracker.test/notifications/preferences" in text


def test_a_recipient_elsewhere_sees_their_own_local_time(
    app, make_user, make_reminder, smtp
):
    user = make_user("bob", locale="en", timezone="Europe/Berlin")
    _send(app, user, make_reminder)
    (message,) = smtp.received()
    text, _ = _parts(message)
    assert "It starts Tuesday, March 10, 2026 07:30" in text


def test_chinese_recipient_gets_chinese_subject_body_and_dates(
    app, make_user, make_reminder, smtp
):
    with app.test_request_context(), force_locale("zh_Hans_CN"):
        translated = gettext("Tomorrow: %(title)s", title="")
    if translated == "Tomorrow: ":
        pytest.skip("the zh catalog does not have the notification strings yet")
    user = make_user("zhang", locale="zh_Hans_CN", display_name="张老师")
    _send(app, user, make_reminder)
    (message,) = smtp.received()
    assert message["Subject"] == "明天：人工智能与职业教育讲座"
    text, html = _parts(message)
    assert "张老师，您好：" in text
    assert "2026年3月10日星期二 14:30" in text
    assert "2026年3月10日星期二 16:30" in html
    assert "Tomorrow" not in text


def test_every_kind_renders_in_both_languages(app, make_user, make_reminder, smtp):
    """No kind's template or composer breaks, whatever the payload holds."""
    users = [make_user("en1", locale="en"), make_user("zh1", locale="zh_Hans_CN")]
    for number, kind in enumerate(NotificationKind):
        for user in users:
            make_reminder(user, kind=kind, object_id=number + 1, payload={"x": 1})
    with app.app_context():
        result = dispatch_due(NOW)
    assert result["emailed"] == 2 * len(NotificationKind)
    subjects = {m["Subject"] for m in smtp.received()}
    assert len(subjects) >= len(NotificationKind)
