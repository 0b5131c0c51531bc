"""Placement fixtures: enterprises, placements, a minimal PDF."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from flask import Flask

from pdtracker.extensions import db

QUEUED_AT = datetime(2026, 2, 1, tzinfo=UTC)
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << >>\n%%EOF\n"


@pytest.fixture
def make_enterprise(app: Flask):  # noqa: ANN201
    """Create a member enterprise."""
    from pdtracker.placements.models import Enterprise

    def make(name: str = "华为技术有限公司", **fields) -> Enterprise:  # noqa: ANN003
        fields.setdefault("city", "深圳")
        fields.setdefault("placement_capacity", 2)
        with app.app_context():
            enterprise = Enterprise(name=name, **fields)
            db.session.add(enterprise)
            db.session.commit()
            db.session.refresh(enterprise)
            db.session.expunge(enterprise)
            return enterprise

    return make


@pytest.fixture
def make_placement(app: Flask):  # noqa: ANN201
    """Create a placement row directly (no service, no audit)."""
    from pdtracker.placements.models import Placement

    def make(teacher, enterprise, **fields) -> Placement:  # noqa: ANN001, ANN003
        fields.setdefault("starts_on", date(2026, 3, 2))
        fields.setdefault("ends_on", date(2026, 3, 27))
        fields.setdefault("working_days", 20)
        fields.setdefault("status", "proposed")
        if fields["status"] == "cancelled":
            fields.setdefault("cancel_reason", "改期")
        with app.app_context():
            placement = Placement(
                teacher_id=teacher.id, enterprise_id=enterprise.id, **fields
            )
            db.session.add(placement)
            db.session.commit()
            db.session.refresh(placement)
            db.session.expunge(placement)
            return placement

    return make


@pytest.fixture
def make_event(app):  # noqa: ANN001, ANN201
    """Create an event (times given in Asia/Shanghai) and register a teacher for it."""
    from zoneinfo import ZoneInfo

    from pdtracker.events.models import Event, Registration

    zone = ZoneInfo("Asia/Shanghai")

    def make(
        teacher,  # noqa: ANN001
        starts: datetime,
        ends: datetime,
        *,
        registration: str = "registered",
        **fields,  # noqa: ANN003
    ) -> int:
        starts, ends = starts.replace(tzinfo=zone), ends.replace(tzinfo=zone)
        fields.setdefault("status", "published")
        fields.setdefault("series_ends_at", None if fields.get("rrule") else ends)
        if fields["status"] == "cancelled":
            fields["cancelled_at"] = QUEUED_AT
        with app.app_context():
            event = Event(
                kind_code="expert_lecture",
                title=fields.pop("title", "智能制造专家讲座"),
                starts_at=starts,
                ends_at=ends,
                uid=f"event-{starts.isoformat()}-{registration}@test",
                **fields,
            )
            db.session.add(event)
            db.session.flush()
            db.session.add(
                Registration(
                    event_id=event.id,
                    teacher_id=teacher.id,
                    status=registration,
                    queued_at=QUEUED_AT,
                )
            )
            db.session.commit()
            return event.id

    return make
