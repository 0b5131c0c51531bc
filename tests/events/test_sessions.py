"""Series per session: registration for all or chosen sessions, capacity and
attendance per session, walk-ins, and the outcome notifications each sent once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from pdtracker.activities.models import Activity
from pdtracker.auth.models import User
from pdtracker.events.attendance import (
    mark_all_attended,
    mark_attended,
    mark_session_attended,
    register_walk_in,
)
from pdtracker.events.errors import RegistrationError
from pdtracker.events.models import Event, SessionRegistration
from pdtracker.events.registrations import (
    cancel_registration,
    cancel_session,
    register,
)
from pdtracker.events.roster import my_sessions
from pdtracker.events.services import EventData, create_event, publish_event
from pdtracker.events.sessions import list_sessions
from pdtracker.extensions import db
from pdtracker.notifications.models import Notification

T0 = datetime(2026, 2, 1, tzinfo=UTC)
FIRST = datetime(2026, 3, 4, 6, 0, tzinfo=UTC)  # Wednesday 14:00 in Shanghai


def _series(capacity: int | None = None, **fields) -> Event:
    data = EventData(
        kind_code="seminar",
        title="教学能力提升研讨会",
        starts_at=FIRST,
        ends_at=FIRST + timedelta(minutes=90),
        credited_hours=Decimal("1.5"),
        capacity=capacity,
        rrule="FREQ=WEEKLY;BYDAY=WE;COUNT=10",
        **fields,
    )
    event = create_event(data, None, T0)
    publish_event(event, None, T0)
    db.session.flush()
    return event


def _user(id_: int) -> User:
    return db.session.get_one(User, id_)


def _kinds(teacher_id: int) -> list[str]:
    return list(
        db.session.scalars(
            select(Notification.kind)
            .where(Notification.recipient_id == teacher_id)
            .order_by(Notification.id)
        )
    )


def test_a_series_has_ten_sessions_with_stable_keys(ctx) -> None:
    event = _series()
    sessions = list_sessions(event)
    assert len(sessions) == 10
    assert sessions[0].key == "20260304T060000Z"
    assert sessions[1].starts_at == FIRST + timedelta(days=7)
    assert [s.number for s in sessions] == list(range(1, 11))


def test_register_for_the_whole_series_or_chosen_sessions(make_user, ctx) -> None:
    a, b = make_user("t1"), make_user("t2")
    event = _series()
    keys = [s.key for s in list_sessions(event)]
    reg = register(_user(a.id), event, T0)
    assert reg.status == "registered"
    assert sorted(my_sessions(reg)) == sorted(keys)
    chosen = register(_user(b.id), event, T0, keys=[keys[2], keys[5]])
    assert sorted(my_sessions(chosen)) == [keys[2], keys[5]]
    with pytest.raises(RegistrationError) as exc:
        register(_user(b.id), event, T0, keys=[keys[2]])
    assert exc.value.code == "already_registered"
    # More sessions later: allowed.
    register(_user(b.id), event, T0, keys=[keys[3]])
    assert len(my_sessions(chosen)) == 3


def test_sessions_already_started_are_not_offered(make_user, ctx) -> None:
    teacher = make_user("t1")
    event = _series()
    later = FIRST + timedelta(days=15)  # after the third session started
    reg = register(_user(teacher.id), event, later)
    assert len(my_sessions(reg)) == 7
    with pytest.raises(RegistrationError) as exc:
        register(_user(teacher.id), event, later, keys=[list_sessions(event)[0].key])
    assert exc.value.code == "closed"


def test_capacity_holds_per_session_and_cancelling_one_promotes(make_user, ctx) -> None:
    a, b, c = make_user("t1"), make_user("t2"), make_user("t3")
    event = _series(capacity=1)
    keys = [s.key for s in list_sessions(event)]
    register(_user(a.id), event, T0, keys=[keys[0]])
    reg_b = register(_user(b.id), event, T0)  # all: waits for the first
    places = my_sessions(reg_b)
    assert places[keys[0]].status == "waitlisted"
    assert places[keys[1]].status == "registered"
    assert reg_b.status == "registered"
    reg_c = register(_user(c.id), event, T0, keys=[keys[1]])
    assert reg_c.status == "waitlisted"
    # a gives up the first session: b moves up, and is told once.
    cancel_session(_user(a.id), event, keys[0], T0 + timedelta(hours=1))
    assert my_sessions(reg_b)[keys[0]].status == "registered"
    assert _kinds(b.id) == ["waitlist_promoted"]
    # b gives up only the second session: c moves up there.
    cancel_session(_user(b.id), event, keys[1], T0 + timedelta(hours=2))
    assert my_sessions(reg_b)[keys[1]].status == "cancelled"
    assert my_sessions(reg_b)[keys[2]].status == "registered"
    assert my_sessions(reg_c)[keys[1]].status == "registered"
    assert reg_c.status == "registered"
    assert _kinds(c.id) == ["waitlist_promoted"]


def test_attendance_credits_each_session_once(make_user, ctx) -> None:
    teacher, staff = make_user("t1"), make_user("staff", "staff")
    event = _series()
    keys = [s.key for s in list_sessions(event)]
    register(_user(teacher.id), event, T0)
    after_second = FIRST + timedelta(days=7, hours=1)
    for key in keys[:2]:
        activity = mark_session_attended(
            _user(staff.id), event, key, _user(teacher.id), "manual", after_second
        )
        assert activity is not None
        assert activity.hours == Decimal("1.5")
    again = mark_session_attended(
        _user(staff.id), event, keys[0], _user(teacher.id), "checkin", after_second
    )
    assert again is None
    with pytest.raises(RegistrationError) as exc:
        mark_session_attended(
            None, event, keys[2], _user(teacher.id), "manual", after_second
        )
    assert exc.value.code == "not_started"
    db.session.commit()
    activities = db.session.scalars(select(Activity).order_by(Activity.starts_on)).all()
    assert [a.starts_on.isoformat() for a in activities] == [
        "2026-03-04",
        "2026-03-11",
    ]
    assert all(a.status == "verified" and a.source == "event" for a in activities)
    assert _kinds(teacher.id) == ["attendance_credited", "attendance_credited"]


def test_one_place_per_session_is_unique_in_the_database(make_user, ctx) -> None:
    teacher = make_user("t1")
    event = _series()
    reg = register(_user(teacher.id), event, T0)
    db.session.commit()
    place = next(iter(my_sessions(reg).values()))
    db.session.add(
        SessionRegistration(
            session_id=place.session_id,
            registration_id=reg.id,
            status="registered",
            queued_at=T0,
        )
    )
    with pytest.raises(Exception, match="(?i)unique|duplicate"):
        db.session.commit()
    db.session.rollback()


def test_bulk_marks_the_started_session(make_user, ctx) -> None:
    a, b = make_user("t1"), make_user("t2")
    event = _series()
    register(_user(a.id), event, T0)
    register(_user(b.id), event, T0)
    during_first = FIRST + timedelta(minutes=30)
    assert mark_all_attended(event, None, during_first) == 2
    assert mark_all_attended(event, None, during_first) == 0
    places = db.session.scalars(
        select(SessionRegistration.source).where(
            SessionRegistration.status == "attended"
        )
    ).all()
    assert places == ["bulk", "bulk"]


def test_single_event_attendance_still_uses_the_registration(make_user, ctx) -> None:
    teacher = make_user("t1")
    data = EventData(
        kind_code="expert_lecture",
        title="讲座",
        starts_at=FIRST,
        ends_at=FIRST + timedelta(hours=2),
        credited_hours=Decimal(2),
    )
    event = create_event(data, None, T0)
    publish_event(event, None, T0)
    reg = register(_user(teacher.id), event, T0)
    assert len(list_sessions(event)) == 1
    activity = mark_attended(reg, None, FIRST)
    assert activity is not None
    assert reg.status == "attended"
    assert reg.activity_id == activity.id


def test_walk_ins_register_at_the_door_when_allowed(make_user, ctx) -> None:
    teacher, other = make_user("t1"), make_user("t2")
    event = _series(capacity=1)
    key = list_sessions(event)[0].key
    during = FIRST + timedelta(minutes=10)
    with pytest.raises(RegistrationError) as exc:
        register_walk_in(None, event, key, _user(teacher.id), during)
    assert exc.value.code == "walk_ins_not_allowed"
    event.allow_walk_ins = True
    place = register_walk_in(None, event, key, _user(teacher.id), during)
    assert place.status == "registered"
    again = register_walk_in(None, event, key, _user(teacher.id), during)
    assert again.id == place.id
    activity = mark_session_attended(
        None, event, key, _user(teacher.id), "checkin", during
    )
    assert activity is not None
    with pytest.raises(RegistrationError) as exc:
        register_walk_in(None, event, key, _user(other.id), during)
    assert exc.value.code == "full"


def test_cancelling_the_series_keeps_started_sessions(make_user, ctx) -> None:
    teacher = make_user("t1")
    event = _series()
    reg = register(_user(teacher.id), event, T0)
    mark_session_attended(
        None, event, list_sessions(event)[0].key, _user(teacher.id), "manual", FIRST
    )
    cancel_registration(_user(teacher.id), event, FIRST + timedelta(days=1))
    statuses = [p.status for p in my_sessions(reg).values()]
    assert statuses.count("attended") == 1
    assert statuses.count("cancelled") == 9
    assert reg.status == "attended"
    assert db.session.scalar(select(func.count()).select_from(Activity)) == 1
