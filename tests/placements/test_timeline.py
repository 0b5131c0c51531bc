"""The placement timeline: needed practice days, month cells, bounded queries."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from pdtracker.placements.timeline import MONTHS, build_timeline, practice_days
from pdtracker.progress.definitions import ActivityFact

AS_OF = date(2026, 6, 30)  # window: 2021-07-01 … 2026-06-30


def _fact(start: date, end: date, kind: str = "enterprise_placement") -> ActivityFact:
    return ActivityFact(id=None, kind=kind, start=start, end=end)


@pytest.mark.parametrize(
    ("facts", "credited", "needed"),
    [
        ([], 0, 180),
        ([_fact(date(2026, 1, 1), date(2026, 1, 31))], 31, 149),
        # Overlapping spans count each day once.
        (
            [
                _fact(date(2026, 1, 1), date(2026, 1, 31)),
                _fact(date(2026, 1, 20), date(2026, 2, 9)),
            ],
            40,
            140,
        ),
        # Only the part inside the window counts.
        ([_fact(date(2021, 6, 1), date(2021, 7, 10))], 10, 170),
        ([_fact(date(2020, 1, 1), date(2021, 6, 30))], 0, 180),
        ([_fact(date(2025, 1, 1), date(2025, 12, 31))], 365, 0),
    ],
)
def test_practice_days(facts, credited, needed) -> None:
    assert practice_days(facts, AS_OF) == (credited, needed)


def test_timeline_numbers(
    app,
    world,
    make_activity,
    make_enterprise,
    make_placement,
) -> None:
    teacher = world["teacher1"]
    verified = {"kind_code": "enterprise_placement", "status": "verified"}
    make_activity(
        teacher, starts_on=date(2026, 1, 1), ends_on=date(2026, 1, 31), **verified
    )
    make_activity(
        teacher, starts_on=date(2021, 6, 1), ends_on=date(2021, 7, 10), **verified
    )
    # Not verified, another kind, another teacher: none of these count.
    make_activity(
        teacher, kind_code="enterprise_placement", status="completed",
        starts_on=date(2026, 3, 1), ends_on=date(2026, 3, 31),
    )  # fmt: skip
    make_activity(teacher, status="verified", starts_on=date(2026, 4, 1))
    make_activity(
        world["teacher2"], starts_on=date(2025, 1, 1), ends_on=date(2025, 12, 31),
        **verified,
    )  # fmt: skip
    enterprise = make_enterprise()
    make_placement(
        teacher, enterprise, status="approved",
        starts_on=date(2026, 7, 15), ends_on=date(2026, 8, 10),
    )  # fmt: skip
    make_placement(
        teacher, enterprise, status="cancelled",
        starts_on=date(2026, 9, 1), ends_on=date(2026, 9, 30),
    )  # fmt: skip
    make_placement(
        world["head2"], enterprise,
        starts_on=date(2026, 7, 1), ends_on=date(2026, 7, 31),
    )  # fmt: skip
    with app.app_context():
        timeline = build_timeline(world["ai"].id, date(2026, 7, 1))
    assert len(timeline.months) == MONTHS
    assert timeline.months[0] == date(2026, 7, 1)
    assert timeline.months[-1] == date(2027, 12, 1)
    rows = {row.teacher.username: row for row in timeline.rows}
    assert set(rows) == {"teacher1", "teacher2", "head1"}
    # 31 January days + 2021-07-02 … 07-10 (the window starts 2021-07-02).
    assert (rows["teacher1"].credited, rows["teacher1"].needed) == (40, 140)
    assert (rows["teacher2"].credited, rows["teacher2"].needed) == (365, 0)
    assert rows["head1"].needed == 180
    cells = rows["teacher1"].cells
    assert [s.days for s in cells[0]] == [17]
    assert [s.days for s in cells[1]] == [10]
    assert cells[0][0].status == "approved"
    assert cells[2] == []  # the cancelled September placement is not shown
    assert rows["teacher1"].planned_days == 27
    # Who needs the most comes first.
    assert [r.teacher.username for r in timeline.rows][-1] == "teacher2"


def test_timeline_page(client, auth, world, make_enterprise, make_placement) -> None:
    make_placement(
        world["teacher1"], make_enterprise(), status="in_progress",
        starts_on=date(2026, 3, 2), ends_on=date(2036, 3, 2),
    )  # fmt: skip
    auth.login("head1")
    page = client.get("/placements/timeline")
    assert page.status_code == 200
    assert "teacher1" in page.text
    assert "text-bg-warning" in page.text
    assert 'data-needed="180"' in page.text
    assert "style=" not in page.text


def test_timeline_query_count_does_not_grow(
    client,
    auth,
    count_queries,
    make_department,
    make_user,
    make_activity,
    make_enterprise,
    make_placement,
) -> None:
    from pdtracker.auth.models import Role

    dept = make_department()
    make_user("boss", Role.HEAD, department=dept)
    enterprise = make_enterprise(placement_capacity=100)

    def add_teachers(start: int, stop: int) -> None:
        for n in range(start, stop):
            teacher = make_user(f"t{n:03d}", department=dept)
            make_placement(teacher, enterprise, status="approved")
            make_activity(
                teacher, kind_code="enterprise_placement", status="verified",
                starts_on=date(2025, 5, 1), ends_on=date(2025, 5, 20),
            )  # fmt: skip

    auth.login("boss")

    def measure() -> int:
        with count_queries() as counter:
            assert client.get("/placements/timeline").status_code == 200
        return counter.count

    add_teachers(0, 3)
    few = measure()
    add_teachers(3, 30)
    many = measure()
    assert many == few
    assert few <= 8


def test_still_needed_follows_the_active_ruleset(
    app, client, auth, world, make_activity
) -> None:
    """A college that asks 120 days sees 120 − credited, not the default's 180."""
    from tests.progress.test_rulesets_admin import _published

    teacher = world["teacher1"]
    make_activity(
        teacher, kind_code="enterprise_placement", status="verified",
        starts_on=date(2026, 1, 1), ends_on=date(2026, 1, 31),
    )  # fmt: skip
    with app.app_context():
        before = build_timeline(world["ai"].id, date(2026, 7, 1))
    assert {r.teacher.username: r.needed for r in before.rows}["teacher1"] == 149
    auth.login("admin")
    _published(app, client)  # demo-college: 120 days of enterprise practice
    with app.app_context():
        after = build_timeline(world["ai"].id, date(2026, 7, 1))
    assert after.required == 120
    assert {r.teacher.username: r.needed for r in after.rows}["teacher1"] == 89
    auth.logout()
    auth.login("head1")
    html = client.get("/placements/timeline").get_data(as_text=True)
    assert 'data-needed="89"' in html


def test_a_ruleset_without_practice_shows_no_days_needed(app, world) -> None:
    from pdtracker.progress.definitions import Level
    from pdtracker.progress.rulebook import load_builtin

    builtin = load_builtin()
    without = replace(
        builtin,
        levels=tuple(
            Level(code=lv.code, requirements=tuple(
                r for r in lv.requirements if r.code != "enterprise_practice"))
            for lv in builtin.levels
        ),
    )  # fmt: skip
    with app.app_context():
        timeline = build_timeline(world["ai"].id, date(2026, 7, 1), without)
    assert timeline.required is None
    assert {r.needed for r in timeline.rows} == {None}


def test_the_timeline_follows_the_departments_college_layer(
    app, make_department, make_user
) -> None:
    from datetime import UTC, datetime

    from pdtracker.auth.models import Role
    from pdtracker.extensions import db
    from pdtracker.progress.models import StoredRuleset
    from pdtracker.progress.records import active_ruleset_for
    from pdtracker.progress.rulebook import builtin_text

    own = make_department("AI", "人工智能技术应用系", institution="DEMO")
    make_user("t1", Role.TEACHER, department=own)
    with app.app_context():
        db.session.add(
            StoredRuleset(
                name="cn-college-example", version=1, format="toml",
                document=builtin_text("cn-college-example"),
                institution_id=own.institution_id, status="published",
                is_active=True, published_at=datetime(2026, 12, 1, tzinfo=UTC),
            )
        )  # fmt: skip
        db.session.commit()
        college = active_ruleset_for(own.institution_id).ruleset
        regional = active_ruleset_for(None).ruleset
        timeline = build_timeline(own.id, date(2026, 12, 7))
        assert timeline == build_timeline(own.id, date(2026, 12, 7), college)
        assert timeline != build_timeline(own.id, date(2026, 12, 7), regional)
