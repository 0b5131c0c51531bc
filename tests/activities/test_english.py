"""English pages (issue 15): no untranslated unit ("599 Bytes"), and departments by
their English names where set.
"""

from __future__ import annotations

from datetime import date

import pytest

from pdtracker.activities.display import file_size
from pdtracker.activities.models import EvidenceFile
from pdtracker.auth.models import User
from pdtracker.extensions import db
from pdtracker.org.display import department_name
from pdtracker.org.models import Department


def _english(app, *users) -> None:
    with app.app_context():
        for user in users:
            db.session.get_one(User, user.id).locale = "en"
        db.session.commit()


@pytest.mark.parametrize(
    ("size", "text"),
    [
        (1, "1 byte"),
        (599, "599 bytes"),
        (1000, "1,000 bytes"),
        (1536, "1.5 KB"),
        (5 * 1024 * 1024, "5 MB"),
        (3 * 1024**3 + 1, "3 GB"),
        (None, ""),
    ],
)
def test_file_sizes_in_english(app, size, text) -> None:
    with app.test_request_context():
        assert file_size(size, "en") == text


def test_file_sizes_use_the_locales_number_format(app) -> None:
    with app.test_request_context():
        assert file_size(1234567, "de").startswith("1,2 ")
        assert file_size(1024 * 1000, "en").startswith("1,000 ")


def test_the_evidence_size_reads_in_english(app, client, auth, world, make_activity):
    _english(app, world["teacher1"])
    activity = make_activity(
        world["teacher1"], title="讲座", starts_on=date(2026, 3, 10)
    )
    with app.app_context():
        db.session.add(EvidenceFile(
            activity_id=activity.id, original_name="签到表.pdf", stored_name="a" * 32,
            content_type="application/pdf", size_bytes=599, sha256="0" * 64,
        ))  # fmt: skip
        db.session.commit()
    auth.login("teacher1")
    page = client.get(f"/activities/{activity.id}").text
    assert "599 bytes" in page
    assert "Bytes" not in page


def test_departments_show_their_english_name_in_english(
    app, client, auth, world, make_activity
) -> None:
    with app.app_context():
        dept = db.session.get_one(Department, world["ai"].id)
        dept.name_en = "Department of AI Technology"
        db.session.commit()
        assert department_name(dept, "en") == "Department of AI Technology"
        assert department_name(dept, "zh_Hans_CN") == "人工智能技术应用系"
        dept.name_en = None
        assert department_name(dept, "en") == "人工智能技术应用系"  # none set
        db.session.rollback()
    make_activity(world["teacher1"], title="讲座")
    _english(app, world["head1"])
    auth.login("head1")
    page = client.get("/activities/review").text
    assert "Department of AI Technology" in page
    assert "人工智能技术应用系" not in page
