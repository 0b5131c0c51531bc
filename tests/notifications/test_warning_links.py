"""A head's warning about a teacher links to that teacher's page, not to the head's own.

Issue 15, "Pages that work for their people". The lapse warning goes to the teacher
and to their department's heads; each copy's link follows whom it is about.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from pdtracker.auth.models import User
from pdtracker.extensions import db
from pdtracker.notifications.dispatch import dispatch_due
from pdtracker.notifications.models import NotificationKind
from pdtracker.notifications.outbox import Reminder, plan
from tests.notifications.conftest import NOW

pytestmark = pytest.mark.usefixtures("no_planners")


def _warn(app, teacher, people) -> None:
    payload = {"teacher": "teacher1", "requirement_en": "Enterprise practice",
               "requirement_zh": "企业实践", "lapses_on": "2026-06-07", "days": 90}  # fmt: skip
    with app.app_context():
        for user in people:
            db.session.get_one(User, user.id).locale = "en"
        plan(
            [Reminder(NotificationKind.LAPSE_WARNING, person.id, "user", teacher.id,
                      NOW, NOW + timedelta(days=1), payload, extra="enterprise_days")
             for person in people],
            NOW,
        )  # fmt: skip
        db.session.commit()
        dispatch_due(NOW)


def test_the_heads_copy_opens_the_teachers_page(app, client, auth, world, smtp) -> None:
    teacher, head = world["teacher1"], world["head1"]
    _warn(app, teacher, [teacher, head])
    mails = {m["To"].addresses[0].username: m.get_body(("plain",)).get_content()
             for m in smtp.received()}  # fmt: skip
    teacher_page = f"http://pdtracker.test/progress/teachers/{teacher.id}"
    assert teacher_page in mails["head1"]
    assert "Open the teacher's progress" in mails["head1"]
    assert teacher_page not in mails["teacher1"]
    assert "http://pdtracker.test/progress/" in mails["teacher1"]
    auth.login("head1")
    page = client.get("/notifications/").text
    assert f'href="/progress/teachers/{teacher.id}"' in page
    # ... and the page it links to is one the head may open.
    assert client.get(f"/progress/teachers/{teacher.id}").status_code == 200
    auth.logout()
    auth.login("teacher1")
    page = client.get("/notifications/").text
    assert f'href="/progress/teachers/{teacher.id}"' not in page
    assert 'href="/progress/"' in page


@pytest.mark.parametrize(
    "kind",
    [NotificationKind.RECOGNITION_REVIEW_DUE, NotificationKind.RECOGNITION_SUSPENDED],
)
def test_recognition_notices_about_a_teacher_open_that_teachers_page(app, kind) -> None:
    from pdtracker.notifications.delivery import Formatter, compose
    from pdtracker.notifications.models import Notification

    def link(recipient_id: int):
        row = Notification(kind=str(kind), recipient_id=recipient_id, object_id=None,
                           payload={"teacher_id": 7, "level": "中级"})  # fmt: skip
        with app.test_request_context():
            return compose(row, Formatter("en", "Asia/Shanghai")).link

    assert link(recipient_id=3) == ("progress.teacher", {"teacher_id": 7})  # a head
    assert link(recipient_id=7) == ("progress.dashboard", {})  # the teacher
