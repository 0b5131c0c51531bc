"""Placement fixtures: enterprises, placements, a minimal PDF."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from functools import partial
from typing import Any

import pytest
from flask import Flask

from pdtracker.auth.models import User
from pdtracker.placements.models import Enterprise, Placement
from tests import factories

QUEUED_AT = datetime(2026, 2, 1, tzinfo=UTC)
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << >>\n%%EOF\n"


@pytest.fixture
def make_enterprise(app: Flask) -> Callable[..., Enterprise]:
    """Create a member enterprise."""
    return partial(factories.make_enterprise, app)


@pytest.fixture
def make_placement(app: Flask) -> Callable[..., Placement]:
    """Create a placement row directly (no service, no audit)."""

    def make(teacher: User, enterprise: Enterprise, **fields: Any) -> Placement:
        fields.setdefault("starts_on", date(2026, 3, 2))
        fields.setdefault("ends_on", date(2026, 3, 27))
        fields.setdefault("status", "proposed")
        if fields["status"] == "cancelled":
            fields.setdefault("cancel_reason", "改期")
        return factories.make_placement(app, teacher, enterprise, **fields)

    return make


@pytest.fixture
def make_event(app: Flask) -> Callable[..., int]:
    """Create an event (times given in Asia/Shanghai) and register a teacher for it."""
    return partial(factories.make_event_row, app, queued_at=QUEUED_AT)
