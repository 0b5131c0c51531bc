"""English notifications name departments by their English names where set (issue 15)."""

from __future__ import annotations

import pytest
from flask_babel import force_locale

from pdtracker.notifications.delivery import Formatter, compose
from pdtracker.notifications.models import Notification, NotificationKind


@pytest.mark.parametrize(
    ("locale", "name_en", "subject"),
    [
        (
            "en",
            "Department of AI Technology",
            "Weekly digest: Department of AI Technology",
        ),
        ("en", "", "Weekly digest: 人工智能技术应用系"),  # none set
        ("zh_Hans_CN", "Department of AI Technology", "人工智能技术应用系"),
    ],
)
def test_the_department_digest_names_the_department_in_the_readers_language(
    app, locale, name_en, subject
) -> None:
    row = Notification(
        kind=NotificationKind.DEPARTMENT_DIGEST.value, recipient_id=1, object_id=1,
        payload={"department": "人工智能技术应用系", "department_en": name_en},
    )  # fmt: skip
    # As delivery does: compose in the reader's locale (recipient_context).
    with app.test_request_context(), force_locale(locale):
        content = compose(row, Formatter(locale, "Asia/Shanghai"))
    if locale == "en":
        assert content.subject == subject
    else:
        assert subject in content.subject
        assert "Department of AI Technology" not in content.subject
