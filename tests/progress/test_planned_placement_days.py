"""Planned placements on the dashboard credit what completion will credit
(issue 15: one number): the teacher's college's counting basis, and the
enterprise mentor's confirmed days when there are any."""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

import pytest
from flask import Flask

from pdtracker.extensions import db
from pdtracker.placements.market_models import MentorAssessment
from pdtracker.progress.facts import by_ids, gather
from pdtracker.timeutil import local_today, utcnow
from tests import factories
from tests.factories import publish_working_days_layer
from tests.placements.market_cast import add_market
from tests.tenancy.conftest import build_two_colleges

PLANNED = re.compile(r'<ul class="list-group mb-3" id="planned">(.*?)</ul>', re.S)


@pytest.fixture
def w(app: Flask) -> dict[str, Any]:
    return add_market(app, build_two_colleges(app))


def _monday_in_three_weeks(app: Flask) -> date:
    with app.app_context():
        day = local_today() + timedelta(weeks=3)
    return day - timedelta(days=day.weekday())


def _plan(app: Flask, w: dict[str, Any], **fields: Any) -> tuple[int, date, date]:
    """An approved two-week placement (Monday to Sunday: 14 days, 10 weekdays)."""
    start = _monday_in_three_weeks(app)
    end = start + timedelta(days=13)
    fields.setdefault("working_days", 10)
    placement = factories.make_placement(
        app, w["teacher1"], w["enterprise"], starts_on=start, ends_on=end,
        status="approved", **fields,
    )  # fmt: skip
    return placement.id, start, end


def _planned_fact(app: Flask, teacher_id: int, placement_id: int) -> Any:
    with app.app_context():
        entry = gather(by_ids([teacher_id]), utcnow())[teacher_id]
    (item,) = [p for p in entry.planned if p.fact.id == f"placement:{placement_id}"]
    return item.fact


def _planned_html(client: Any) -> str:
    client.post("/language", data={"locale": "en"})
    found = PLANNED.search(client.get("/progress/").get_data(as_text=True))
    assert found is not None, "no planned list on the dashboard"
    return " ".join(re.sub(r"<[^>]+>", " ", found.group(1)).split())


def test_default_rules_plan_the_calendar_days(app, client, auth, w) -> None:
    placement_id, start, end = _plan(app, w)
    fact = _planned_fact(app, w["teacher1"].id, placement_id)
    assert (fact.start, fact.last_day, fact.days) == (start, end, 14)
    auth.login("teacher1")
    assert "14 days" in _planned_html(client)


def test_a_working_day_college_plans_the_working_days(app, client, auth, w) -> None:
    with app.app_context():
        publish_working_days_layer(w["teacher1"].institution_id)
    placement_id, start, end = _plan(app, w, working_days=8)
    fact = _planned_fact(app, w["teacher1"].id, placement_id)
    assert (fact.start, fact.last_day, fact.days) == (start, end, 8)
    auth.login("teacher1")
    text = _planned_html(client)
    assert "8 days" in text
    assert "14 days" not in text


def test_another_colleges_rule_is_not_applied(app, w) -> None:
    """Only teacher1's college counts working days; north_teacher1's plan of the
    same span keeps the calendar days (one gather for both teachers)."""
    with app.app_context():
        publish_working_days_layer(w["teacher1"].institution_id)
    own, _, _ = _plan(app, w, working_days=8)
    start = _monday_in_three_weeks(app)
    other = factories.make_placement(
        app, w["north_teacher1"], w["enterprise"], starts_on=start,
        ends_on=start + timedelta(days=13), status="approved", working_days=8,
    )  # fmt: skip
    with app.app_context():
        found = gather(by_ids([w["teacher1"].id, w["north_teacher1"].id]), utcnow())
    days = {
        item.fact.id: item.fact.days
        for entry in found.values()
        for item in entry.planned
        if item.source == "placement"
    }
    assert days == {f"placement:{own}": 8, f"placement:{other.id}": 14}


def test_the_mentors_confirmed_days_are_planned(app, w) -> None:
    """A mentor-hosted placement whose mentor already confirmed 5 days: the
    plan covers the first five days, as completion will credit them."""
    placement_id, start, _ = _plan(app, w, mentor_id=w["mentor1"].id)
    with app.app_context():
        db.session.add(
            MentorAssessment(
                placement_id=placement_id, mentor_id=w["mentor1"].id, scale="grade",
                attendance_score=1, task_score=1, skill_score=1, attitude_score=1,
                confirmed_days=5,
            )
        )  # fmt: skip
        db.session.commit()
    fact = _planned_fact(app, w["teacher1"].id, placement_id)
    assert (fact.start, fact.last_day, fact.days) == (
        start, start + timedelta(days=4), 5,
    )  # fmt: skip


def test_the_dashboard_follows_the_mentors_assessment(app, client, auth, w) -> None:
    """The cached dashboard picks up the mentor's confirmed days at once."""
    placement_id, start, _ = _plan(app, w, mentor_id=w["mentor1"].id)
    auth.login("teacher1")
    assert "14 days" in _planned_html(client)
    auth.logout()
    auth.login("mentor1")
    response = client.post(
        f"/placements/{placement_id}/assessment",
        data={"attendance_score": "优", "task_score": "良", "skill_score": "优",
              "attitude_score": "优", "confirmed_days": 5, "comments": "认真"},
    )  # fmt: skip
    assert response.status_code == 302, response.text
    auth.logout()
    auth.login("teacher1")
    text = _planned_html(client)
    assert "5 days" in text
    assert "14 days" not in text
