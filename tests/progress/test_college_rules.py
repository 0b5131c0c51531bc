"""The example college layer in the app (issue 12): profile years from the teacher's
profile, groups with their alternatives, and explanations on the dashboard."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import select

from pdtracker.auth.models import User
from pdtracker.extensions import db
from pdtracker.org.models import TeacherProfile
from pdtracker.progress import records
from pdtracker.progress.facts import local_today
from pdtracker.progress.rulebook import builtin_text


@pytest.fixture
def college(app, world):
    """The example college layer, published and active."""
    with app.app_context():
        admin = db.session.get(User, world["admin"].id)
        now = datetime.now(UTC)
        text = builtin_text("cn-college-example")
        rec = records.create_draft(text, "toml", actor=admin, now=now)
        records.publish(rec, actor=admin, now=now)
        db.session.commit()


def _set_industry_years(app, teacher, years: int) -> None:
    with app.app_context():
        profile = db.session.scalar(
            select(TeacherProfile).where(TeacherProfile.user_id == teacher.id)
        )
        profile.prior_industry_years = years
        db.session.commit()


def test_profile_years_meet_the_alternative(
    app, client, auth, world, college, make_activity
) -> None:
    t1 = world["teacher1"]
    _set_industry_years(app, t1, 3)
    auth.login("teacher1")
    client.post("/language", data={"locale": "en"})
    html = client.get("/progress/").get_data(as_text=True)
    assert 'data-requirement="enterprise_practice" data-credited="1"' in html
    assert 'data-alternative="industry_work" data-credited="3"' in html
    assert "Any one of these is enough: Enterprise practice 180 days (not met); " \
        "Industry work 3 years (met)" in html  # fmt: skip


def test_the_page_follows_a_change_of_profile(
    app, client, auth, world, college
) -> None:
    auth.login("teacher1")
    before = client.get("/progress/").get_data(as_text=True)
    assert 'data-alternative="industry_work" data-credited="0"' in before
    _set_industry_years(app, world["teacher1"], 4)
    after = client.get("/progress/").get_data(as_text=True)
    assert 'data-alternative="industry_work" data-credited="4"' in after


def test_credit_table_and_caps_are_explained(
    app, client, auth, world, college, make_activity
) -> None:
    t1 = world["teacher1"]
    with app.app_context():
        year = local_today().year - 1
    # Six lectures in one year: 4 hours each is 24, capped at 16; two not counted.
    for n in range(6):
        day = date(year, 3, 1 + n)
        make_activity(
            t1, kind_code="expert_lecture", starts_on=day, ends_on=day,
            hours=Decimal("1"), status="verified",
        )  # fmt: skip
    auth.login("teacher1")
    client.post("/language", data={"locale": "en"})
    html = client.get("/progress/").get_data(as_text=True)
    assert 'data-requirement="training_hours" data-credited="16"' in html
    assert "By the credit table:" in html
    assert "at most 16 hours a year" in html
    assert (
        f"{year}: Expert lecture reached the yearly cap of 16 hours; "
        "2 more not counted."
    ) in html


def test_the_head_sees_the_teachers_path(app, client, auth, world, college) -> None:
    """Industry years fall short and no event counts: the page says why."""
    _set_industry_years(app, world["teacher1"], 1)
    auth.login("head1")
    client.post("/language", data={"locale": "en"})
    html = client.get(f"/progress/teachers/{world['teacher1'].id}").get_data(
        as_text=True
    )
    assert 'id="path"' in html
    assert 'data-step="practice_days"' in html  # the alternative closest to met
    assert "No upcoming event counts toward it" in html


def test_department_page_and_export_under_the_college_layer(
    app, client, auth, world, college
) -> None:
    _set_industry_years(app, world["teacher1"], 5)
    auth.login("head1")
    assert client.get("/progress/department").status_code == 200
    text = client.get("/progress/department.csv").get_data().decode("utf-8-sig")
    header, *rows = list(csv.reader(io.StringIO(text)))
    group = header.index("专业实践经历（项条件）")
    assert "年度企业实践（天）" in header
    with app.app_context():
        staff = db.session.get(User, world["teacher1"].id).teacher_profile.staff_number
    (row,) = [r for r in rows if r[0] == staff]
    assert row[group] == "1"  # one alternative met: five years of industry work
