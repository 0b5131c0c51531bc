"""Helpers for the feed tests: rows made through the real services, tokens, fetching.

Every method opens its own short app context and returns plain values or detached
rows, so no context stays open while the test client makes requests.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from flask import Flask
from werkzeug.test import TestResponse

from pdtracker.activities.models import Activity
from pdtracker.auth.models import User
from pdtracker.calendar import directory
from pdtracker.calendar import services as svc
from pdtracker.calendar.models import FeedScope, FeedState
from pdtracker.events.models import Event
from pdtracker.events.registrations import cancel_registration, register
from pdtracker.events.services import (
    EventData,
    cancel_event,
    update_event,
)
from pdtracker.extensions import db
from pdtracker.placements.models import Enterprise, Placement
from pdtracker.timeutil import SHANGHAI, utcnow
from tests import factories
from tests.factories import detached


def soon(days: float = 10, hour: int = 9) -> datetime:
    """A whole local hour some days from today, as an aware Shanghai datetime."""
    today = utcnow().astimezone(SHANGHAI).date()
    return datetime.combine(today + timedelta(days=days), time(hour), SHANGHAI)


@dataclass
class FeedKit:
    """Factories and fetchers bound to one app."""

    app: Flask

    # --- rows -------------------------------------------------------------------

    def event(self, *, publish: bool = True, **fields: Any) -> Event:
        """An event created (and published) through the services."""
        if not fields.get("is_all_day"):
            fields.setdefault(
                "starts_at", soon()
            )  # a local hour, unlike factories.soon
        return factories.make_event(
            self.app, created=utcnow(), publish=publish, **fields
        )

    def register(self, teacher: User, event: Event) -> None:
        """Register the teacher (seat or waitlist)."""
        with self.app.app_context():
            register(
                db.session.get(User, teacher.id),
                db.session.get(Event, event.id),
                utcnow(),
            )
            db.session.commit()

    def unregister(self, teacher: User, event: Event) -> None:
        """Cancel the teacher's registration."""
        with self.app.app_context():
            cancel_registration(
                db.session.get(User, teacher.id),
                db.session.get(Event, event.id),
                utcnow(),
            )
            db.session.commit()

    def edit_event(self, event: Event, **changes: Any) -> None:
        """Change fields of an event through update_event."""
        with self.app.app_context():
            row = db.session.get(Event, event.id)
            data = {name: getattr(row, name) for name in EventData.__dataclass_fields__}
            data.update(changes)
            update_event(row, EventData(**data), None, utcnow())
            db.session.commit()

    def cancel_event(self, event: Event) -> None:
        """Cancel an event through the service."""
        with self.app.app_context():
            cancel_event(db.session.get(Event, event.id), None, utcnow())
            db.session.commit()

    def delete_event(self, event: Event) -> None:
        """Delete an event row (as an admin clean-up would)."""
        with self.app.app_context():
            db.session.delete(db.session.get(Event, event.id))
            db.session.commit()

    def enterprise(
        self, name: str = "华为技术有限公司", city: str = "深圳"
    ) -> Enterprise:
        """A member enterprise."""
        with self.app.app_context():
            row = Enterprise(name=name, city=city, placement_capacity=3)
            db.session.add(row)
            db.session.commit()
            return detached(row)

    def placement(
        self, teacher: User, enterprise: Enterprise, **fields: Any
    ) -> Placement:
        """A placement row for the teacher."""
        today = utcnow().astimezone(SHANGHAI).date()
        fields.setdefault("starts_on", today + timedelta(days=20))
        fields.setdefault("ends_on", fields["starts_on"] + timedelta(days=25))
        fields.setdefault("working_days", 20)
        fields.setdefault("status", "approved")
        if fields["status"] == "cancelled":
            fields.setdefault("cancel_reason", "改期")
        now = utcnow()
        with self.app.app_context():
            row = Placement(
                teacher_id=teacher.id,
                enterprise_id=enterprise.id,
                created_at=now,
                updated_at=now,
                **fields,
            )
            db.session.add(row)
            db.session.commit()
            return detached(row)

    def activity(self, teacher: User, **fields: Any) -> Activity:
        """A planned activity of the teacher."""
        today = utcnow().astimezone(SHANGHAI).date()
        fields.setdefault("kind_code", "training")
        fields.setdefault("title", "教学能力提升培训")
        fields.setdefault("starts_on", today + timedelta(days=5))
        fields.setdefault("status", "planned")
        fields.setdefault("hours", Decimal("6"))
        with self.app.app_context():
            row = Activity(teacher_id=teacher.id, **fields)
            db.session.add(row)
            db.session.commit()
            return detached(row)

    def update(self, model: type, pk: int, **changes: Any) -> None:
        """Set columns on one row and commit."""
        with self.app.app_context():
            row = db.session.get(model, pk)
            for name, value in changes.items():
                setattr(row, name, value)
            db.session.commit()

    # --- feeds ------------------------------------------------------------------

    def token(self, user: User, scope: FeedScope = FeedScope.TEACHER) -> str:
        """The user's feed token (created if needed)."""
        with self.app.app_context():
            token = svc.token_for(db.session.get(User, user.id), scope, utcnow())
            db.session.commit()
            return token.token

    def url(self, user: User, scope: FeedScope = FeedScope.TEACHER) -> str:
        """The path of the user's private feed."""
        prefix = "t" if scope is FeedScope.TEACHER else "d"
        return f"/calendar/{prefix}/{self.token(user, scope)}.ics"

    def state(self, key: str) -> tuple[int, datetime] | None:
        """(version, changed_at) of a feed, None if it never changed."""
        with self.app.app_context():
            row = db.session.get(FeedState, key)
            return None if row is None else (row.version, row.changed_at)

    def clear_cache(self) -> None:
        """Forget rendered feeds and resolved URLs (as a freshly started worker would)."""
        svc.feed_cache(self.app).clear()
        directory.shutdown(self.app)


def get(app: Flask, url: str, method: str = "GET", **headers: str) -> TestResponse:
    """A request from a fresh client without cookies, as a calendar app makes it."""
    return app.test_client().open(url, method=method, headers=headers)


def window_dates(days_back: int = 70, days_ahead: int = 600) -> tuple[date, date]:
    """A parser window that holds everything a feed can contain."""
    today = utcnow().date()
    return today - timedelta(days=days_back), today + timedelta(days=days_ahead)
