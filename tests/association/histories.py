"""Histories for the association tests: activities that qualify, the nightly clock."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from pdtracker.activities.models import Activity
from pdtracker.timeutil import SHANGHAI


def night(day: date) -> datetime:
    """02:30 in Shanghai on ``day`` (the nightly run), as UTC."""
    return datetime.combine(day, time(2, 30), SHANGHAI).astimezone(UTC)


def activity(
    teacher_id: int, kind: str, start: date, size: int, status: str
) -> Activity:
    """An activity row: ``size`` days of placement or hours of training."""
    fields: dict = {"kind_code": kind, "starts_on": start, "ends_on": start}
    if kind == "enterprise_placement":
        fields |= {"ends_on": start + timedelta(days=size - 1), "days": size}
    elif kind == "certificate":
        fields |= {"grade": "intermediate", "ends_on": start + timedelta(days=3 * 365)}
    else:
        fields["hours"] = Decimal(size if kind == "training" else 3)
    if status == "verified":
        fields["verified_at"] = datetime(2026, 1, 1, tzinfo=UTC)
    return Activity(teacher_id=teacher_id, title="记录", status=status, **fields)


def qualifying(
    teacher_id: int, start: date, status: str = "verified"
) -> list[Activity]:
    """180 placement days and 360 training hours from ``start``."""
    return [
        activity(teacher_id, "enterprise_placement", start, 180, status),
        activity(teacher_id, "training", start + timedelta(days=200), 360, status),
    ]
