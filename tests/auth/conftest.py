"""Fixtures for the account tests: a movable clock, a second app behind a proxy, SMTP."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask

from pdtracker import create_app
from pdtracker.extensions import db
from tests.conftest import _config
from tests.notifications.smtp import SmtpSink


class Clock:
    """The time the account views see; tests move it instead of sleeping."""

    def __init__(self) -> None:
        self.now = datetime(2026, 3, 9, 1, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> None:
        """Move the clock forward."""
        self.now += delta


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    """Replace the clock of the account views (login, password, reset)."""
    clock = Clock()
    monkeypatch.setattr("pdtracker.auth.views.utcnow", clock)
    return clock


@pytest.fixture
def make_app(database_url: str, tmp_path) -> Iterator:
    """Build another app over the same database with extra settings (after `app`)."""
    apps: list[Flask] = []

    def make(**settings: object) -> Flask:
        other = create_app({**_config(database_url, tmp_path / "other"), **settings})
        apps.append(other)
        return other

    yield make
    for other in apps:
        with other.app_context():
            db.session.remove()
            db.engine.dispose()


@pytest.fixture
def smtp(app: Flask) -> Iterator[SmtpSink]:
    """A real SMTP server on 127.0.0.1; the app sends to it."""
    sink = SmtpSink().start()
    app.config.update(sink.config())
    yield sink
    sink.stop()
