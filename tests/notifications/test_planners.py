"""The reminder planners against real events, registrations, placements and activities."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from pdtracker.auth.models import User
from pdtracker.events.models import Event
from pdtracker.events.registrations import cancel_registration
from pdtracker.events.services import EventData, cancel_event, update_event
from pdtracker.extensions import db
from pdtracker.notifications import planners
from pdtracker.notifications.dispatch import dispatch_due
from pdtracker.notifications.planners import (
    nightly_lapse_check,
    plan_reminders,
    weekly_mornings,
)
from pdtracker.notifications.reminders import occurrences
from pdtracker.placements.models import Placement
from pdtracker.progress.definitions import LocalizedText
from pdtracker.progress.standings import compute_all
from pdtracker.progress.standings_models import TeacherStanding
from tests.notifications.conftest import NOW, rows

SHANGHAI_9AM_MONDAY = NOW  # 2026-03-09 01:00 UTC


def _of(app, kind: str) -> list:
    return [r for r in rows(app) if r.kind == kind]


def _edit_event(app, event_id: int, **changes) -> None:
    with app.app_context():
        event = db.session.get(Event, event_id)
        fields = {
            name: getattr(event, name)
            for name in ("kind_code", "title", "starts_at", "ends_at", "location",
                         "credited_hours", "registration_deadline")
        }  # fmt: skip
        update_event(event, EventData(**{**fields, **changes}), None, NOW)
        db.session.commit()


# --- event tomorrow --------------------------------------------------------------


def test_registered_teachers_are_reminded_the_morning_before(
    app, world, make_event, register_for
):
    event_id = make_event(capacity=1)
    assert register_for(world["teacher1"], event_id) == "registered"
    assert register_for(world["teacher2"], event_id) == "waitlisted"
    with app.app_context():
        first = plan_reminders(NOW - timedelta(hours=3))
        second = plan_reminders(NOW - timedelta(hours=2))
    assert first["planned"] == 1
    assert second["planned"] == 0
    (row,) = _of(app, "event_tomorrow")
    assert row.recipient_id == world["teacher1"].id
    assert (row.object_type, row.object_id) == ("event", event_id)
    assert row.due_at == SHANGHAI_9AM_MONDAY
    assert row.stale_after == datetime(2026, 3, 10, 6, 30, tzinfo=UTC)
    assert row.payload["title"] == "人工智能与职业教育讲座"
    with app.app_context():
        assert dispatch_due(NOW)["sent"] == 1


def test_a_cancelled_event_cancels_its_reminders(app, world, make_event, register_for):
    event_id = make_event()
    register_for(world["teacher1"], event_id)
    with app.app_context():
        plan_reminders(NOW - timedelta(hours=3))
        cancel_event(db.session.get(Event, event_id), None, NOW - timedelta(hours=2))
        db.session.commit()
        assert plan_reminders(NOW - timedelta(hours=1))["cancelled"] == 1
        # Only the notice that it was cancelled goes out, not the reminder.
        assert dispatch_due(NOW)["claimed"] == 1
    assert [r.status for r in _of(app, "event_tomorrow")] == ["cancelled"]
    assert [r.status for r in _of(app, "event_cancelled")] == ["sent"]


def test_cancelled_after_the_last_planning_tick_is_caught_at_dispatch(
    app, world, make_event, register_for
):
    event_id = make_event()
    register_for(world["teacher1"], event_id)
    with app.app_context():
        plan_reminders(NOW - timedelta(hours=3))
        cancel_event(db.session.get(Event, event_id), None, NOW - timedelta(minutes=1))
        db.session.commit()
        result = dispatch_due(NOW)
    # The reminder is cancelled; the notice that the event was cancelled is sent.
    assert (result["claimed"], result["cancelled"], result["sent"]) == (2, 1, 1)
    (reminder,) = _of(app, "event_tomorrow")
    assert (reminder.status, reminder.reason) == ("cancelled", "no_longer_due")


def test_a_withdrawn_registration_cancels_the_reminder(
    app, world, make_event, register_for
):
    event_id = make_event()
    register_for(world["teacher1"], event_id)
    with app.app_context():
        plan_reminders(NOW - timedelta(hours=3))
        cancel_registration(
            db.session.get(User, world["teacher1"].id),
            db.session.get(Event, event_id),
            NOW - timedelta(hours=2),
        )
        db.session.commit()
        assert plan_reminders(NOW - timedelta(hours=1))["cancelled"] == 1


def test_an_event_moved_later_that_day_moves_its_reminder(
    app, world, make_event, register_for
):
    event_id = make_event()
    register_for(world["teacher1"], event_id)
    later = datetime(2026, 3, 10, 8, 0, tzinfo=UTC)
    with app.app_context():
        plan_reminders(NOW - timedelta(hours=3))
    _edit_event(app, event_id, starts_at=later, ends_at=later + timedelta(hours=1))
    with app.app_context():
        assert plan_reminders(NOW - timedelta(hours=2))["moved"] == 1
    (row,) = _of(app, "event_tomorrow")
    assert row.stale_after == later
    assert row.payload["starts_at"] == later.isoformat()


def test_an_event_moved_to_another_day_gets_a_new_reminder(
    app, world, make_event, register_for
):
    event_id = make_event()
    register_for(world["teacher1"], event_id)
    moved = datetime(2026, 3, 11, 6, 30, tzinfo=UTC)
    with app.app_context():
        plan_reminders(NOW - timedelta(hours=3))
    _edit_event(app, event_id, starts_at=moved, ends_at=moved + timedelta(hours=2))
    with app.app_context():
        counts = plan_reminders(NOW - timedelta(hours=2))
        # Now only the notice of the change; the new reminder is due tomorrow morning.
        assert dispatch_due(NOW)["claimed"] == len(_of(app, "event_changed")) == 1
        assert dispatch_due(NOW + timedelta(days=1))["sent"] == 1
    assert (counts["cancelled"], counts["planned"]) == (1, 1)
    old, new = _of(app, "event_tomorrow")
    assert old.status == "cancelled"
    assert (new.status, new.due_at) == ("sent", NOW + timedelta(days=1))


def test_a_weekly_seminar_is_reminded_before_each_occurrence(
    app, world, make_event, register_for
):
    start = datetime(2026, 3, 10, 6, 30, tzinfo=UTC)  # Tuesdays 14:30
    event_id = make_event(
        starts_at=start, ends_at=start + timedelta(hours=2),
        rrule="FREQ=WEEKLY;COUNT=6", exdates=["2026-03-17T06:30:00+00:00"],
    )  # fmt: skip
    register_for(world["teacher1"], event_id)
    with app.app_context():
        event = db.session.get(Event, event_id)
        assert list(occurrences(event, NOW, NOW + timedelta(days=21))) == [
            datetime(2026, 3, 10, 6, 30, tzinfo=UTC),
            datetime(2026, 3, 24, 6, 30, tzinfo=UTC),
        ]
        plan_reminders(NOW)
        plan_reminders(NOW + timedelta(days=7))  # 17 March is excluded
        plan_reminders(NOW + timedelta(days=14))
    assert [r.stale_after.date() for r in rows(app)] == [
        date(2026, 3, 10),
        date(2026, 3, 24),
    ]


def test_an_all_day_event_names_its_days(app, world, make_event, register_for, smtp):
    with app.app_context():
        db.session.get(User, world["teacher1"].id).locale = "en"
        db.session.commit()
    event_id = make_event(
        is_all_day=True, start_on=date(2026, 3, 10), end_on=date(2026, 3, 12)
    )
    register_for(world["teacher1"], event_id)
    with app.app_context():
        plan_reminders(NOW - timedelta(hours=1))
        dispatch_due(NOW)
    (message,) = smtp.received()
    text = message.get_body(("plain",)).get_content()
    assert "It runs from March 10, 2026 to March 11, 2026." in text


# --- registration deadline ---------------------------------------------------------


def test_the_deadline_reminder_goes_to_teachers_without_a_seat(
    app, world, make_event, register_for
):
    deadline = NOW + timedelta(days=2, hours=3)
    event_id = make_event(
        capacity=1, registration_deadline=deadline,
        starts_at=NOW + timedelta(days=5), ends_at=NOW + timedelta(days=5, hours=2),
    )  # fmt: skip
    register_for(world["teacher1"], event_id)
    register_for(world["teacher2"], event_id)  # waitlisted
    with app.app_context():
        plan_reminders(NOW)
    (row,) = _of(app, "registration_deadline")
    assert row.recipient_id == world["teacher2"].id
    assert row.due_at == deadline - timedelta(days=2)
    assert row.stale_after == deadline
    assert row.payload["deadline"] == deadline.isoformat()


# --- placements -------------------------------------------------------------------


def test_a_placement_starting_in_7_days_reminds_teacher_and_head(
    app, world, make_placement
):
    approved = make_placement(world["teacher1"], starts_on=date(2026, 3, 16))
    make_placement(world["teacher2"], starts_on=date(2026, 3, 16), status="proposed")
    with app.app_context():
        plan_reminders(NOW - timedelta(hours=1))
    starting = _of(app, "placement_starting")
    assert {r.recipient_id for r in starting} == {
        world["teacher1"].id,
        world["head1"].id,
    }
    assert {(r.object_id, r.due_at) for r in starting} == {(approved, NOW)}
    assert starting[0].payload["enterprise"] == "华为技术有限公司"
    with app.app_context():
        db.session.get(Placement, approved).status = "cancelled"
        db.session.get(Placement, approved).cancel_reason = "改期"
        db.session.commit()
        assert dispatch_due(NOW)["cancelled"] == 2


def test_a_placement_that_ended_without_a_report_asks_for_it(
    app, world, make_placement
):
    make_placement(world["teacher1"], starts_on=date(2026, 2, 9),
                   ends_on=date(2026, 3, 8), status="in_progress")  # fmt: skip
    make_placement(world["teacher2"], starts_on=date(2026, 2, 9),
                   ends_on=date(2026, 3, 8), status="completed",
                   report_stored_name="r.pdf")  # fmt: skip
    with app.app_context():
        plan_reminders(NOW - timedelta(hours=1))
    due = _of(app, "placement_report_due")
    assert {r.recipient_id for r in due} == {world["teacher1"].id, world["head1"].id}
    assert {r.due_at for r in due} == {NOW}
    assert due[0].payload["due_on"] == "2026-03-22"


# --- weekly digests -----------------------------------------------------------------


def test_weekly_mornings_keep_a_missed_monday_for_three_days() -> None:
    zone = ZoneInfo("Asia/Shanghai")
    thursday = NOW + timedelta(days=3, hours=1)
    assert weekly_mornings(NOW, NOW + timedelta(days=2), zone) == [NOW]
    assert weekly_mornings(thursday, thursday + timedelta(days=2), zone) == []
    assert weekly_mornings(NOW + timedelta(days=2), NOW + timedelta(days=8), zone) == [
        NOW,
        NOW + timedelta(days=7),
    ]


def test_the_verification_digest_lists_activities_waiting_over_a_week(
    app, world, make_activity
):
    make_activity(world["teacher1"], title="旧的", updated_at=NOW - timedelta(days=9))
    make_activity(world["teacher2"], title="新的", updated_at=NOW - timedelta(days=2))
    make_activity(world["head2"], title="别系", updated_at=NOW - timedelta(days=20))
    with app.app_context():
        planners.run_planners([planners.NIGHTLY_PLANNERS[0]], NOW)
    digests = _of(app, "verification_digest")
    by_recipient = {r.recipient_id: r for r in digests}
    # head2's own activity is not theirs to review: the admin gets it.
    assert set(by_recipient) == {world["head1"].id, world["admin"].id}
    mine = by_recipient[world["head1"].id].payload
    assert mine["count"] == 1
    assert mine["items"][0]["title"] == "旧的"
    assert by_recipient[world["head1"].id].due_at == NOW
    admins = by_recipient[world["admin"].id]
    assert [i["title"] for i in admins.payload["items"]] == ["别系"]
    assert admins.object_id == world["head2"].department_id


def test_a_head_is_not_reminded_of_their_own_waiting_activity(
    app, world, make_activity
):
    make_activity(
        world["head1"], title="系主任自己的", updated_at=NOW - timedelta(days=9)
    )
    make_activity(world["teacher1"], title="教师的", updated_at=NOW - timedelta(days=9))
    with app.app_context():
        planners.run_planners([planners.NIGHTLY_PLANNERS[0]], NOW)
    by_recipient = {r.recipient_id: r for r in _of(app, "verification_digest")}
    head = by_recipient[world["head1"].id].payload
    assert [i["title"] for i in head["items"]] == ["教师的"]
    admin = by_recipient[world["admin"].id].payload
    assert [i["title"] for i in admin["items"]] == ["系主任自己的"]


# --- lapse warnings -------------------------------------------------------------------


class _FakeProgress:
    """Stands in for the progress engine: one teacher whose placement days lapse."""

    def __init__(self, teacher, lapses_on: date) -> None:
        result = SimpleNamespace(
            code="enterprise_days", lapses_on=lapses_on,
            name=LocalizedText(zh="企业实践天数", en="Enterprise practice days"),
        )  # fmt: skip
        other = SimpleNamespace(code="hours", lapses_on=lapses_on, name=LocalizedText())
        level = SimpleNamespace(reached=True, requirements=(result, other))
        self.status = SimpleNamespace(
            teacher=teacher, report=SimpleNamespace(levels=(level,))
        )
        kinds = {"enterprise_days": {"enterprise_placement"}, "hours": {"training"}}
        self.ruleset = SimpleNamespace(
            requirement=lambda code: SimpleNamespace(kinds=frozenset(kinds[code]))
        )

    def store_evaluations(self, *args) -> int:
        return 0

    def active_ruleset(self) -> SimpleNamespace:
        return SimpleNamespace(ruleset=self.ruleset)

    def evaluate_department(self, department_id, *args, **kwargs):
        teachers = (
            [self.status] if department_id == self.status.teacher.department_id else []
        )
        return SimpleNamespace(
            teachers=teachers, ruleset=SimpleNamespace(ruleset=self.ruleset)
        )


@pytest.mark.parametrize(
    ("days_left", "warning"),
    [(93, None), (91, 90), (90, 90), (60, 90), (30, 30), (5, 30), (0, None)],
)
def test_lapse_warnings_at_90_and_30_days(app, world, monkeypatch, days_left, warning):
    teacher = world["teacher1"]
    lapses_on = date(2026, 3, 9) + timedelta(days=days_left)
    with app.app_context():
        fake = _FakeProgress(db.session.get(User, teacher.id), lapses_on)
        db.session.expunge_all()
    monkeypatch.setattr(planners, "_progress", lambda: fake)
    monkeypatch.setattr(planners, "NIGHTLY_PLANNERS", (planners.NIGHTLY_PLANNERS[2],))
    with app.app_context():
        nightly_lapse_check(NOW)
        nightly_lapse_check(NOW + timedelta(minutes=5))
    warnings = _of(app, "lapse_warning")
    if warning is None:
        assert warnings == []
        return
    due = planners.morning_of(
        lapses_on - timedelta(days=warning), ZoneInfo("Asia/Shanghai")
    )
    assert {r.recipient_id for r in warnings} == {teacher.id, world["head1"].id}
    assert {r.due_at for r in warnings} == {due}
    assert {r.payload["days"] for r in warnings} == {days_left}
    assert {r.idempotency_key.rsplit(":", 1)[1] for r in warnings} == {
        "enterprise_days"
    }


def test_the_nightly_tick_evaluates_only_teachers_whose_status_may_change(
    app, world, make_activity
) -> None:
    with app.app_context():
        first = nightly_lapse_check(NOW)
        quiet = nightly_lapse_check(NOW + timedelta(hours=1))
    make_activity(world["teacher1"], status="verified", starts_on=date(2026, 3, 2))
    with app.app_context():
        changed = nightly_lapse_check(NOW + timedelta(hours=2))
        stored = {
            s.teacher_id: s.level for s in db.session.scalars(select(TeacherStanding))
        }
        fresh = {t: s.level for t, s in compute_all(NOW + timedelta(hours=2)).items()}
    teachers = 4  # teacher1, teacher2, head1, head2
    assert first["standings_evaluated"] == teachers
    assert quiet["standings_evaluated"] == 0
    assert changed["standings_evaluated"] == 1
    assert stored == fresh


# --- under each college's ruleset ----------------------------------------------------


def test_nightly_planners_evaluate_each_department_under_its_colleges_layer(
    app, make_department, make_user, monkeypatch
) -> None:
    from pdtracker.auth.models import Role
    from pdtracker.progress import services as progress_services
    from pdtracker.progress.models import StoredRuleset
    from pdtracker.progress.rulebook import builtin_text

    own = make_department("AI", "人工智能技术应用系", institution="DEMO")
    regional = make_department("NE", "北城机电系", institution="NORTH")
    make_user("ha", Role.HEAD, Role.TEACHER, department=own)
    make_user("hb", Role.HEAD, Role.TEACHER, department=regional)
    applied: dict[int, str] = {}

    def spy(department_id, *args, **kwargs):
        summary = progress_services.evaluate_department(department_id, *args, **kwargs)
        applied[department_id] = summary.ruleset.name
        return summary

    monkeypatch.setattr(
        planners, "_progress", lambda: SimpleNamespace(
            evaluate_department=spy, active_ruleset=progress_services.active_ruleset,
        ),
    )  # fmt: skip
    with app.app_context():
        db.session.add(
            StoredRuleset(
                name="cn-college-example", version=1, format="toml",
                document=builtin_text("cn-college-example"),
                institution_id=own.institution_id, status="published",
                is_active=True, published_at=NOW,
            )
        )  # fmt: skip
        db.session.commit()
        planners.collect_department_digest(NOW, NOW + timedelta(days=7), None)
        assert applied == {
            own.id: "cn-college-example",
            regional.id: "cn-vocational-default",
        }
        applied.clear()
        planners.collect_lapse_warnings(NOW, NOW + timedelta(days=2), None)
        assert applied == {
            own.id: "cn-college-example",
            regional.id: "cn-vocational-default",
        }
