"""A recognition result opens the teacher's recognitions, where the certificate is."""

from __future__ import annotations

import pytest

from pdtracker.notifications.delivery import Formatter, compose
from pdtracker.notifications.models import Notification, NotificationKind


@pytest.mark.parametrize("granted", [True, False])
def test_a_recognition_result_links_to_the_teachers_recognitions(app, granted) -> None:
    row = Notification(
        kind=NotificationKind.RECOGNITION_RESULT.value, recipient_id=1, object_id=1,
        payload={"level": "初级", "level_en": "Primary", "granted": granted,
                 "reason": "", "valid_until": "2031-12-06"},
    )  # fmt: skip
    with app.test_request_context():
        content = compose(row, Formatter("zh_Hans_CN", "Asia/Shanghai"))
    assert content.link == ("recognition.index", {})
