"""Event services: editing and SEQUENCE, registration with a waitlist, attendance."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from pdtracker.activities.models import Activity
from pdtracker.auth.models import User
from pdtracker.events.attendance import mark_all_attended, mark_attended
from pdtracker.events.errors import EventError, RegistrationError
from pdtracker.events.models import Event, Registration
from pdtracker.events.recurrence import RecurrenceError, normalise_rrule
from pdtracker.events.registrations import cancel_registration, register
from pdtracker.events.roster import waitlist_position
from pdtracker.events.services import (
    EventData,
    cancel_event,
    create_event,
    publish_event,
    update_event,
)
from pdtracker.extensions import db

T0 = datetime(2026, 5, 1, tzinfo=UTC)
START = datetime(2026, 6, 10, 1, 0, tzinfo=UTC)  # 09:00 in Shanghai


def _data(**fields) -> EventData:
    fields.setdefault("kind_code", "seminar")
    fields.setdefault("title", "双师型教师座谈会")
    if not fields.get("is_all_day"):
        fields.setdefault("starts_at", START)
        fields.setdefault("ends_at", START + timedelta(hours=2))
    fields.setdefault("credited_hours", Decimal("2"))
    return EventData(**fields)


def _teachers(make_user, n: int) -> list[User]:
    return [make_user(f"t{i:02d}") for i in range(n)]


def _get(model, id_):
    return db.session.get(model, id_)


def test_create_gives_uid_from_id_and_starts_as_draft(app, ctx) -> None:
    event = create_event(_data(), None, T0)
    db.session.commit()
    assert event.uid == f"event-{event.id}@pdtracker.{app.config['FEED_DOMAIN']}"
    assert event.status == "draft"
    assert event.sequence == 0
    assert event.updated_at == T0
    assert event.series_ends_at == START + timedelta(hours=2)


def test_sequence_grows_only_on_material_change_of_published_event(ctx) -> None:
    event = create_event(_data(), None, T0)
    update_event(event, _data(title="改名的草稿"), None, T0)
    assert event.sequence == 0  # drafts are in no feed yet
    publish_event(event, None, T0 + timedelta(hours=1))
    assert event.sequence == 0
    t1 = T0 + timedelta(days=1)
    assert update_event(event, _data(title="改名的草稿", description="说明"), None, t1)
    assert (event.sequence, event.updated_at) == (0, t1)  # description is not material
    t2 = T0 + timedelta(days=2)
    assert update_event(event, _data(title="新标题", description="说明"), None, t2)
    assert (event.sequence, event.updated_at) == (1, t2)
    later = START + timedelta(days=1)
    moved = _data(
        title="新标题",
        description="说明",
        starts_at=later,
        ends_at=later + timedelta(hours=1),
    )
    update_event(event, moved, None, T0 + timedelta(days=3))
    assert event.sequence == 2
    assert not update_event(event, moved, None, T0 + timedelta(days=4))
    assert event.sequence == 2
    assert event.updated_at == T0 + timedelta(days=3)


def test_cancel_bumps_sequence_and_refuses_further_edits(ctx) -> None:
    event = create_event(_data(), None, T0)
    publish_event(event, None, T0)
    cancel_event(event, None, T0 + timedelta(days=1))
    assert event.status == "cancelled"
    assert event.cancelled_at == T0 + timedelta(days=1)
    assert event.sequence == 1
    with pytest.raises(EventError) as exc:
        update_event(event, _data(title="x"), None, T0 + timedelta(days=2))
    assert exc.value.code == "cancelled"
    with pytest.raises(EventError):
        publish_event(event, None, T0)


def test_all_day_event_stores_dates_and_midnights(ctx) -> None:
    data = _data(is_all_day=True, start_on=date(2026, 4, 20), end_on=date(2026, 4, 23))
    event = create_event(data, None, T0)
    db.session.commit()
    assert event.last_day == date(2026, 4, 22)
    # Midnight in Shanghai is 16:00 UTC the day before.
    assert event.starts_at == datetime(2026, 4, 19, 16, tzinfo=UTC)
    assert event.ends_at == datetime(2026, 4, 22, 16, tzinfo=UTC)


def test_all_day_check_constraint_rejects_missing_dates(ctx) -> None:
    event = create_event(_data(), None, T0)
    db.session.commit()
    event.is_all_day = True
    with pytest.raises(Exception, match="(?i)check|constraint"):
        db.session.commit()
    db.session.rollback()


def test_register_until_full_then_waitlist_and_promote_oldest(make_user, ctx) -> None:
    teachers = _teachers(make_user, 4)
    event = create_event(_data(capacity=2), None, T0)
    publish_event(event, None, T0)
    regs = [
        register(_get(User, t.id), event, T0 + timedelta(minutes=i))
        for i, t in enumerate(teachers)
    ]
    assert [r.status for r in regs] == [
        "registered",
        "registered",
        "waitlisted",
        "waitlisted",
    ]
    assert waitlist_position(regs[2]) == 1
    assert waitlist_position(regs[3]) == 2
    cancel_registration(_get(User, teachers[0].id), event, T0 + timedelta(hours=1))
    db.session.commit()
    assert [r.status for r in regs] == [
        "cancelled",
        "registered",
        "registered",
        "waitlisted",
    ]
    assert waitlist_position(regs[3]) == 1


def test_cancelling_a_waitlist_place_promotes_nobody(make_user, ctx) -> None:
    teachers = _teachers(make_user, 3)
    event = create_event(_data(capacity=1), None, T0)
    publish_event(event, None, T0)
    regs = [register(_get(User, t.id), event, T0) for t in teachers]
    cancel_registration(_get(User, teachers[1].id), event, T0)
    assert [r.status for r in regs] == ["registered", "cancelled", "waitlisted"]


def test_reregistering_reuses_the_row_at_the_back_of_the_queue(make_user, ctx) -> None:
    a, b = _teachers(make_user, 2)
    event = create_event(_data(capacity=1), None, T0)
    publish_event(event, None, T0)
    first = register(_get(User, a.id), event, T0)
    cancel_registration(_get(User, a.id), event, T0 + timedelta(minutes=1))
    register(_get(User, b.id), event, T0 + timedelta(minutes=2))
    again = register(_get(User, a.id), event, T0 + timedelta(minutes=3))
    assert again.id == first.id
    assert again.status == "waitlisted"
    assert db.session.scalar(select(func.count()).select_from(Registration)) == 2
    with pytest.raises(RegistrationError) as exc:
        register(_get(User, a.id), event, T0 + timedelta(minutes=4))
    assert exc.value.code == "already_registered"


def test_raising_capacity_promotes_waitlisted(make_user, ctx) -> None:
    teachers = _teachers(make_user, 3)
    event = create_event(_data(capacity=1), None, T0)
    publish_event(event, None, T0)
    regs = [register(_get(User, t.id), event, T0) for t in teachers]
    update_event(event, _data(capacity=2), None, T0)
    assert [r.status for r in regs] == ["registered", "registered", "waitlisted"]
    update_event(event, _data(capacity=None), None, T0)
    assert [r.status for r in regs] == ["registered"] * 3


@pytest.mark.parametrize(
    ("status", "deadline", "when", "code"),
    [
        ("draft", None, T0, "not_open"),
        ("cancelled", None, T0, "not_open"),
        ("published", T0, T0 + timedelta(seconds=1), "closed"),
        ("published", None, START + timedelta(minutes=1), "closed"),
    ],
)
def test_registration_refused(make_user, ctx, status, deadline, when, code) -> None:
    teacher = make_user("t1")
    event = create_event(_data(registration_deadline=deadline), None, T0)
    if status != "draft":
        publish_event(event, None, T0)
    if status == "cancelled":
        cancel_event(event, None, T0)
    with pytest.raises(RegistrationError) as exc:
        register(_get(User, teacher.id), event, when)
    assert exc.value.code == code


def test_cancel_without_registration_is_refused(make_user, ctx) -> None:
    teacher = make_user("t1")
    event = create_event(_data(), None, T0)
    publish_event(event, None, T0)
    with pytest.raises(RegistrationError) as exc:
        cancel_registration(_get(User, teacher.id), event, T0)
    assert exc.value.code == "not_registered"


def test_attendance_credits_one_verified_activity(make_user, ctx) -> None:
    teacher, staff = make_user("t1"), make_user("staff", "staff")
    event = create_event(
        _data(kind_code="industry_conference", credited_hours=Decimal("3.5"),
              location="会展中心"),
        None, T0,
    )  # fmt: skip
    publish_event(event, None, T0)
    reg = register(_get(User, teacher.id), event, T0)
    after = START + timedelta(hours=3)
    with pytest.raises(RegistrationError):
        mark_attended(reg, _get(User, staff.id), START - timedelta(minutes=1))
    activity = mark_attended(reg, _get(User, staff.id), after)
    assert activity is not None
    assert mark_attended(reg, _get(User, staff.id), after) is None
    assert mark_all_attended(event, _get(User, staff.id), after) == 0
    db.session.commit()
    rows = db.session.scalars(select(Activity)).all()
    assert len(rows) == 1
    row = rows[0]
    assert (row.teacher_id, row.kind_code, row.title) == (
        teacher.id,
        "industry_conference",
        "双师型教师座谈会",
    )
    assert (row.status, row.source, row.hours) == ("verified", "event", Decimal("3.5"))
    assert (row.verified_by_id, row.verified_at) == (staff.id, after)
    assert row.starts_on == row.ends_on == date(2026, 6, 10)
    assert (row.start_time.hour, row.end_time.hour) == (9, 11)
    assert row.location == "会展中心"
    assert reg.status == "attended"
    assert reg.activity_id == row.id


def test_activity_id_is_unique_in_the_database(make_user, ctx) -> None:
    a, b = _teachers(make_user, 2)
    event = create_event(_data(), None, T0)
    publish_event(event, None, T0)
    r1 = register(_get(User, a.id), event, T0)
    r2 = register(_get(User, b.id), event, T0)
    activity = mark_attended(r1, None, START)
    db.session.commit()
    r2.activity_id = activity.id
    with pytest.raises(Exception, match="(?i)unique|duplicate"):
        db.session.commit()
    db.session.rollback()


def test_mark_all_attended_counts_new_marks(make_user, ctx) -> None:
    teachers = _teachers(make_user, 3)
    event = create_event(_data(capacity=2), None, T0)
    publish_event(event, None, T0)
    for t in teachers:
        register(_get(User, t.id), event, T0)
    assert (
        mark_all_attended(event, None, START) == 2
    )  # the waitlisted one is not seated
    assert mark_all_attended(event, None, START) == 0
    assert db.session.scalar(select(func.count()).select_from(Activity)) == 2


def test_multi_day_all_day_attendance_dates(make_user, ctx) -> None:
    teacher = make_user("t1")
    data = _data(is_all_day=True, start_on=date(2026, 6, 20), end_on=date(2026, 6, 23))
    event = create_event(data, None, T0)
    publish_event(event, None, T0)
    reg = register(_get(User, teacher.id), event, T0)
    activity = mark_attended(reg, None, datetime(2026, 6, 21, tzinfo=UTC))
    assert (activity.starts_on, activity.ends_on) == (
        date(2026, 6, 20),
        date(2026, 6, 22),
    )
    assert activity.start_time is None


# --- recurrence -------------------------------------------------------------------


def test_until_is_stored_in_utc(ctx) -> None:
    start = datetime(2026, 3, 4, 6, 30, tzinfo=UTC)  # 14:30 Shanghai
    rule = normalise_rrule(
        "FREQ=WEEKLY;BYDAY=WE;UNTIL=20260624", start, "Asia/Shanghai", all_day=False
    )
    assert rule == "FREQ=WEEKLY;BYDAY=WE;UNTIL=20260624T155959Z"
    local = normalise_rrule(
        "RRULE:FREQ=WEEKLY;UNTIL=20260624T143000", start, "Asia/Shanghai", all_day=False
    )
    assert local == "FREQ=WEEKLY;UNTIL=20260624T063000Z"


def test_recurring_event_series_end(ctx) -> None:
    start = datetime(2026, 3, 4, 6, 30, tzinfo=UTC)
    data = _data(starts_at=start, ends_at=start + timedelta(hours=2))
    data.rrule = "FREQ=WEEKLY;COUNT=10"
    event = create_event(data, None, T0)
    assert event.series_ends_at == start + timedelta(weeks=9, hours=2)
    endless = _data(starts_at=start, ends_at=start + timedelta(hours=2))
    endless.rrule = "FREQ=MONTHLY;BYDAY=1WE"
    assert create_event(endless, None, T0).series_ends_at is None


@pytest.mark.parametrize(
    ("rule", "code"),
    [
        ("FREQ=HOURLY", "bad_freq"),
        ("BYDAY=MO", "bad_freq"),
        ("FREQ=WEEKLY;COUNT=3;UNTIL=20270101", "count_and_until"),
        ("FREQ=WEEKLY;UNTIL=2027", "bad_until"),
        ("FREQ=WEEKLY;BYDAY", "malformed"),
        ("FREQ=WEEKLY;BYDAY=XX", "malformed"),
        ("FREQ=DAILY;COUNT=5000", "too_many"),
        ("FREQ=DAILY", "too_many"),
        # Never matches: must be refused quickly, not scanned to year 9999.
        ("FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30", "no_occurrences"),
    ],
)
def test_bad_rules_are_refused(rule: str, code: str) -> None:
    start = datetime(2026, 3, 4, 6, 30, tzinfo=UTC)
    with pytest.raises(RecurrenceError) as exc:
        normalise_rrule(rule, start, "Asia/Shanghai", all_day=False)
    assert exc.value.code == code


def test_event_rows_keep_check_constraints(ctx) -> None:
    event = create_event(_data(), None, T0)
    db.session.commit()
    event.capacity = 0
    with pytest.raises(Exception, match="(?i)check|constraint"):
        db.session.commit()
    db.session.rollback()
    assert _get(Event, event.id).capacity is None
