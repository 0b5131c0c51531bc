"""Placement days: the planner's form, completion, the timeline and the list
show one number (issue 15, "Placement days")."""

from __future__ import annotations

import ast
import io
import re
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pdtracker.auth.models import User
from pdtracker.extensions import db
from pdtracker.placements import days as days_module
from pdtracker.placements.days import DayBasis, basis_for, credited_days
from pdtracker.placements.market_models import MentorAssessment
from pdtracker.placements.models import Placement
from pdtracker.placements.services import (
    approve_placement,
    complete_placement,
    plan_placement,
    start_placement,
)
from pdtracker.placements.timeline import practice_days
from pdtracker.progress.active import active_ruleset_for
from pdtracker.progress.definitions import ActivityFact
from pdtracker.progress.models import StoredRuleset
from tests import factories
from tests.placements.conftest import PDF

NOW = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
MONDAY = date(2026, 3, 2)  # two weeks to Sunday 15 March: 14 days, 10 of them weekdays
SUNDAY = date(2026, 3, 15)
DEFAULT_TITLE = "Dual-qualified teachers in vocational colleges (default rules)"


@pytest.fixture(autouse=True)
def english_head(app, world) -> None:
    """head1 reads the pages in English (the default test locale is Chinese)."""
    with app.app_context():
        db.session.get_one(User, world["head1"].id).locale = "en"
        db.session.commit()


@pytest.fixture
def working_college(app, world):
    """teacher1's college counts placement days as working days."""
    with app.app_context():
        factories.publish_working_days_layer(world["ai"].institution_id, NOW)


def _shown(html: str) -> int | None:
    """The number the page's credited-days line shows."""
    found = re.search(r'id="credited-days"[^>]*data-credited="(\d*)"', html)
    assert found is not None, "no credited-days line on the page"
    return int(found.group(1)) if found.group(1) else None


def _text(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


# --- the count itself -------------------------------------------------------------


@pytest.mark.parametrize(
    ("basis", "working", "confirmed", "expected"),
    [
        (DayBasis.CALENDAR, None, None, 14),
        (DayBasis.WORKING, None, None, 10),
        # The planner's own count: the weekdays first, then the weekend in order.
        (DayBasis.WORKING, 12, None, 12),
        (DayBasis.WORKING, 3, None, 3),
        (DayBasis.CALENDAR, 3, None, 14),  # calendar days ignore the working days
        (DayBasis.CALENDAR, None, 5, 5),  # the mentor's confirmed days win
        (DayBasis.WORKING, None, 12, 12),
        (DayBasis.WORKING, 99, None, 14),  # never more than the span
    ],
)
def test_credited_days(basis, working, confirmed, expected) -> None:
    credit = credited_days(
        MONDAY, SUNDAY, basis, working_days=working, confirmed=confirmed
    )
    assert credit.days == expected == len(set(credit.dates))
    assert all(MONDAY <= d <= SUNDAY for d in credit.dates)
    assert credit.calendar_days == 14
    assert credit.confirmed is (confirmed is not None)


def test_working_days_are_weekdays_first() -> None:
    credit = credited_days(MONDAY, SUNDAY, DayBasis.WORKING, working_days=11)
    assert [d.weekday() for d in credit.dates].count(5) == 1  # the first Saturday
    assert date(2026, 3, 7) in credit.dates
    assert date(2026, 3, 8) not in credit.dates


def test_confirmed_days_are_the_first_days_of_the_span() -> None:
    credit = credited_days(MONDAY, SUNDAY, DayBasis.WORKING, confirmed=3)
    assert credit.dates == (MONDAY, MONDAY + timedelta(1), MONDAY + timedelta(2))
    assert credit.counted == 10


def test_by_month_adds_up() -> None:
    credit = credited_days(date(2026, 1, 26), date(2026, 2, 8), DayBasis.WORKING)
    assert credit.by_month() == {date(2026, 1, 1): 5, date(2026, 2, 1): 5}
    assert sum(credit.by_month().values()) == credit.days


def test_basis_follows_the_measure() -> None:
    assert basis_for("distinct_days") is DayBasis.CALENDAR
    assert basis_for("sum_days") is DayBasis.WORKING
    assert basis_for(None) is DayBasis.CALENDAR


def test_days_module_imports_the_standard_library_only() -> None:
    tree = ast.parse(Path(days_module.__file__).read_text(encoding="utf-8"))
    imported = {
        (node.module or "").split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom)
    } | {
        alias.name.split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
    }
    assert imported <= set(sys.stdlib_module_names) | {"__future__"}


# --- the form's number is the credited number ------------------------------------


def _complete(app, world, starts_on, ends_on, working_days) -> tuple[int, int]:
    """Plan, approve, start and complete; (activity days, engine's credited days)."""
    with app.app_context():
        head = db.session.get(User, world["head1"].id)
        placement = plan_placement(
            actor=head, teacher_id=world["teacher1"].id,
            enterprise_id=world["enterprise"].id, starts_on=starts_on,
            ends_on=ends_on, now=NOW, working_days=working_days,
        )  # fmt: skip
        approve_placement(placement, actor=head, now=NOW)
        start_placement(placement, actor=head, now=NOW)
        activity = complete_placement(
            placement, actor=head, now=NOW, report=io.BytesIO(PDF),
            report_name="report.pdf",
        )  # fmt: skip
        db.session.commit()
        fact = ActivityFact(
            id=activity.id, kind=activity.kind_code, start=activity.starts_on,
            end=activity.ends_on, days=activity.days,
        )  # fmt: skip
        full = active_ruleset_for(world["ai"].institution_id).ruleset
        credited, _ = practice_days([fact], activity.ends_on, full)
        return activity.days, int(credited)


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    start=st.dates(date(2025, 1, 1), date(2027, 12, 31)),
    length=st.integers(0, 120),
    working=st.one_of(st.none(), st.integers(0, 130)),
    college_counts_working_days=st.booleans(),
)
def test_the_forms_number_is_what_completion_credits(
    app, client, auth, world, make_enterprise, start, length, working,
    college_counts_working_days,
) -> None:  # fmt: skip
    """For any span, the days the planner's form shows are the days the
    completed placement's activity carries and the engine credits."""
    if "enterprise" not in world:
        world["enterprise"] = make_enterprise()
        auth.login("head1")
    end = start + timedelta(days=length)
    with app.app_context():
        db.session.query(StoredRuleset).delete()
        db.session.commit()
        if college_counts_working_days:
            factories.publish_working_days_layer(world["ai"].institution_id, NOW)
    params = {"starts_on": start.isoformat(), "ends_on": end.isoformat()}
    if working is not None:
        params["working_days"] = str(working)
    shown = _shown(client.get("/placements/new", query_string=params).text)
    if working is not None and working > length + 1:
        working = None  # the form refuses it; saved plans count the weekdays
    assert shown is not None
    assert _complete(app, world, start, end, working) == (shown, shown)


def test_mentor_confirmed_days_win_on_the_form_and_on_completion(
    app, client, auth, world, make_enterprise, make_user
) -> None:
    from pdtracker.auth.models import Role

    mentor = make_user("mentor9", Role.MENTOR)
    enterprise = make_enterprise()
    with app.app_context():
        head = db.session.get(User, world["head1"].id)
        placement = plan_placement(
            actor=head, teacher_id=world["teacher1"].id, enterprise_id=enterprise.id,
            starts_on=MONDAY, ends_on=SUNDAY, now=NOW,
        )  # fmt: skip
        placement.mentor_id = mentor.id
        approve_placement(placement, actor=head, now=NOW)
        start_placement(placement, actor=head, now=NOW)
        db.session.add(
            MentorAssessment(
                placement_id=placement.id, mentor_id=mentor.id, scale="grade",
                attendance_score=4, task_score=4, skill_score=4, attitude_score=4,
                confirmed_days=6,
            )
        )  # fmt: skip
        db.session.commit()
        placement_id = placement.id
    auth.login("head1")
    html = client.get(f"/placements/{placement_id}/edit").text
    assert _shown(html) == 6
    assert "Credited: 6 days, as the enterprise mentor confirmed them." in _text(html)
    assert "would count 14 days" in _text(html)
    assert 'data-credited="6"' in client.get("/placements/").text
    with app.app_context():
        from pdtracker.placements.timeline import build_timeline

        timeline = build_timeline(world["ai"].id, date(2026, 3, 1))
    row = next(r for r in timeline.rows if r.teacher.username == "teacher1")
    assert [(s.days, s.confirmed) for s in row.cells[0]] == [(6, True)]
    with app.app_context():
        head = db.session.get(User, world["head1"].id)
        activity = complete_placement(
            db.session.get_one(Placement, placement_id), actor=head, now=NOW,
            report=io.BytesIO(PDF), report_name="report.pdf",
        )  # fmt: skip
        assert activity.days == 6


# --- what the pages say -----------------------------------------------------------


def test_the_form_says_calendar_days_count_and_why(client, auth, world) -> None:
    auth.login("head1")
    html = client.get(
        "/placements/new",
        query_string={"starts_on": MONDAY.isoformat(), "ends_on": SUNDAY.isoformat()},
    ).text
    text = _text(html)
    assert _shown(html) == 14
    assert (
        "Credited: 14 days (calendar days of the span, as the rules of "
        f"{DEFAULT_TITLE} count them)."
    ) in text
    assert "The span has 10 working days, but" in text
    assert "distinct calendar days" in text
    assert "placement-days.js" in html


def test_the_form_says_working_days_count_and_why(
    client, auth, world, working_college
) -> None:
    auth.login("head1")
    html = client.get(
        "/placements/new",
        query_string={"starts_on": MONDAY.isoformat(), "ends_on": SUNDAY.isoformat()},
    ).text
    text = _text(html)
    assert _shown(html) == 10
    assert (
        "Credited: 10 days (working days of the span, as the rules of "
        "Working-day college rules count them)."
    ) in text
    assert "The span has 14 calendar days, but" in text


def test_no_reason_when_the_numbers_agree(client, auth, world) -> None:
    auth.login("head1")
    friday = MONDAY + timedelta(days=4)
    html = client.get(
        "/placements/new",
        query_string={"starts_on": MONDAY.isoformat(), "ends_on": friday.isoformat()},
    ).text
    assert _shown(html) == 5
    assert "The span has" not in _text(html)


def test_the_empty_form_names_the_rule(client, auth, world) -> None:
    auth.login("head1")
    html = client.get("/placements/new").text
    assert _shown(html) is None
    assert "credit every calendar day of a placement" in _text(html)


def test_a_refused_post_keeps_the_number(client, auth, world, make_enterprise) -> None:
    enterprise = make_enterprise()
    auth.login("head1")
    html = client.post(
        "/placements/new",
        data={
            "teacher_id": world["teacher1"].id, "enterprise_id": enterprise.id,
            "starts_on": MONDAY.isoformat(), "ends_on": SUNDAY.isoformat(),
            "working_days": "99",
        },
    ).text  # fmt: skip
    assert "More working days than days between the dates." in html
    assert _shown(html) == 14


def test_the_edit_form_detail_list_and_timeline_agree(
    app, client, auth, world, make_enterprise, working_college
) -> None:
    """Working days credited: 10 in two weeks of March; 7 + 3 across a month end."""
    enterprise = make_enterprise()
    spans = [(MONDAY, SUNDAY), (date(2026, 3, 23), date(2026, 4, 5))]
    with app.app_context():
        head = db.session.get(User, world["head1"].id)
        ids = [
            plan_placement(
                actor=head, teacher_id=world["teacher1"].id,
                enterprise_id=enterprise.id, starts_on=s, ends_on=e, now=NOW,
            ).id
            for s, e in spans
        ]  # fmt: skip
        db.session.commit()
    auth.login("head1")
    for placement_id in ids:
        assert _shown(client.get(f"/placements/{placement_id}/edit").text) == 10
        assert _shown(client.get(f"/placements/{placement_id}").text) == 10
    listed = re.findall(r'data-credited="(\d+)"', client.get("/placements/").text)
    assert listed == ["10", "10"]
    with app.app_context():
        from pdtracker.placements.timeline import build_timeline

        timeline = build_timeline(world["ai"].id, date(2026, 3, 1))
    row = next(r for r in timeline.rows if r.teacher.username == "teacher1")
    assert [sum(s.days for s in cell) for cell in row.cells[:2]] == [17, 3]
    assert row.planned_days == 20


def test_the_timeline_page_shows_the_credited_days(
    app, client, auth, world, make_enterprise, working_college
) -> None:
    from pdtracker.timeutil import local_today

    enterprise = make_enterprise()
    with app.app_context():
        first = local_today().replace(day=1)
        monday = first + timedelta(days=(7 - first.weekday()) % 7 + 7)
        head = db.session.get(User, world["head1"].id)
        plan_placement(
            actor=head, teacher_id=world["teacher1"].id, enterprise_id=enterprise.id,
            starts_on=monday, ends_on=monday + timedelta(days=13), now=NOW,
        )  # fmt: skip
        db.session.commit()
    auth.login("head1")
    html = client.get("/placements/timeline").text
    assert sum(int(n) for n in re.findall(r'data-days="(\d+)"', html)) == 10
    assert "its working days, as the rules of Working-day college rules" in _text(html)
    assert re.findall(r'data-credited="(\d+)"', client.get("/placements/").text) == [
        "10"
    ]
