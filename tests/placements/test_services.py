"""Placement services: lifecycle, crediting, conflicts."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from pdtracker.activities.models import Activity
from pdtracker.audit import AuditEntry
from pdtracker.auth.models import User
from pdtracker.extensions import db
from pdtracker.placements.conflicts import placement_conflicts
from pdtracker.placements.models import Placement, weekdays_between
from pdtracker.placements.services import (
    PlacementError,
    approve_placement,
    cancel_placement,
    complete_placement,
    plan_placement,
    report_path,
    start_placement,
    update_placement,
)
from tests.placements.conftest import PDF

NOW = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)


@pytest.fixture
def planned(app, world, make_enterprise):
    """A proposed placement of teacher1 at one enterprise, planned by head1."""
    enterprise = make_enterprise()
    with app.app_context():
        head = db.session.get(User, world["head1"].id)
        placement = plan_placement(
            actor=head,
            teacher_id=world["teacher1"].id,
            enterprise_id=enterprise.id,
            starts_on=date(2026, 3, 2),
            ends_on=date(2026, 3, 29),
            now=NOW,
            tasks="参与产线调试",
        )
        db.session.commit()
        return placement.id


def _activities(teacher_id: int) -> list[Activity]:
    return list(
        db.session.scalars(select(Activity).where(Activity.teacher_id == teacher_id))
    )


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        (date(2026, 3, 2), date(2026, 3, 2), 1),  # a Monday
        (date(2026, 3, 7), date(2026, 3, 8), 0),  # a weekend
        (date(2026, 3, 2), date(2026, 3, 29), 20),  # four full weeks
        (date(2026, 3, 6), date(2026, 3, 10), 3),  # Fri, Sat, Sun, Mon, Tue
        (date(2026, 3, 10), date(2026, 3, 9), 0),
    ],
)
def test_weekdays_between(start: date, end: date, expected: int) -> None:
    assert weekdays_between(start, end) == expected


def test_plan_defaults_working_days_to_weekdays_and_audits(
    app,
    world,
    planned,
) -> None:
    with app.app_context():
        placement = db.session.get(Placement, planned)
        assert placement.status == "proposed"
        assert placement.working_days == 20
        assert placement.planned_by_id == world["head1"].id
        assert placement.sequence == 0
        actions = db.session.scalars(
            select(AuditEntry.action).where(AuditEntry.object_id == planned)
        ).all()
        assert actions == ["placement.create"]


def test_lifecycle_happy_path_bumps_sequence(app, world, planned) -> None:
    with app.app_context():
        head = db.session.get(User, world["head1"].id)
        placement = db.session.get(Placement, planned)
        approve_placement(placement, actor=head, now=NOW)
        start_placement(placement, actor=head, now=NOW)
        complete_placement(
            placement,
            actor=head,
            now=NOW,
            report=io.BytesIO(PDF),
            report_name="总结.pdf",
        )
        db.session.commit()
        assert placement.status == "completed"
        assert placement.sequence == 3
        assert placement.report_original_name == "总结.pdf"
        assert report_path(placement).read_bytes() == PDF
        actions = set(
            db.session.scalars(
                select(AuditEntry.action).where(AuditEntry.actor_id == head.id)
            )
        )
        assert {
            "placement.approved",
            "placement.in_progress",
            "placement.completed",
            "activity.create",
        } <= actions


# A repeated step says it was done already (a second head or a double click).
ILLEGAL = [
    ([], start_placement, "illegal_transition"),
    ([], complete_placement, "illegal_transition"),
    ([approve_placement], approve_placement, "already_approved"),
    ([approve_placement], complete_placement, "illegal_transition"),
    ([approve_placement, start_placement], approve_placement, "illegal_transition"),
    ([approve_placement, start_placement], start_placement, "already_in_progress"),
]


@pytest.mark.parametrize(("before", "step", "code"), ILLEGAL)
def test_illegal_transitions_are_refused(
    app, world, planned, before, step, code
) -> None:
    with app.app_context():
        head = db.session.get(User, world["head1"].id)
        placement = db.session.get(Placement, planned)
        for move in before:
            move(placement, actor=head, now=NOW)
        status, sequence = placement.status, placement.sequence
        kwargs = {"report": io.BytesIO(PDF)} if step is complete_placement else {}
        with pytest.raises(PlacementError) as raised:
            step(placement, actor=head, now=NOW, **kwargs)
        assert raised.value.code == code
        assert (placement.status, placement.sequence) == (status, sequence)
        assert _activities(world["teacher1"].id) == []


def test_closed_placements_cannot_move_or_change(app, world, planned) -> None:
    with app.app_context():
        head = db.session.get(User, world["head1"].id)
        placement = db.session.get(Placement, planned)
        cancel_placement(placement, actor=head, reason="企业停产", now=NOW)
        assert placement.status == "cancelled"
        assert placement.cancel_reason == "企业停产"
        for step in (approve_placement, start_placement):
            with pytest.raises(PlacementError):
                step(placement, actor=head, now=NOW)
        with pytest.raises(PlacementError):
            cancel_placement(placement, actor=head, reason="again", now=NOW)
        with pytest.raises(PlacementError) as raised:
            update_placement(placement, actor=head, now=NOW, tasks="x")
        assert raised.value.code == "closed"


def test_cancel_needs_a_reason(app, world, planned) -> None:
    with app.app_context():
        head = db.session.get(User, world["head1"].id)
        placement = db.session.get(Placement, planned)
        with pytest.raises(PlacementError) as raised:
            cancel_placement(placement, actor=head, reason="  ", now=NOW)
        assert raised.value.code == "reason_required"
        assert placement.status == "proposed"


def _in_progress(placement: Placement, head: User) -> None:
    approve_placement(placement, actor=head, now=NOW)
    start_placement(placement, actor=head, now=NOW)


def test_completion_requires_a_valid_report(app, world, planned) -> None:
    with app.app_context():
        head = db.session.get(User, world["head1"].id)
        placement = db.session.get(Placement, planned)
        _in_progress(placement, head)
        for report, code in [
            (None, "report_required"),
            (io.BytesIO(b""), "report_empty"),
            (io.BytesIO(b"MZ\x90\x00 not a document"), "report_bad_type"),
        ]:
            with pytest.raises(PlacementError) as raised:
                complete_placement(placement, actor=head, now=NOW, report=report)
            assert raised.value.code == code
        app.config["EVIDENCE_MAX_BYTES"] = len(PDF) - 1
        with pytest.raises(PlacementError) as raised:
            complete_placement(placement, actor=head, now=NOW, report=io.BytesIO(PDF))
        assert raised.value.code == "report_too_large"
        assert placement.status == "in_progress"
        assert _activities(world["teacher1"].id) == []


def test_completion_credits_one_verified_activity_over_the_span(
    app,
    world,
    planned,
) -> None:
    with app.app_context():
        head = db.session.get(User, world["head1"].id)
        placement = db.session.get(Placement, planned)
        _in_progress(placement, head)
        complete_placement(placement, actor=head, now=NOW, report=io.BytesIO(PDF))
        db.session.commit()
        with pytest.raises(PlacementError):
            complete_placement(placement, actor=head, now=NOW, report=io.BytesIO(PDF))
        db.session.rollback()
        [activity] = _activities(world["teacher1"].id)
        assert placement.activity_id == activity.id
        assert activity.kind_code == "enterprise_placement"
        assert activity.source == "placement"
        assert activity.status == "verified"
        assert activity.title == "企业实践：华为技术有限公司"
        assert activity.enterprise_id == placement.enterprise_id
        assert (activity.starts_on, activity.ends_on) == (
            date(2026, 3, 2),
            date(2026, 3, 29),
        )
        assert activity.days == 28
        assert activity.verified_by_id == head.id
        assert activity.verified_at == NOW


def test_update_bumps_sequence_only_on_material_change(app, world, planned) -> None:
    with app.app_context():
        head = db.session.get(User, world["head1"].id)
        placement = db.session.get(Placement, planned)
        changes = update_placement(placement, actor=head, now=NOW, tasks="新任务")
        assert set(changes) == {"tasks"}
        assert placement.sequence == 0
        assert update_placement(placement, actor=head, now=NOW, tasks="新任务") == {}
        update_placement(
            placement,
            actor=head,
            now=NOW,
            ends_on=date(2026, 3, 13),
            working_days=None,
        )
        assert placement.sequence == 1
        assert placement.working_days == 10
        details = db.session.scalars(
            select(AuditEntry.details).where(AuditEntry.action == "placement.update")
        ).all()
        assert details[-1]["changes"]["ends_on"] == ["2026-03-29", "2026-03-13"]


def test_overlapping_placement_of_the_teacher(
    app,
    world,
    make_enterprise,
    make_placement,
) -> None:
    a, b = make_enterprise("甲公司"), make_enterprise("乙公司")
    teacher = world["teacher1"]
    existing = make_placement(
        teacher, a, starts_on=date(2026, 3, 10), ends_on=date(2026, 3, 20)
    )
    make_placement(
        teacher, a, starts_on=date(2026, 3, 1), ends_on=date(2026, 3, 31),
        status="cancelled",
    )  # fmt: skip
    make_placement(world["teacher2"], b)  # another teacher: no conflict
    with app.app_context():
        [conflict] = placement_conflicts(
            teacher.id, b.id, date(2026, 3, 20), date(2026, 4, 5)
        )
        assert conflict.kind == "placement"
        assert conflict.placement_id == existing.id
        assert conflict.enterprise_name == "甲公司"
        assert (
            placement_conflicts(teacher.id, b.id, date(2026, 3, 21), date(2026, 4, 5))
            == []
        )
        excluded = placement_conflicts(
            teacher.id, b.id, date(2026, 3, 10), date(2026, 3, 20),
            exclude_id=existing.id,
        )  # fmt: skip
        assert excluded == []


def test_enterprise_over_capacity_in_a_month(
    app,
    make_department,
    make_user,
    make_enterprise,
    make_placement,
) -> None:
    dept = make_department()
    first, second = (make_user(n, department=dept) for n in ("t_a", "t_b"))
    small = make_enterprise("小企业", placement_capacity=1)
    make_placement(first, small, starts_on=date(2026, 3, 2), ends_on=date(2026, 3, 27))
    make_placement(
        first, small, starts_on=date(2026, 6, 1), ends_on=date(2026, 6, 5),
        status="cancelled",
    )  # fmt: skip
    with app.app_context():
        conflicts = placement_conflicts(
            second.id, small.id, date(2026, 2, 16), date(2026, 6, 10)
        )
        assert [(c.kind, c.month, c.teachers, c.capacity) for c in conflicts] == [
            ("capacity", date(2026, 3, 1), 2, 1)
        ]
        # The same teacher later in March is not a second guest.
        again = placement_conflicts(
            first.id, small.id, date(2026, 3, 30), date(2026, 4, 3)
        )
        assert again == []
        assert (
            placement_conflicts(
                second.id, small.id, date(2026, 4, 1), date(2026, 5, 31)
            )
            == []
        )


def test_capacity_zero_refuses_even_one_teacher(
    app,
    world,
    make_enterprise,
) -> None:
    closed = make_enterprise("暂停接收", placement_capacity=0)
    with app.app_context():
        conflicts = placement_conflicts(
            world["teacher1"].id, closed.id, date(2026, 1, 30), date(2026, 2, 2)
        )
        assert [c.month for c in conflicts] == [date(2026, 1, 1), date(2026, 2, 1)]


def _registration_conflicts(teacher_id: int, start: date, end: date) -> list:
    return [
        (c.event_title, c.starts_on, c.ends_on)
        for c in placement_conflicts(teacher_id, 0, start, end)
        if c.kind == "registration"
    ]


def test_overlapping_registration(app, world, make_event) -> None:
    teacher = world["teacher1"]
    make_event(teacher, datetime(2026, 3, 10, 9), datetime(2026, 3, 10, 12))
    make_event(
        teacher, datetime(2026, 3, 11, 9), datetime(2026, 3, 11, 12),
        registration="cancelled", title="退订的讲座",
    )  # fmt: skip
    make_event(
        teacher, datetime(2026, 3, 12, 9), datetime(2026, 3, 12, 12),
        status="cancelled", title="取消的讲座",
    )  # fmt: skip
    # Early on 28 March in Shanghai is still 27 March in UTC: not inside the span.
    make_event(
        teacher, datetime(2026, 3, 28, 0, 30), datetime(2026, 3, 28, 2),
        title="次日讲座",
    )  # fmt: skip
    make_event(world["teacher2"], datetime(2026, 3, 13, 9), datetime(2026, 3, 13, 12))
    with app.app_context():
        assert _registration_conflicts(
            teacher.id, date(2026, 3, 2), date(2026, 3, 27)
        ) == [("智能制造专家讲座", date(2026, 3, 10), date(2026, 3, 10))]
        assert _registration_conflicts(
            teacher.id, date(2026, 3, 28), date(2026, 3, 28)
        ) == [("次日讲座", date(2026, 3, 28), date(2026, 3, 28))]
        assert (
            _registration_conflicts(teacher.id, date(2026, 3, 14), date(2026, 3, 27))
            == []
        )


def test_overlapping_recurring_registration(app, world, make_event) -> None:
    teacher = world["teacher1"]
    # Mondays 14:00–16:00 from 5 January 2026, twenty times; 9 March is excluded.
    make_event(
        teacher, datetime(2026, 1, 5, 14), datetime(2026, 1, 5, 16),
        rrule="FREQ=WEEKLY;COUNT=20", title="周一研讨",
        exdates=["2026-03-09T06:00:00+00:00"],
        series_ends_at=datetime(2026, 5, 18, 8, tzinfo=UTC),
    )  # fmt: skip
    with app.app_context():
        assert _registration_conflicts(
            teacher.id, date(2026, 3, 2), date(2026, 3, 27)
        ) == [("周一研讨", date(2026, 3, 2), date(2026, 3, 2))]
        assert (
            _registration_conflicts(teacher.id, date(2026, 3, 3), date(2026, 3, 8))
            == []
        )
        assert (
            _registration_conflicts(teacher.id, date(2026, 3, 9), date(2026, 3, 15))
            == []
        )
        assert _registration_conflicts(
            teacher.id, date(2026, 3, 10), date(2026, 3, 16)
        ) == [("周一研讨", date(2026, 3, 16), date(2026, 3, 16))]
        assert (
            _registration_conflicts(teacher.id, date(2026, 5, 19), date(2026, 6, 30))
            == []
        )
