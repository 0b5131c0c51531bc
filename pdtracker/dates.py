"""Calendar arithmetic on plain dates (standard library only: the engine uses it too)."""

from __future__ import annotations

from datetime import date, timedelta


def next_month(day: date) -> date:
    """The first day of the month after ``day``'s month."""
    return (day.replace(day=28) + timedelta(days=4)).replace(day=1)


def month_end(day: date) -> date:
    """The last day of ``day``'s month."""
    return next_month(day) - timedelta(days=1)
