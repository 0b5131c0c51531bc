"""The association dashboard counts placement days as the colleges credit them
(issue 15): a completed placement its credited activity's days, a planned one
what its college's ruleset would credit (calendar or working days, or the days
an enterprise mentor confirmed)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from pdtracker.auth.models import Role
from pdtracker.extensions import db
from pdtracker.placements.market_models import MentorAssessment
from pdtracker.timeutil import local_today, utcnow
from tests import factories
from tests.association.test_dashboard import college_rows


@pytest.fixture
def colleges(app):
    """DEMO under the default rules (calendar days), NORTH counting working days."""
    with app.app_context():
        today = local_today(utcnow())
    people = {}
    for code in ("DEMO", "NORTH"):
        dept = factories.make_department(app, "AI", f"{code} AI", institution=code)
        people[code] = factories.make_user(
            app, code.lower(), Role.TEACHER, department=dept, professional_course=True
        )
    people["mentor"] = factories.make_user(app, "mentor1", Role.TEACHER)
    factories.make_user(app, "staff1", Role.STAFF)
    with app.app_context():
        factories.publish_working_days_layer(people["NORTH"].institution_id)
    # A Monday to Sunday in the past and one in the future: 7 days, 5 weekdays.
    past = today - timedelta(days=60 + today.weekday())
    ahead = today + timedelta(days=30 - today.weekday())
    people["spans"] = (past, ahead)
    return people


def _week(app, teacher, host, monday, status, **fields):
    if status == "completed":
        stored = f"r{teacher.id}-{monday.isoformat()}.pdf"
        fields |= {"report_stored_name": stored, "report_original_name": "r.pdf",
                   "report_content_type": "application/pdf"}  # fmt: skip
    return factories.make_placement(
        app, teacher, host, starts_on=monday, ends_on=monday + timedelta(days=6),
        status=status, working_days=5, **fields,
    )  # fmt: skip


def _page(client, auth) -> str:
    auth.login("staff1")
    page = client.get("/association/")
    assert page.status_code == 200
    return page.get_data(as_text=True)


def _hosted(html: str, host_id: int) -> tuple[int, int]:
    found = re.search(
        rf'data-enterprise="{host_id}" data-placements="(\d+)" data-days="(\d+)"', html
    )
    assert found is not None
    return int(found.group(1)), int(found.group(2))


@pytest.mark.parametrize(("code", "days"), [("DEMO", 7), ("NORTH", 5)])
def test_days_follow_the_colleges_basis(app, client, auth, colleges, code, days):
    past, ahead = colleges["spans"]
    host = factories.make_enterprise(app, "宿主企业")
    _week(app, colleges[code], host, past, "completed")
    _week(app, colleges[code], host, ahead, "approved")
    html = _page(client, auth)
    row = college_rows(html)[code]
    assert (row["days-completed"], row["days-planned"]) == (str(days), str(days))
    assert _hosted(html, host.id) == (2, 2 * days)


def test_a_completed_placement_counts_its_activitys_days(app, client, auth, colleges):
    past, _ahead = colleges["spans"]
    teacher = colleges["DEMO"]
    credited = factories.make_activity(
        app, teacher, kind_code="enterprise_placement", starts_on=past,
        ends_on=past + timedelta(days=3), days=4, hours=None, status="verified",
    )  # fmt: skip
    host = factories.make_enterprise(app, "宿主企业")
    _week(app, teacher, host, past, "completed", activity_id=credited.id)
    html = _page(client, auth)
    assert college_rows(html)["DEMO"]["days-completed"] == "4"
    assert _hosted(html, host.id) == (1, 4)


def test_a_planned_placement_counts_the_mentors_confirmed_days(
    app, client, auth, colleges
):
    _past, ahead = colleges["spans"]
    host = factories.make_enterprise(app, "宿主企业")
    placement = _week(
        app, colleges["NORTH"], host, ahead, "in_progress",
        mentor_id=colleges["mentor"].id,
    )  # fmt: skip
    with app.app_context():
        db.session.add(
            MentorAssessment(
                placement_id=placement.id, mentor_id=colleges["mentor"].id,
                scale="grade", attendance_score=4, task_score=4, skill_score=4,
                attitude_score=4, confirmed_days=6,
            )
        )  # fmt: skip
        db.session.commit()
    html = _page(client, auth)
    assert college_rows(html)["NORTH"]["days-planned"] == "6"
    assert _hosted(html, host.id) == (1, 6)
