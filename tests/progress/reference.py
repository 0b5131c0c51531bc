"""Brute-force, day-by-day reference for the engine, written from the issue's text."""

from __future__ import annotations

import calendar
import math
from bisect import bisect_left, bisect_right
from datetime import date, timedelta

from pdtracker.progress.engine import ActivityFact, Measure, Requirement

ONE_DAY = timedelta(days=1)
VERIFIED = {"verified"}
PENDING = {"planned", "completed", "verified"}


def minus_years(d: date, years: int) -> date:
    """d minus whole years; 29 February becomes 28 February."""
    year = d.year - years
    if d.month == 2 and d.day == 29 and not calendar.isleap(year):
        return date(year, 2, 28)
    return date(year, d.month, d.day)


def plus_years(d: date, years: int) -> date:
    """d plus whole years; 29 February becomes 28 February."""
    return minus_years(d, -years)


def window_start(d: date, years: int = 5) -> date:
    """(d minus years) plus one day."""
    return minus_years(d, years) + ONE_DAY


def selected(req: Requirement, acts: list[ActivityFact], statuses: set[str]):
    """Activities of the right status, kind, role and grade."""
    return [
        a
        for a in acts
        if a.status in statuses
        and a.kind in req.kinds
        and (req.roles is None or a.role in req.roles)
        and (req.grades is None or a.grade in req.grades)
    ]


def days_of(a: ActivityFact):
    """Every calendar day an activity covers."""
    d = a.start
    while d <= (a.end or a.start):
        yield d
        d += ONE_DAY


def credited_hours(req: Requirement, a: ActivityFact) -> float:
    """One activity's amount for an end-in-window measure, as the issue defines it."""
    if req.measure is Measure.COUNT:
        return 1
    if req.measure is Measure.SUM_DAYS:
        return a.days or 0
    rule = dict(req.credit).get(a.kind)
    if rule is None:
        return a.hours or 0
    if rule.hours_each is not None:
        amount = rule.hours_each
    elif rule.hours_per_day is not None:
        amount = rule.hours_per_day * ((a.end or a.start) - a.start).days
        amount += rule.hours_per_day
    else:
        amount = a.hours or 0
    amount *= dict(rule.role_factor).get(a.role, 1)
    return amount if rule.max_each is None else min(amount, rule.max_each)


class Reference:
    """Credited amounts per day, computed from first principles."""

    def __init__(
        self, req: Requirement, acts, statuses, years: int = 5, industry_years=0
    ) -> None:
        self.req, self.years = req, req.window_years or years
        self.industry_years = industry_years
        self.acts = selected(req, acts, statuses)
        self.covered: set[date] = set()
        if req.measure is Measure.DISTINCT_DAYS:
            for a in self.acts:
                self.covered.update(days_of(a))
        self.sorted_days = sorted(self.covered)

    def _covered_between(self, lo: date, hi: date) -> int:
        return bisect_right(self.sorted_days, hi) - bisect_left(self.sorted_days, lo)

    def credited(self, d: date):
        """Credited amount when evaluating on day d."""
        ws = window_start(d, self.years)
        m = self.req.measure
        if m is Measure.PROFILE_YEARS:
            return self.industry_years
        if m is Measure.DISTINCT_DAYS:
            return self._covered_between(ws, d)
        if m is Measure.VALID_ON_DATE:
            return sum(
                1 for a in self.acts if a.start <= d and (a.end is None or d <= a.end)
            )
        inside = [a for a in self.acts if ws <= (a.end or a.start) <= d]
        caps = dict(self.req.cap_per_year)
        free = [credited_hours(self.req, a) for a in inside if a.kind not in caps]
        years: dict = {}
        for a in inside:
            if a.kind in caps:
                key = (a.kind, (a.end or a.start).year)
                years.setdefault(key, []).append(credited_hours(self.req, a))
        capped = [min(caps[kind], math.fsum(v)) for (kind, _y), v in years.items()]
        total = math.fsum(free + capped)
        return int(total) if m is Measure.COUNT else total

    def met(self, d: date) -> bool:
        """Whether the requirement is met on day d."""
        return self.credited(d) >= self.req.threshold


def lapses_on(req, acts, as_of, years=5, horizon_years=5, industry_years=0):
    """First day after as_of that the verified activities no longer meet req."""
    ref = Reference(req, acts, VERIFIED, years, industry_years)
    if not ref.met(as_of):
        return None
    d, last = as_of + ONE_DAY, plus_years(as_of, horizon_years)
    while d <= last:
        if not ref.met(d):
            return d
        d += ONE_DAY
    return None


def forecast_met_on(req, acts, as_of, years=5, horizon_years=5, industry_years=0):
    """First day from as_of on which planned+completed+verified meet req."""
    if Reference(req, acts, VERIFIED, years, industry_years).met(as_of):
        return as_of
    ref = Reference(req, acts, PENDING, years, industry_years)
    d, last = as_of, plus_years(as_of, horizon_years)
    while d <= last:
        if ref.met(d):
            return d
        d += ONE_DAY
    return None


class GroupReference:
    """A group of alternatives: met on a day when ``min_met`` members are met."""

    def __init__(self, group, acts, statuses, years=5, industry_years=0) -> None:
        self.group = group
        self.members = [
            Reference(m, acts, statuses, years, industry_years) for m in group.members
        ]

    def credited(self, d: date) -> int:
        """Members met on day d."""
        return sum(ref.met(d) for ref in self.members)

    def met(self, d: date) -> bool:
        """Whether the group is met on day d."""
        return self.credited(d) >= self.group.min_met


def group_lapses_on(group, acts, as_of, years=5, horizon_years=5, industry_years=0):
    """First day after as_of that the verified activities no longer meet the group."""
    ref = GroupReference(group, acts, VERIFIED, years, industry_years)
    if not ref.met(as_of):
        return None
    d, last = as_of + ONE_DAY, plus_years(as_of, horizon_years)
    while d <= last:
        if not ref.met(d):
            return d
        d += ONE_DAY
    return None


def group_forecast_met_on(
    group, acts, as_of, years=5, horizon_years=5, industry_years=0
):
    """First day from as_of on which planned+completed+verified meet the group."""
    if GroupReference(group, acts, VERIFIED, years, industry_years).met(as_of):
        return as_of
    ref = GroupReference(group, acts, PENDING, years, industry_years)
    d, last = as_of, plus_years(as_of, horizon_years)
    while d <= last:
        if ref.met(d):
            return d
        d += ONE_DAY
    return None
