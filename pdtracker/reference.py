"""Reference data every deployment needs (activity kinds), loaded idempotently."""

from __future__ import annotations

from sqlalchemy import select

from pdtracker.activities.models import DEFAULT_KINDS, ActivityKind
from pdtracker.extensions import db


def ensure_activity_kinds() -> int:
    """Insert the default activity kinds that are missing; return how many were added."""
    existing = set(db.session.scalars(select(ActivityKind.code)))
    missing = [ActivityKind(**k) for k in DEFAULT_KINDS if k["code"] not in existing]
    db.session.add_all(missing)
    return len(missing)
