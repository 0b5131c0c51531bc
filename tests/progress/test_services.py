"""The database adapter: facts, per-teacher and department evaluation, stored results."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import insert, select

from pdtracker.activities.models import Activity
from pdtracker.auth.models import User, UserRole
from pdtracker.events.models import Event, Registration
from pdtracker.extensions import db
from pdtracker.org.models import TeacherProfile
from pdtracker.placements.models import Enterprise, Placement
from pdtracker.progress import forecast, records, services
from pdtracker.progress.engine import ActivityFact, evaluate, report_to_dict
from pdtracker.progress.facts import facts_for_teachers
from pdtracker.progress.models import Evaluation, StoredRuleset
from pdtracker.progress.rulebook import load_builtin

AS_OF = date(2026, 3, 1)
NOW = datetime(2026, 3, 1, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai


def qualify(make_activity, teacher, *, practice_end: date = date(2025, 6, 30)) -> None:
    """Verified activities meeting the primary level on AS_OF."""
    make_activity(
        teacher, kind_code="enterprise_placement", title="企业实践",
        starts_on=practice_end - timedelta(days=179), ends_on=practice_end,
        days=180, status="verified",
    )  # fmt: skip
    make_activity(
        teacher, kind_code="training", title="国培", starts_on=date(2024, 7, 1),
        ends_on=date(2024, 7, 30), hours=Decimal("360"), status="verified",
    )  # fmt: skip


def add_placement(
    app, teacher, starts_on: date, ends_on: date, status: str, **kw
) -> int:
    with app.app_context():
        enterprise = db.session.scalar(select(Enterprise).limit(1))
        if enterprise is None:
            enterprise = Enterprise(name="华为技术有限公司", city="深圳")
            db.session.add(enterprise)
            db.session.flush()
        placement = Placement(
            teacher_id=teacher.id, enterprise_id=enterprise.id, starts_on=starts_on,
            ends_on=ends_on, working_days=0, status=status, **kw,
        )  # fmt: skip
        db.session.add(placement)
        db.session.commit()
        return placement.id


def add_event(app, starts_at: datetime, hours: str = "3", **kw) -> int:
    with app.app_context():
        event = Event(
            kind_code=kw.pop("kind_code", "expert_lecture"),
            title=kw.pop("title", "产教融合讲座"),
            starts_at=starts_at,
            ends_at=starts_at + timedelta(hours=3),
            credited_hours=Decimal(hours),
            status=kw.pop("status", "published"),
            uid=f"evt-{starts_at.isoformat()}-{random.random()}@test",
            **kw,
        )
        db.session.add(event)
        db.session.commit()
        return event.id


def register(app, teacher, event_id: int, status: str = "registered") -> int:
    with app.app_context():
        reg = Registration(
            event_id=event_id, teacher_id=teacher.id, status=status, queued_at=NOW
        )
        db.session.add(reg)
        db.session.commit()
        return reg.id


# --- facts ----------------------------------------------------------------------


def test_facts_come_from_activities_placements_and_registrations(
    app, world, make_activity
) -> None:
    t1, t2 = world["teacher1"], world["teacher2"]
    done = make_activity(t1, status="verified", starts_on=date(2025, 5, 1))
    make_activity(
        t1,
        status="rejected",
        rejection_reason="no evidence",
        starts_on=date(2025, 5, 2),
    )
    planned = make_activity(t2, status="planned", starts_on=date(2026, 4, 1))
    approved = add_placement(app, t1, date(2026, 4, 1), date(2026, 6, 29), "approved")
    add_placement(app, t1, date(2026, 7, 1), date(2026, 7, 31), "proposed")
    add_placement(app, t1, date(2026, 8, 1), date(2026, 8, 31), "cancelled",
                  cancel_reason="x")  # fmt: skip
    future = add_event(app, datetime(2026, 3, 20, 1, 0, tzinfo=UTC), hours="4.5")
    past = add_event(app, datetime(2026, 2, 1, 1, 0, tzinfo=UTC))
    seat = register(app, t1, future)
    register(app, t1, past)
    register(app, t2, future, status="waitlisted")

    with app.app_context():
        facts = facts_for_teachers([t1.id, t2.id], now=NOW)

    by_id = {f.id: f for f in facts[t1.id]}
    assert set(by_id) == {done.id, f"placement:{approved}", f"registration:{seat}"}
    placement = by_id[f"placement:{approved}"]
    assert (placement.kind, placement.status, placement.days) == (
        "enterprise_placement", "planned", 90,
    )  # fmt: skip
    lecture = by_id[f"registration:{seat}"]
    assert (lecture.kind, lecture.start, lecture.hours, lecture.status) == (
        "expert_lecture", date(2026, 3, 20), 4.5, "planned",
    )  # fmt: skip
    assert [f.id for f in facts[t2.id]] == [planned.id]


def test_credited_placement_is_not_counted_twice(app, world, make_activity) -> None:
    t1 = world["teacher1"]
    credited = make_activity(
        t1, kind_code="enterprise_placement", starts_on=date(2025, 9, 1),
        ends_on=date(2025, 9, 30), days=30, status="verified",
    )  # fmt: skip
    add_placement(app, t1, date(2025, 9, 1), date(2025, 9, 30), "in_progress",
                  activity_id=credited.id)  # fmt: skip
    with app.app_context():
        facts = facts_for_teachers([t1.id], now=NOW)
    assert [f.id for f in facts[t1.id]] == [credited.id]


# --- one teacher -------------------------------------------------------------------


def test_teacher_status_is_the_engine_on_the_same_facts(
    app, world, make_activity
) -> None:
    t1 = world["teacher1"]
    qualify(make_activity, t1)
    make_activity(t1, kind_code="industry_conference", starts_on=date(2025, 11, 3),
                  status="verified")  # fmt: skip
    add_placement(app, t1, date(2026, 4, 1), date(2026, 4, 30), "approved")
    with app.app_context():
        user = db.session.get(User, t1.id)
        status = services.evaluate_teacher(user, AS_OF, now=NOW)
        facts = facts_for_teachers([t1.id], now=NOW)[t1.id]
    direct = evaluate(load_builtin(), facts, AS_OF)
    assert report_to_dict(status.report) | {"ruleset_version": None} == (
        report_to_dict(direct) | {"ruleset_version": None}
    )
    assert status.report.level == "primary"
    assert status.dual_qualified
    # The earliest lapse among the reached level's requirements: the training.
    assert status.lapses_on == direct.requirement("training_hours").lapses_on
    assert status.lapses_on < direct.requirement("enterprise_practice").lapses_on
    assert [p.source for p in status.planned] == ["placement"]


def test_non_professional_teacher_is_not_assessed(
    app, make_department, make_user, make_activity
) -> None:
    dept = make_department()
    teacher = make_user("guest", department=dept, professional_course=False)
    qualify(make_activity, teacher)
    with app.app_context():
        status = services.evaluate_teacher(
            db.session.get(User, teacher.id), AS_OF, now=NOW
        )
    assert not status.report.assessed
    assert status.report.level is None
    assert status.forecast_on is None


def test_forecast_date_is_the_first_day_the_next_level_is_reached(
    app, world, make_activity
) -> None:
    t1 = world["teacher1"]
    make_activity(t1, kind_code="training", starts_on=date(2025, 1, 6),
                  ends_on=date(2025, 1, 10), hours=Decimal("360"), status="verified")  # fmt: skip
    make_activity(
        t1, kind_code="enterprise_placement", starts_on=date(2025, 7, 1),
        ends_on=date(2025, 9, 28), days=90, status="verified",
    )  # fmt: skip
    add_placement(app, t1, date(2026, 4, 1), date(2026, 6, 29), "approved")
    with app.app_context():
        status = services.evaluate_teacher(db.session.get(User, t1.id), AS_OF, now=NOW)
    assert status.report.level is None
    missing = status.report.next_level_missing()
    assert [(r.code, r.missing) for r in missing] == [("enterprise_practice", 90)]
    assert status.forecast_on == date(2026, 6, 29)
    done = forecast.as_done(status.facts)
    ruleset = load_builtin()
    assert evaluate(ruleset, done, date(2026, 6, 29)).level == "primary"
    assert evaluate(ruleset, done, date(2026, 6, 28)).level is None


def _random_facts(rng: random.Random, n: int) -> list[ActivityFact]:
    kinds = ["enterprise_placement", "training", "expert_lecture", "certificate"]
    facts = []
    for i in range(n):
        kind = rng.choice(kinds)
        start = date(2020, 1, 1) + timedelta(days=rng.randrange(2600))
        span = rng.randrange(1, 120) if kind == "enterprise_placement" else 1
        facts.append(
            ActivityFact(
                id=i,
                kind=kind,
                start=start,
                end=start + timedelta(days=span - 1),
                hours=rng.choice([8, 40, 120, 200]),
                days=span,
                status=rng.choice(["verified", "verified", "planned", "completed"]),
            )  # fmt: skip
        )
    return facts


@pytest.mark.parametrize("seed", range(12))
def test_qualified_on_matches_the_engine_on_every_date(seed: int) -> None:
    rng = random.Random(seed)
    ruleset = load_builtin()
    facts = _random_facts(rng, rng.randrange(0, 25))
    past, future = services.chart_dates(AS_OF)
    for dates, used in ((past, facts), (future, forecast.as_done(facts))):
        expected = [evaluate(ruleset, used, d).level is not None for d in dates]
        assert forecast.qualified_on(ruleset, used, dates) == expected


@pytest.mark.parametrize("seed", range(8))
def test_forecast_reach_is_the_first_day_reached(seed: int) -> None:
    rng = random.Random(100 + seed)
    ruleset = load_builtin()
    facts = _random_facts(rng, rng.randrange(3, 20))
    report = evaluate(ruleset, facts, AS_OF)
    found = forecast.forecast_reach(ruleset, facts, report)
    target = report.next_level
    if target is None:
        assert found is None
        return
    index = [lv.code for lv in report.levels].index(target.code)
    done = forecast.as_done(facts)

    def reached(d: date) -> bool:
        return evaluate(ruleset, done, d).levels[index].reached

    last = found or AS_OF + timedelta(days=400)
    day = AS_OF
    while day < last:
        assert not reached(day), day
        day += timedelta(days=1)
    if found is not None:
        assert reached(found)


# --- departments --------------------------------------------------------------------


def test_department_ratio_forecast_lapses_and_order(
    app, make_department, make_user, make_activity
) -> None:
    dept = make_department()
    other = make_department("ME", "机电工程系")
    a = make_user("a_qualified", department=dept, display_name="甲")
    b = make_user("b_planned", department=dept, display_name="乙")
    make_user("c_nothing", department=dept, display_name="丙")
    make_user("d_guest", department=dept, professional_course=False)
    make_user("e_elsewhere", department=other)
    # a: qualified, but the practice (from 2021-04-04) starts leaving the window.
    qualify(make_activity, a, practice_end=date(2021, 9, 30))
    # b: training done, practice planned from April to end of June.
    make_activity(b, kind_code="training", starts_on=date(2025, 1, 6),
                  ends_on=date(2025, 1, 10), hours=Decimal("360"), status="verified")  # fmt: skip
    add_placement(app, b, date(2026, 4, 1), date(2026, 9, 27), "approved")

    with app.app_context():
        summary = services.evaluate_department(dept.id, AS_OF, now=NOW)

    names = [s.teacher.username for s in summary.teachers]
    assert "e_elsewhere" not in names
    assert names[-1] == "d_guest"  # not assessed: last
    assert names[-2] == "a_qualified"  # at a level: after those without one
    assert names.index("c_nothing") < names.index("b_planned")  # furthest first
    assert (summary.now.qualified, summary.now.total) == (1, 3)
    assert summary.now.ratio == pytest.approx(1 / 3)
    # b reaches primary when the placement ends; a has lapsed by then.
    assert summary.forecasts[6].on == date(2026, 9, 1)
    assert (summary.forecasts[6].qualified, summary.forecasts[12].qualified) == (0, 1)
    assert [s.teacher.username for s in summary.lapsing] == ["a_qualified"]
    assert summary.lapsing[0].lapses_on == date(2026, 4, 4)
    assert summary.history[-1].on == date(2027, 3, 31)
    by_date = {p.on: p for p in summary.history}
    assert by_date[AS_OF].qualified == 1
    assert by_date[date(2025, 3, 31)].qualified == 1


def test_department_reports_equal_the_engine(app, world, make_activity) -> None:
    qualify(make_activity, world["teacher1"])
    make_activity(world["teacher2"], kind_code="seminar", status="verified",
                  starts_on=date(2025, 12, 1))  # fmt: skip
    with app.app_context():
        summary = services.evaluate_department(world["ai"].id, AS_OF, now=NOW)
        ids = [s.teacher.id for s in summary.teachers]
        facts = facts_for_teachers(ids, now=NOW)
    ruleset = load_builtin()
    for s in summary.teachers:
        direct = evaluate(ruleset, facts.get(s.teacher.id, []), AS_OF)
        assert s.report.levels == direct.levels
        assert s.dual_qualified == (direct.level is not None)


def bulk_department(app, make_department, code: str, teachers: int, per_teacher: int):
    """A department with many teachers and ~5 years of activities, by executemany."""
    dept = make_department(code, f"{code} 系")
    rng = random.Random(code)
    kinds = ["expert_lecture", "training", "seminar", "enterprise_placement",
             "industry_conference", "certificate", "enterprise_project"]  # fmt: skip
    with app.app_context():
        ids = db.session.scalars(
            insert(User).returning(User.id, sort_by_parameter_order=True),
            [
                {"username": f"{code}-{n}", "display_name": f"教师{n}",
                 "email": None, "password_hash": "x", "department_id": dept.id,
                 "institution_id": dept.institution_id}
                for n in range(teachers)
            ],
        ).all()  # fmt: skip
        db.session.execute(
            insert(UserRole), [{"user_id": i, "role": "teacher"} for i in ids]
        )
        db.session.execute(
            insert(TeacherProfile),
            [{"user_id": i, "staff_number": f"{code}{i:05d}",
              "institution_id": dept.institution_id,
              "is_professional_course": i % 5 != 0} for i in ids],
        )  # fmt: skip
        rows = []
        for i in ids:
            for _ in range(per_teacher):
                kind = rng.choice(kinds)
                start = date(2021, 3, 1) + timedelta(days=rng.randrange(1850))
                span = rng.randrange(1, 30) if kind == "enterprise_placement" else 1
                rows.append(
                    {"teacher_id": i, "kind_code": kind, "title": "活动",
                     "starts_on": start, "ends_on": start + timedelta(days=span - 1),
                     "hours": Decimal(rng.choice([2, 4, 8])), "days": span,
                     "grade": "intermediate" if kind == "certificate" else None,
                     "status": rng.choice(["verified", "verified", "planned"]),
                     "verified_at": NOW, "role": "attendee", "source": "self"}
                )  # fmt: skip
        db.session.execute(insert(Activity), rows)
        db.session.commit()
    return dept


def test_department_query_count_does_not_grow(
    app, make_department, count_queries
) -> None:
    small = bulk_department(app, make_department, "S", 30, 100)
    large = bulk_department(app, make_department, "L", 300, 100)
    counts = {}
    for dept in (small, large):
        with app.app_context():
            active = records.active_ruleset()
            with count_queries() as counter:
                summary = services.evaluate_department(dept.id, AS_OF, active, now=NOW)
            counts[dept.code] = counter.count
            assert len(summary.teachers) in (30, 300)
    assert counts["S"] == counts["L"]
    assert counts["S"] <= 6


# --- stored evaluations ---------------------------------------------------------------


def test_store_evaluations_records_the_ruleset_version(
    app, world, make_activity
) -> None:
    qualify(make_activity, world["teacher1"])
    with app.app_context():
        assert services.store_evaluations(world["ai"].id, AS_OF, NOW) == 3
        db.session.commit()
        # Run twice: the rows are replaced, not duplicated.
        assert services.store_evaluations(world["ai"].id, AS_OF, NOW) == 3
        db.session.commit()
        rows = db.session.scalars(
            select(Evaluation).order_by(Evaluation.teacher_id)
        ).all()
        recorded = db.session.scalars(select(StoredRuleset)).all()
    assert len(rows) == 3
    assert {(r.ruleset_name, r.ruleset_version) for r in rows} == {
        ("cn-vocational-default", 1)
    }
    assert [(r.name, r.version, r.status, r.is_active) for r in recorded] == [
        ("cn-vocational-default", 1, "published", True)
    ]
    by_teacher = {r.teacher_id: r for r in rows}
    assert by_teacher[world["teacher1"].id].level == "primary"
    assert by_teacher[world["teacher1"].id].report["ruleset_version"] == "1"


def test_store_evaluations_for_every_department(app, world, make_activity) -> None:
    with app.app_context():
        count = services.store_evaluations(None, AS_OF, NOW)
        db.session.commit()
    # teacher1, teacher2, head1, head2 are teachers; staff and admin are not.
    assert count == 4


def test_store_evaluations_in_batches_stores_the_same_rows(
    app, world, make_activity, count_queries
) -> None:
    """The nightly job holds one batch of teachers' facts at a time; same result."""
    qualify(make_activity, world["teacher1"])
    make_activity(world["head2"], kind_code="training", hours=Decimal("40"),
                  status="verified", starts_on=AS_OF - timedelta(days=30))  # fmt: skip

    def stored() -> list[tuple]:
        return [
            (r.teacher_id, r.assessed, r.level, r.report)
            for r in db.session.scalars(
                select(Evaluation).order_by(Evaluation.teacher_id)
            )
        ]

    with app.app_context():
        assert services.store_evaluations(None, AS_OF, NOW) == 4
        db.session.commit()
        whole = stored()
        with count_queries() as one_batch:
            services.store_evaluations(None, AS_OF, NOW)
        db.session.commit()
        with count_queries() as four_batches:
            assert services.store_evaluations(None, AS_OF, NOW, batch=1) == 4
        db.session.commit()
        assert stored() == whole  # replaced, not duplicated, and identical
    # A batch costs at most its three reads, a delete and an insert.
    assert one_batch.count <= 3 + 5
    assert four_batches.count <= 3 + 4 * 5
