"""Which days of a placement are credited: the one count behind the planner's
form, the activity credited on completion, the timeline and the placement list.

Pure: the standard library only. The caller passes the span and the counting
basis its ruleset implies (:func:`basis_for`); nothing here reads a clock or a
database.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum


class DayBasis(StrEnum):
    """What one credited day of a placement is."""

    CALENDAR = "calendar"  # every day of the span
    WORKING = "working"  # the placement's working days (Monday to Friday unless set)


def basis_for(measure: str | None) -> DayBasis:
    """The basis a ruleset's enterprise-practice measure implies.

    ``distinct_days`` (docs/status-rules.md S6) counts every calendar day an
    activity covers, so a placement credits its calendar days; ``sum_days`` (S7)
    adds the days recorded on the activity, which are the placement's working
    days. Without a practice requirement (``None``) the activity still covers the
    span's calendar days.
    """
    return DayBasis.WORKING if measure == "sum_days" else DayBasis.CALENDAR


def _span(starts_on: date, ends_on: date) -> list[date]:
    return [
        starts_on + timedelta(days=i) for i in range((ends_on - starts_on).days + 1)
    ]


@dataclass(frozen=True)
class CreditedDays:
    """The days a placement credits, and why that many.

    ``dates`` are the credited days themselves (``days`` of them), so a page that
    splits them by month adds up to the same number.
    """

    basis: DayBasis
    calendar_days: int
    working_days: int
    dates: tuple[date, ...]
    counted: int  # what the basis alone credits
    confirmed: bool = False  # the enterprise mentor's confirmed days replaced it

    @property
    def days(self) -> int:
        """How many days are credited."""
        return len(self.dates)

    @property
    def differs(self) -> bool:
        """Whether calendar and working days of the span are different numbers."""
        return self.calendar_days != self.working_days

    def by_month(self) -> dict[date, int]:
        """Credited days per month (keyed by the month's first day)."""
        return dict(Counter(d.replace(day=1) for d in self.dates))


def credited_days(
    starts_on: date,
    ends_on: date,
    basis: DayBasis,
    *,
    working_days: int | None = None,
    confirmed: int | None = None,
) -> CreditedDays:
    """The days a placement from ``starts_on`` to ``ends_on`` credits under ``basis``.

    ``working_days`` is the planner's own count (None: the weekdays of the span);
    under the working basis the first that many weekdays are credited, then, if
    the planner counted more, the span's other days in order. ``confirmed`` (the
    days an enterprise mentor confirmed) wins over both bases: the first that
    many calendar days of the span, as completion credits them. Every count is
    held within the span.
    """
    span = _span(starts_on, ends_on)
    weekday_dates = [d for d in span if d.weekday() < 5]
    working = len(weekday_dates) if working_days is None else working_days
    working = max(0, min(working, len(span)))
    if basis is DayBasis.CALENDAR:
        chosen = span
    else:
        others = [d for d in span if d.weekday() >= 5]
        chosen = sorted((weekday_dates + others)[:working])
    counted = len(chosen)
    if confirmed is not None:
        chosen = span[: max(0, min(confirmed, len(span)))]
    return CreditedDays(
        basis=basis,
        calendar_days=len(span),
        working_days=working,
        dates=tuple(chosen),
        counted=counted,
        confirmed=confirmed is not None,
    )
