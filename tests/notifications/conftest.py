"""Fixtures for the outbox tests: an SMTP server, a clock, reminders, a test planner."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from flask import Flask

from pdtracker.auth.models import User
from pdtracker.extensions import db
from pdtracker.notifications import planners
from pdtracker.notifications.models import Notification, NotificationKind
from pdtracker.notifications.outbox import Planner, Reminder, plan
from tests import factories
from tests.notifications.smtp import SmtpSink

# 09:00 in Shanghai on Monday 9 March 2026.
NOW = datetime(2026, 3, 9, 1, 0, tzinfo=UTC)


@pytest.fixture
def smtp(app: Flask) -> Iterator[SmtpSink]:
    """A real SMTP server on 127.0.0.1; the app sends to it."""
    sink = SmtpSink().start()
    app.config.update(sink.config())
    yield sink
    sink.stop()


@pytest.fixture
def make_reminder(app: Flask):
    """Plan a reminder (event-tomorrow by default) for a user; return its row id."""

    def make(
        user,
        *,
        due_at: datetime = NOW,
        stale_after: datetime | None = None,
        kind: NotificationKind = NotificationKind.EVENT_TOMORROW,
        object_id: int = 1,
        payload: dict | None = None,
        now: datetime = NOW,
    ) -> int:
        payload = payload or {
            "title": "人工智能与职业教育讲座",
            "starts_at": (due_at + timedelta(days=1)).isoformat(),
            "ends_at": (due_at + timedelta(days=1, hours=2)).isoformat(),
            "location": "图书馆报告厅",
            "event_id": object_id,
        }
        reminder = Reminder(
            kind,
            user.id,
            "event",
            object_id,
            due_at,
            stale_after or due_at + timedelta(days=1),
            payload,
        )
        with app.app_context():
            plan([reminder], now)
            db.session.commit()
            return db.session.scalar(
                db.select(Notification.id).order_by(Notification.id.desc()).limit(1)
            )

    return make


class FakePlanner:
    """A planner whose wanted reminders the test sets directly."""

    def __init__(
        self, kind: NotificationKind = NotificationKind.EVENT_TOMORROW
    ) -> None:
        self.wanted: list[Reminder] = []
        self.calls: list[Collection[int] | None] = []
        self.planner = Planner(
            name="fake",
            kinds=frozenset({kind}),
            object_type="event",
            horizon=timedelta(days=2),
            collect=self.collect,
        )

    def collect(
        self, now: datetime, until: datetime, object_ids: Collection[int] | None
    ) -> list[Reminder]:
        self.calls.append(object_ids)
        return [
            r for r in self.wanted if object_ids is None or r.object_id in object_ids
        ]


@pytest.fixture
def fake_planner(monkeypatch: pytest.MonkeyPatch) -> FakePlanner:
    """A planner installed as the only one the ticks know."""
    fake = FakePlanner()
    monkeypatch.setattr(planners, "PLANNERS", (fake.planner,))
    monkeypatch.setattr(planners, "NIGHTLY_PLANNERS", ())
    return fake


@pytest.fixture
def no_planners(monkeypatch: pytest.MonkeyPatch) -> None:
    """No planner owns any kind: the outbox machinery runs on its own."""
    monkeypatch.setattr(planners, "PLANNERS", ())
    monkeypatch.setattr(planners, "NIGHTLY_PLANNERS", ())


def rows(app: Flask) -> list[Notification]:
    """Every outbox row, detached, in id order."""
    with app.app_context():
        result = list(db.session.scalars(db.select(Notification).order_by("id")))
        db.session.expunge_all()
        return result


@pytest.fixture
def make_event(app: Flask) -> Callable[..., int]:
    """Create and publish an event through the events services; return its id."""

    def make(**fields: Any) -> int:
        fields.setdefault("title", "人工智能与职业教育讲座")
        if not fields.get("is_all_day"):
            fields.setdefault("starts_at", NOW + timedelta(days=1, hours=5, minutes=30))
        created = NOW - timedelta(days=10)
        return factories.make_event(app, created=created, **fields).id

    return make


@pytest.fixture
def register_for(app: Flask) -> Callable[..., str]:
    """Register a teacher for an event through the events service."""

    def make(teacher: User, event_id: int) -> str:
        moment = NOW - timedelta(days=5)
        return factories.register_teacher(app, teacher, event_id, moment).status

    return make


@pytest.fixture
def make_placement(app: Flask) -> Callable[..., int]:
    """An enterprise (once) and a placement row for a teacher; return its id."""

    def make(teacher: User, **fields: Any) -> int:
        fields.setdefault("starts_on", date(2026, 3, 16))
        fields.setdefault("ends_on", date(2026, 4, 10))
        fields.setdefault("status", "approved")
        return factories.make_placement(app, teacher, **fields).id

    return make
