"""The demo's association events, registrations and placements, and the reminders they
make the scheduler send on the first day."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import func, select

from pdtracker.activities.models import Activity, ActivitySource
from pdtracker.auth.models import User
from pdtracker.demo import seed_demo
from pdtracker.demo_events import report_pdf
from pdtracker.events.models import Event, Registration
from pdtracker.events.roster import waitlist_position
from pdtracker.extensions import db
from pdtracker.notifications.dispatch import dispatch_due
from pdtracker.notifications.models import Notification
from pdtracker.notifications.planners import plan_reminders
from pdtracker.placements.models import Placement
from pdtracker.placements.services import report_path
from pdtracker.timeutil import SHANGHAI

TODAY = date(2026, 3, 15)
MORNING = datetime.combine(TODAY, time(9), SHANGHAI).astimezone(UTC)
START_OF_TODAY = datetime.combine(TODAY, time(), SHANGHAI).astimezone(UTC)


def _user(username: str) -> User:
    return db.session.scalar(select(User).filter_by(username=username))


def _local_day(moment: datetime) -> date:
    return moment.astimezone(SHANGHAI).date()


def test_events_in_every_state(app) -> None:
    with app.app_context():
        seed_demo(TODAY)
        events = db.session.scalars(select(Event)).all()
        now = MORNING
        published = [e for e in events if e.status == "published"]
        assert len(events) >= 12
        assert any(e.series_ends_at < now for e in published if e.series_ends_at)
        assert any(e.starts_at > now for e in published)
        assert {e.kind_code for e in published} == {
            "expert_lecture",
            "industry_conference",
            "seminar",
        }
        assert all(e.uid.startswith(f"event-{e.id}@") for e in events)
        [cancelled] = [e for e in events if e.status == "cancelled"]
        assert cancelled.cancelled_at is not None
        assert cancelled.cancelled_at < now
        assert cancelled.sequence >= 1  # calendars see the cancellation
        assert cancelled.registrations
        [draft] = [e for e in events if e.status == "draft"]
        assert draft.starts_at > now
        assert not draft.registrations
        [weekly] = [e for e in events if e.rrule]
        assert "FREQ=WEEKLY" in weekly.rrule
        assert "COUNT=" in weekly.rrule
        assert weekly.starts_at < now < weekly.series_ends_at
        assert len(weekly.exdate_values()) == 1
        assert weekly.exdate_values()[0] > now
        all_day = [e for e in events if e.is_all_day]
        assert [(e.end_on - e.start_on).days for e in all_day] == [3]
        assert all_day[0].kind_code == "industry_conference"
        # Everything is relative to today: four months either way.
        assert min(e.starts_at for e in events) > now - timedelta(days=125)
        assert max(e.starts_at for e in events) < now + timedelta(days=125)


def test_registrations_waitlist_and_attendance(app) -> None:
    with app.app_context():
        seed_demo(TODAY)
        teacher1 = _user("teacher1")
        full = db.session.scalar(select(Event).where(Event.capacity == 3))
        statuses = [r.status for r in full.registrations]
        assert statuses == ["registered"] * 3 + ["waitlisted"] * 2
        mine = next(r for r in full.registrations if r.teacher_id == teacher1.id)
        assert waitlist_position(mine) == 1
        assert _local_day(full.registration_deadline) == TODAY + timedelta(days=2)

        tomorrow = db.session.scalars(
            select(Event).where(Event.status == "published", Event.rrule.is_(None))
        ).all()
        [tomorrow] = [
            e for e in tomorrow if _local_day(e.starts_at) == TODAY + timedelta(days=1)
        ]
        assert (teacher1.id, "registered") in {
            (r.teacher_id, r.status) for r in tomorrow.registrations
        }

        attended = db.session.scalars(
            select(Registration).where(Registration.status == "attended")
        ).all()
        assert len(attended) >= 10
        for registration in attended:
            activity = registration.activity
            assert activity.source == ActivitySource.EVENT
            assert activity.status == "verified"
            assert activity.teacher_id == registration.teacher_id
            assert activity.hours == registration.event.credited_hours
            assert activity.ends_on < TODAY
        assert db.session.scalar(
            select(func.count()).where(Registration.status == "cancelled")
        )
        # A past event still waiting for its attendance to be marked.
        unmarked = db.session.scalars(
            select(Event)
            .join(Registration)
            .where(Event.ends_at < MORNING, Registration.status == "registered")
        ).all()
        assert unmarked


def test_attendance_credits_no_cast_teacher_whose_level_it_would_change(app) -> None:
    with app.app_context():
        seed_demo(TODAY)
        credited = set(
            db.session.scalars(
                select(User.username)
                .join(Activity, Activity.teacher_id == User.id)
                .where(
                    Activity.source.in_(
                        [ActivitySource.EVENT.value, ActivitySource.PLACEMENT.value]
                    )
                )
            )
        )
    assert credited
    assert not credited & {"teacher1", "zhoujie", "huxiaoyan", "wumin", "xutao"}


def test_ai_placements_in_every_state(app) -> None:
    with app.app_context():
        seed_demo(TODAY)
        ai = _user("teacher1").department_id
        rows = db.session.scalars(
            select(Placement).join(User, User.id == Placement.teacher_id)
            .where(User.department_id == ai)
        ).all()  # fmt: skip
        by_status: dict[str, list[Placement]] = {}
        for p in rows:
            by_status.setdefault(p.status, []).append(p)
        assert set(by_status) == {
            "proposed", "approved", "in_progress", "completed", "cancelled"
        }  # fmt: skip
        soon = [
            p for p in by_status["approved"]
            if TODAY < p.starts_on <= TODAY + timedelta(days=7)
        ]  # fmt: skip
        assert soon
        [done] = by_status["completed"]
        assert done.ends_on < TODAY
        assert done.activity.status == "verified"
        assert done.activity.days == done.span_days
        path = report_path(done)
        assert path is not None
        assert path.is_file()
        assert path.read_bytes() == report_pdf()
        assert all(p.cancel_reason for p in by_status["cancelled"])
        assert all(p.starts_on <= TODAY <= p.ends_on for p in by_status["in_progress"])


def test_report_pdf_is_well_formed() -> None:
    """Header, trailer, and a cross-reference table whose offsets hit every object."""
    pdf = report_pdf()
    assert pdf.startswith(b"%PDF-1.4\n")
    assert pdf.endswith(b"%%EOF\n")
    startxref = int(re.search(rb"startxref\n(\d+)\n", pdf).group(1))
    assert pdf[startxref:].startswith(b"xref\n0 6\n")
    entries = re.findall(rb"(\d{10}) 00000 n ", pdf[startxref:])
    assert len(entries) == 5
    for number, offset in enumerate(entries, start=1):
        assert pdf[int(offset) :].startswith(b"%d 0 obj\n" % number)
    length = int(re.search(rb"/Length (\d+)", pdf).group(1))
    stream = pdf.split(b"stream\n", 1)[1].split(b"\nendstream", 1)[0]
    assert len(stream) == length
    assert b"Enterprise practice report" in stream


def test_seeding_twice_adds_nothing(app, table_counts) -> None:
    with app.app_context():
        first = seed_demo(TODAY)
    counts = table_counts()
    assert counts["events"] >= 12
    assert counts["registrations"] >= 30
    with app.app_context():
        second = seed_demo(TODAY)
    assert table_counts() == counts
    assert any(line.startswith("Association events:") for line in first)
    assert second[0].startswith("Demo data already loaded")


def test_first_scheduler_ticks_send_the_demo_reminders(app) -> None:
    with app.app_context():
        seed_demo(TODAY)
        teacher1, yangfan, head1 = (
            _user(name).id for name in ("teacher1", "yangfan", "head1")
        )
        plan_reminders(MORNING)
        result = dispatch_due(MORNING)
        assert result["sent"] >= 4
        sent = set(
            db.session.execute(
                select(Notification.kind, Notification.recipient_id).where(
                    Notification.status == "sent"
                )
            ).all()
        )
    assert ("event_tomorrow", teacher1) in sent
    assert ("registration_deadline", teacher1) in sent
    assert ("placement_starting", yangfan) in sent
    assert ("placement_starting", head1) in sent


def test_reminders_do_not_wait_for_nine_when_they_need_not(app) -> None:
    """Started at midnight, the deadline and placement reminders are due at once."""
    with app.app_context():
        seed_demo(TODAY)
        teacher1 = _user("teacher1").id
        plan_reminders(START_OF_TODAY)
        dispatch_due(START_OF_TODAY)
        sent = set(
            db.session.execute(
                select(Notification.kind, Notification.recipient_id).where(
                    Notification.status == "sent"
                )
            ).all()
        )
    assert ("registration_deadline", teacher1) in sent
    assert any(kind == "placement_starting" for kind, _ in sent)
    assert ("event_tomorrow", teacher1) not in sent  # at 09:00, by design
