"""The demo's weekly series: ten sessions, teacher1 in those still to come, one moved."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from pdtracker.auth.models import User
from pdtracker.demo import seed_demo
from pdtracker.events.models import Event, Registration
from pdtracker.events.roster import my_sessions
from pdtracker.events.sessions import list_sessions
from pdtracker.extensions import db
from pdtracker.notifications.models import Notification

TODAY = date(2026, 3, 15)


def test_demo_series_has_teacher1_and_a_moved_session(app) -> None:
    with app.app_context():
        seed_demo(TODAY)
        [series] = db.session.scalars(select(Event).where(Event.rrule.is_not(None)))
        sessions = list_sessions(series)
        assert len(sessions) == 9  # ten, one skipped for a holiday
        moved = [s for s in sessions if s.is_moved]
        assert len(moved) == 1
        assert moved[0].sequence == 1
        teacher1 = db.session.scalar(select(User).filter_by(username="teacher1"))
        registration = db.session.scalar(
            select(Registration).where(
                Registration.event_id == series.id,
                Registration.teacher_id == teacher1.id,
            )
        )
        places = my_sessions(registration)
        assert moved[0].key in places
        assert all(p.status == "registered" for p in places.values())
        told = db.session.scalars(
            select(Notification.kind).where(Notification.recipient_id == teacher1.id)
        ).all()
        assert "event_changed" in told
