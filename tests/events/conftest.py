"""Event factories: events created through the services, returned detached."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from flask import Flask

from pdtracker.events.models import Event, Registration
from pdtracker.events.registrations import register
from pdtracker.events.services import EventData, create_event, publish_event
from pdtracker.extensions import db
from pdtracker.timeutil import utcnow


def detached(obj):  # noqa: ANN001, ANN201
    """Load the row and detach it so tests can read it without an app context."""
    db.session.refresh(obj)
    db.session.expunge(obj)
    return obj


def soon(days: float = 10, hour: int = 1) -> datetime:
    """A whole hour some days from now, in UTC."""
    base = utcnow().replace(minute=0, second=0, microsecond=0, hour=hour)
    return base + timedelta(days=days)


@pytest.fixture
def make_event(app: Flask):  # noqa: ANN201
    """Create an event through the services (published unless told otherwise)."""

    def make(
        *, publish: bool = True, now: datetime | None = None, **fields: object
    ) -> Event:
        fields.setdefault("kind_code", "expert_lecture")
        fields.setdefault("title", "职业教育数字化转型专家讲座")
        if not fields.get("is_all_day"):
            fields.setdefault("starts_at", soon())
            fields.setdefault("ends_at", fields["starts_at"] + timedelta(hours=2))
        fields.setdefault("credited_hours", Decimal("2"))
        fields.setdefault("location", "图书馆报告厅")
        created = now or datetime(2020, 1, 1, tzinfo=UTC)
        with app.app_context():
            event = create_event(EventData(**fields), None, created)
            if publish:
                publish_event(event, None, created)
            db.session.commit()
            return detached(event)

    return make


@pytest.fixture
def registered(app: Flask):  # noqa: ANN201
    """Register a teacher for an event through the service."""
    from pdtracker.auth.models import User

    def make(teacher, event, now: datetime | None = None) -> Registration:  # noqa: ANN001
        with app.app_context():
            reg = register(
                db.session.get(User, teacher.id),
                db.session.get(Event, event.id),
                now or datetime(2020, 1, 2, tzinfo=UTC),
            )
            db.session.commit()
            return detached(reg)

    return make
