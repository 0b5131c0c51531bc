"""The recognition cast: one college with two departments, a panel and evidence.

``cast`` (rows detached; read ids and columns):
    ``ai``, ``me``: departments of DEMO; ``north_ai``: a department of NORTH.
    ``teacher1``, ``teacher2``: teachers of AI; ``teacher_me``: a teacher of ME.
    ``head_ai``, ``head_me``: heads (and teachers) of AI and ME.
    ``reviewer_ai``: a teacher of AI on the panel (conflicted for AI applicants);
    ``reviewer_me``: a teacher of ME on the panel.
    ``cadmin``: DEMO's college admin; ``north_admin``: NORTH's.
    ``north_teacher``: a teacher of NORTH.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from flask import Flask

from pdtracker.activities.models import Activity, EvidenceFile
from pdtracker.auth.models import Role
from pdtracker.extensions import db
from tests import factories

# 10:00 in Shanghai on 7 December 2026.
NOW = datetime(2026, 12, 7, 2, 0, tzinfo=UTC)


def _activity(app: Flask, teacher: Any, **fields: Any) -> int:
    fields.setdefault("status", "verified")
    activity = factories.make_activity(app, teacher, **fields)
    with app.app_context():
        db.session.add(
            EvidenceFile(
                activity_id=activity.id,
                original_name=f"{fields.get('title', 'evidence')}.pdf",
                stored_name=f"{activity.id:08d}" + "0" * 24,
                content_type="application/pdf",
                size_bytes=100,
                sha256=f"{activity.id:064x}",
            )
        )
        db.session.commit()
    return activity.id


def qualify(app: Flask, teacher: Any, level: str = "primary") -> dict[str, int]:
    """Verified activities (each with one evidence file) reaching ``level``."""
    ids = {
        "placement": _activity(
            app, teacher, kind_code="enterprise_placement", title="企业实践",
            starts_on=date(2025, 1, 1), ends_on=date(2025, 6, 29), days=180,
        ),
        "training": _activity(
            app, teacher, kind_code="training", title="国培计划",
            starts_on=date(2025, 9, 1), ends_on=date(2025, 9, 30),
            hours=Decimal("360"),
        ),
    }  # fmt: skip
    if level in ("intermediate", "senior"):
        ids["certificate"] = _activity(
            app, teacher, kind_code="certificate", title="中级证书",
            starts_on=date(2024, 1, 1), ends_on=date(2027, 1, 31), grade="intermediate",
        )  # fmt: skip
        ids["project"] = _activity(
            app, teacher, kind_code="enterprise_project", title="企业项目",
            starts_on=date(2025, 3, 1),
        )  # fmt: skip
        for n in range(6):
            ids[f"lecture{n}"] = _activity(
                app, teacher, kind_code="expert_lecture", title=f"讲座{n}",
                starts_on=date(2026, 1, 10 + n), hours=Decimal("2"),
            )  # fmt: skip
    return ids


@pytest.fixture
def cast(app: Flask) -> dict[str, Any]:
    """The people described in the module docstring."""
    return build_cast(app)


def build_cast(app: Flask) -> dict[str, Any]:
    """The cast (callable without pytest, e.g. from the browser tests)."""
    user = factories.make_user
    w: dict[str, Any] = {
        "ai": factories.make_department(app, "AI", "人工智能技术应用系"),
        "me": factories.make_department(app, "ME", "机电工程系"),
        "north_ai": factories.make_department(
            app, "AI", "北城人工智能系", institution="NORTH"
        ),
    }
    w["demo"] = factories.make_institution(app, "DEMO")
    w["north"] = factories.make_institution(app, "NORTH")
    t, h = Role.TEACHER, Role.HEAD
    for name, roles, dept in (
        ("teacher1", (t,), "ai"),
        ("teacher2", (t,), "ai"),
        ("teacher_me", (t,), "me"),
        ("head_ai", (h, t), "ai"),
        ("head_me", (h, t), "me"),
        ("reviewer_ai", (t,), "ai"),
        ("reviewer_me", (t,), "me"),
        ("north_teacher", (t,), "north_ai"),
    ):
        w[name] = user(app, name, *roles, department=w[dept], display_name=f"{name}名")
    w["cadmin"] = user(app, "cadmin", Role.COLLEGE_ADMIN, institution_id=w["demo"].id)
    w["north_admin"] = user(
        app, "north_admin", Role.COLLEGE_ADMIN, institution_id=w["north"].id
    )
    return w


def get(model: type, ident: Any) -> Any:
    """A fresh row in the current session."""
    row = db.session.get(model, ident)
    assert row is not None
    return row


__all__ = ["NOW", "Activity", "get", "qualify"]
