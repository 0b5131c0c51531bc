"""Placement fixtures: enterprises, placements, a minimal PDF."""

from __future__ import annotations

from datetime import date

import pytest
from flask import Flask

from pdtracker.extensions import db

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
