"""Event factories: events created through the services, returned detached."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from flask import Flask

from pdtracker.auth.models import User
from pdtracker.events.models import Event, Registration
from tests import factories
from tests.factories import soon

__all__ = ["soon"]  # the tests import it from here


@pytest.fixture
def make_event(app: Flask) -> Callable[..., Event]:
    """Create an event through the services (published unless told otherwise)."""

    def make(
        *, publish: bool = True, now: datetime | None = None, **fields: object
    ) -> Event:
        created = now or datetime(2020, 1, 1, tzinfo=UTC)
        return factories.make_event(app, created=created, publish=publish, **fields)

    return make


@pytest.fixture
def registered(app: Flask) -> Callable[..., Registration]:
    """Register a teacher for an event through the service."""

    def make(teacher: User, event: Event, now: datetime | None = None) -> Registration:
        moment = now or datetime(2020, 1, 2, tzinfo=UTC)
        return factories.register_teacher(app, teacher, event.id, moment)

    return make
