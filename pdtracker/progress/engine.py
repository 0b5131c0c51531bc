"""Pure dual-qualified status engine: ruleset + activities + date in, report out.

No Flask, no SQLAlchemy, no clock: ``as_of`` is always an argument.

Every measure is a function of the evaluation date ``d`` (its window ends on ``d``).
``lapses_on`` and ``forecast_met_on`` search that function over the coming years
without walking day by day: each measure lists its *breakpoints*, the dates where
its daily change may differ from the day before, and between two breakpoints the
function is linear (constant for step measures), so the first crossing of the
threshold in a segment is found arithmetically.
"""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import StrEnum
from typing import Any, Protocol


class Measure(StrEnum):
    """How a requirement turns activities into a credited amount."""

    DISTINCT_DAYS = "distinct_days"
    SUM_HOURS = "sum_hours"
    SUM_DAYS = "sum_days"
    COUNT = "count"
    VALID_ON_DATE = "valid_on_date"


UNITS: dict[Measure, str] = {
    Measure.DISTINCT_DAYS: "days",
    Measure.SUM_HOURS: "hours",
    Measure.SUM_DAYS: "days",
    Measure.COUNT: "count",
    Measure.VALID_ON_DATE: "count",
}


class AppliesTo(StrEnum):
    """Which teachers a ruleset assesses."""

    PROFESSIONAL_COURSE = "professional_course"
    ALL = "all"


ROLES = frozenset({"attendee", "speaker", "organizer"})
STATUSES = frozenset({"planned", "completed", "verified", "rejected"})
STATUS_COUNTED = frozenset({"verified"})
STATUS_FORECAST = frozenset({"planned", "completed", "verified"})


@dataclass(frozen=True)
class LocalizedText:
    """A text in Chinese and English; either may be empty."""

    zh: str = ""
    en: str = ""

    def get(self, locale: str | None = None) -> str:
        """Text for ``locale`` ("zh…" or "en…"), falling back to the other."""
        first, second = (
            (self.en, self.zh)
            if (locale or "").startswith("en")
            else (self.zh, self.en)
        )
        return first or second


@dataclass(frozen=True)
class Requirement:
    """One requirement of a level, built from a measure and filters."""

    code: str
    measure: Measure
    threshold: int | float
    kinds: frozenset[str]
    roles: frozenset[str] | None = None
    grades: frozenset[str] | None = None
    source: LocalizedText = field(default_factory=LocalizedText)
    is_public_standard: bool = False
    name: LocalizedText = field(default_factory=LocalizedText)

    @property
    def unit(self) -> str:
        """Unit of the credited and required amounts."""
        return UNITS[self.measure]

    def matches(self, activity: ActivityFact) -> bool:
        """Whether the activity passes this requirement's filters (status aside)."""
        return (
            activity.kind in self.kinds
            and (self.roles is None or activity.role in self.roles)
            and (self.grades is None or activity.grade in self.grades)
        )


@dataclass(frozen=True)
class Level:
    """A level (primary, intermediate, senior…); levels are ordered low to high."""

    code: str
    requirements: tuple[Requirement, ...]
    name: LocalizedText = field(default_factory=LocalizedText)


@dataclass(frozen=True)
class Ruleset:
    """A validated ruleset, ready for :func:`evaluate`."""

    name: str
    levels: tuple[Level, ...]
    version: str | None = None
    window_years: int = 5
    horizon_years: int = 5
    applies_to: AppliesTo = AppliesTo.PROFESSIONAL_COURSE
    title: LocalizedText = field(default_factory=LocalizedText)
    extends: str | None = None

    def requirement(self, code: str) -> Requirement:
        """Return the requirement with ``code`` (KeyError if absent)."""
        for level in self.levels:
            for req in level.requirements:
                if req.code == code:
                    return req
        raise KeyError(code)


@dataclass(frozen=True)
class ActivityFact:
    """What the engine needs to know about one logged activity."""

    id: int | str | None
    kind: str
    start: date
    end: date | None = None
    hours: float | None = None
    days: float | None = None
    role: str | None = None
    grade: str | None = None
    status: str = "verified"

    def __post_init__(self) -> None:
        if self.end is not None and self.end < self.start:
            raise ValueError(f"activity {self.id!r}: end {self.end} before start")
        if (self.hours or 0) < 0 or (self.days or 0) < 0:
            raise ValueError(f"activity {self.id!r}: negative hours or days")

    @property
    def last_day(self) -> date:
        """End date, or the start date when the activity has no end."""
        return self.start if self.end is None else self.end


@dataclass(frozen=True)
class Window:
    """Inclusive date range over which activities are credited."""

    start: date
    end: date


@dataclass(frozen=True)
class RequirementResult:
    """How one requirement stands on the as-of date, and why."""

    code: str
    unit: str
    required: int | float
    credited: int | float
    met: bool
    counted: tuple[int | str | None, ...]
    lapses_on: date | None
    forecast_met_on: date | None
    source: LocalizedText
    is_public_standard: bool
    name: LocalizedText = field(default_factory=LocalizedText)

    @property
    def missing(self) -> int | float:
        """Amount still needed (0 when met)."""
        return 0 if self.met else _tidy(self.required - self.credited)

    @property
    def share(self) -> float:
        """Share done, between 0 and 1."""
        return min(1.0, self.credited / self.required)


@dataclass(frozen=True)
class LevelResult:
    """One level: ``met`` = its own requirements; ``reached`` = it and all below."""

    code: str
    met: bool
    reached: bool
    requirements: tuple[RequirementResult, ...]
    name: LocalizedText = field(default_factory=LocalizedText)


@dataclass(frozen=True)
class ProgressReport:
    """A teacher's dual-qualified status on one date under one ruleset."""

    as_of: date
    ruleset_name: str
    ruleset_version: str | None
    window: Window
    assessed: bool
    level: str | None
    levels: tuple[LevelResult, ...]

    @property
    def next_level(self) -> LevelResult | None:
        """The lowest level not reached yet (None if all reached or not assessed)."""
        if not self.assessed:
            return None
        return next((lr for lr in self.levels if not lr.reached), None)

    @property
    def level_lapses_on(self) -> date | None:
        """First day the current level is lost with the same verified activities."""
        dates = [
            rr.lapses_on
            for lr in self.levels
            if lr.reached
            for rr in lr.requirements
            if rr.lapses_on is not None
        ]
        return min(dates, default=None)

    def next_level_missing(self) -> tuple[RequirementResult, ...]:
        """The unmet requirements standing between the teacher and the next level."""
        nxt = self.next_level
        return () if nxt is None else tuple(r for r in nxt.requirements if not r.met)

    def requirement(self, code: str) -> RequirementResult:
        """Return the result for requirement ``code`` (KeyError if absent)."""
        for lr in self.levels:
            for rr in lr.requirements:
                if rr.code == code:
                    return rr
        raise KeyError(code)


# --- calendar arithmetic -------------------------------------------------------


def add_years(d: date, years: int) -> date:
    """Shift by whole years; 29 February becomes 28 February in a common year."""
    year = d.year + years
    if year > date.max.year:
        return date.max
    if year < date.min.year:
        return date.min
    try:
        return d.replace(year=year)
    except ValueError:
        return d.replace(year=year, day=28)


def window_for(as_of: date, years: int = 5) -> Window:
    """The ``years``-long window ending on ``as_of``, both ends inclusive."""
    start = add_years(as_of, -years)
    return Window(start if start == date.min else start + timedelta(days=1), as_of)


# Horizons stop here, so that date arithmetic never leaves the calendar.
LAST_DAY = date(9000, 12, 31)


class _Calendar:
    """Window starts and their inverse on ordinals, cached per window length."""

    def __init__(self, years: int) -> None:
        self.years = years
        self._ws: dict[int, int] = {}
        self._limit = LAST_DAY.toordinal()

    def ws(self, d: int) -> int:
        """Ordinal of the window start for evaluation day ``d``."""
        got = self._ws.get(d)
        if got is None:
            if len(self._ws) > 100_000:  # bound the memo; recomputing is cheap
                self._ws.clear()
            start = window_for(date.fromordinal(d), self.years).start
            got = self._ws[d] = start.toordinal()
        return got

    def first_day_ws_reaches(self, x: int) -> int:
        """The first evaluation day whose window starts on or after day ``x``."""
        if x > self._limit:
            return date.max.toordinal()  # beyond any horizon, which ends by LAST_DAY
        c = add_years(date.fromordinal(x), self.years).toordinal() - 1
        # add_years clamps leap days, so nudge to the exact first day (±1 at most).
        while self.ws(c) < x:
            c += 1
        while self.ws(c - 1) >= x:
            c -= 1
        return c


def _irregular_days(lo: int, hi: int) -> Iterator[int]:
    """29 Feb, 1 and 2 Mar of each year: where the window start moves by 0 or 2 days."""
    for year in range(date.fromordinal(lo).year, date.fromordinal(hi).year + 1):
        first_march = date(year, 3, 1).toordinal()
        yield from (first_march - 1, first_march, first_march + 1)


# --- measures as functions of the evaluation day ----------------------------------


class _Series(Protocol):
    linear: bool

    def value(self, d: int) -> int | float: ...

    def breakpoints(self, lo: int, hi: int) -> Iterable[int]: ...


class _EndInWindow:
    """Count or sum over activities whose last day lies in the window."""

    linear = False

    def __init__(
        self, cal: _Calendar, items: list[tuple[int, float]], summed: bool
    ) -> None:
        items.sort()
        self.cal, self.summed = cal, summed
        self.ends = [e for e, _ in items]
        self.weights = [w for _, w in items]

    def value(self, d: int) -> int | float:
        lo = bisect_left(self.ends, self.cal.ws(d))
        hi = bisect_right(self.ends, d)
        if not self.summed:
            return max(0, hi - lo)
        # fsum is exact and order-independent, so every path gives the same number.
        return math.fsum(self.weights[lo:hi]) if hi > lo else 0

    def breakpoints(self, lo: int, hi: int) -> Iterable[int]:
        # An end e leaves the window inside (lo, hi] only if ws(lo) <= e < ws(hi);
        # the margin merely adds harmless extra points.
        first, last = self.cal.ws(lo) - 2, self.cal.ws(hi) + 2
        for e in self.ends:
            yield e
            if first <= e <= last:
                yield self.cal.first_day_ws_reaches(e + 1)


class _ValidOn:
    """Count of activities valid on the day (start ≤ d ≤ end, no end = forever)."""

    linear = False

    def __init__(self, spans: list[tuple[int, int | None]]) -> None:
        self.starts = sorted(s for s, _ in spans)
        self.stops = sorted(e + 1 for _, e in spans if e is not None)

    def value(self, d: int) -> int:
        return bisect_right(self.starts, d) - bisect_right(self.stops, d)

    def breakpoints(self, lo: int, hi: int) -> Iterable[int]:
        return self.starts + self.stops


class _DistinctDays:
    """Number of distinct covered days inside the window."""

    linear = True

    def __init__(self, cal: _Calendar, spans: list[tuple[int, int]]) -> None:
        self.cal = cal
        merged: list[list[int]] = []
        for s, e in sorted(spans):
            if merged and s <= merged[-1][1] + 1:
                merged[-1][1] = max(merged[-1][1], e)
            else:
                merged.append([s, e])
        self.starts = [s for s, _ in merged]
        self.ends = [e for _, e in merged]
        self.before: list[int] = []  # covered days in the intervals before index i
        total = 0
        for s, e in merged:
            self.before.append(total)
            total += e - s + 1

    def _covered_upto(self, x: int) -> int:
        i = bisect_right(self.starts, x) - 1
        if i < 0:
            return 0
        return self.before[i] + min(x, self.ends[i]) - self.starts[i] + 1

    def value(self, d: int) -> int:
        return self._covered_upto(d) - self._covered_upto(self.cal.ws(d) - 1)

    def breakpoints(self, lo: int, hi: int) -> Iterable[int]:
        # Daily change = [d covered] - [ws(d) - 1 covered], except on irregular days.
        reach = self.cal.first_day_ws_reaches
        first, last = self.cal.ws(lo) - 3, self.cal.ws(hi) + 3
        for s, e in zip(self.starts, self.ends, strict=True):
            yield from (s, e + 1)
            yield from (reach(x) for x in (s + 1, e + 2) if first <= x <= last)
        yield from _irregular_days(lo, hi)


def _steps_to(va: float, delta: float, threshold: float, want: bool) -> int | None:
    """Smallest k ≥ 1 with ``(va + delta*k >= threshold) == want``, if any."""
    if want and delta > 0:
        k = max(1, math.ceil((threshold - va) / delta))
    elif not want and delta < 0:
        k = max(1, math.floor((va - threshold) / -delta) + 1)
    else:
        return None

    def ok(n: int) -> bool:
        return (va + delta * n >= threshold) == want

    # Guard against float rounding in the division above.
    while k > 1 and ok(k - 1):
        k -= 1
    while not ok(k):
        k += 1
    return k


def _first_day(
    series: _Series, threshold: float, lo: int, hi: int, want: bool
) -> int | None:
    """First day in [lo, hi] where ``(value >= threshold) == want``, else None."""
    if lo > hi:
        return None
    points = sorted({lo, *(p for p in series.breakpoints(lo, hi) if lo < p <= hi)})
    for i, a in enumerate(points):
        stop = points[i + 1] if i + 1 < len(points) else hi + 1
        va = series.value(a)
        if (va >= threshold) == want:
            return a
        if series.linear and stop - a >= 2:
            k = _steps_to(va, series.value(a + 1) - va, threshold, want)
            if k is not None and a + k < stop:
                return a + k
    return None


def _series(req: Requirement, acts: list[ActivityFact], cal: _Calendar) -> _Series:
    if req.measure is Measure.DISTINCT_DAYS:
        return _DistinctDays(
            cal, [(a.start.toordinal(), a.last_day.toordinal()) for a in acts]
        )
    if req.measure is Measure.VALID_ON_DATE:
        return _ValidOn(
            [(a.start.toordinal(), a.end and a.end.toordinal()) for a in acts]
        )
    if req.measure is Measure.COUNT:
        return _EndInWindow(cal, [(a.last_day.toordinal(), 1) for a in acts], False)
    attr = "hours" if req.measure is Measure.SUM_HOURS else "days"
    items = [(a.last_day.toordinal(), getattr(a, attr)) for a in acts]
    return _EndInWindow(cal, [(e, w) for e, w in items if w], True)


def _counts_on(req: Requirement, a: ActivityFact, window: Window) -> bool:
    """Whether the activity contributes to the requirement on ``window.end``."""
    if req.measure is Measure.VALID_ON_DATE:
        return a.start <= window.end and (a.end is None or a.end >= window.end)
    if req.measure is Measure.DISTINCT_DAYS:
        return a.start <= window.end and a.last_day >= window.start
    in_window = window.start <= a.last_day <= window.end
    if req.measure is Measure.SUM_HOURS:
        return in_window and bool(a.hours)
    if req.measure is Measure.SUM_DAYS:
        return in_window and bool(a.days)
    return in_window


def _tidy(x: int | float) -> int | float:
    """180.0 → 180; other floats unchanged."""
    return int(x) if isinstance(x, float) and x.is_integer() else x


def _calendar(years: int) -> _Calendar:
    """One shared calendar per window length, so its memo serves every teacher."""
    cal = _CALENDARS.get(years)
    if cal is None:
        cal = _CALENDARS[years] = _Calendar(years)
    return cal


_CALENDARS: dict[int, _Calendar] = {}


def _evaluate_requirement(
    req: Requirement,
    by_kind: Mapping[str, list[tuple[int, ActivityFact]]],
    window: Window,
    horizon: date,
    cal: _Calendar,
) -> RequirementResult:
    # Counted ids come out by date, then input order, whatever the kinds' hash order.
    pairs = [
        p for kind in req.kinds for p in by_kind.get(kind, ()) if req.matches(p[1])
    ]
    pairs.sort(key=lambda p: (p[1].start, p[1].last_day, p[0]))
    matching = [a for _, a in pairs]
    verified = [a for a in matching if a.status in STATUS_COUNTED]
    today, last = window.end.toordinal(), horizon.toordinal()
    series = _series(req, verified, cal)
    credited = series.value(today)
    met = credited >= req.threshold
    if met:
        lapse = _first_day(series, req.threshold, today + 1, last, want=False)
        forecast: int | None = today
    else:
        lapse = None
        pending = [a for a in matching if a.status in STATUS_FORECAST]
        forecast = _first_day(
            _series(req, pending, cal), req.threshold, today, last, want=True
        )
    return RequirementResult(
        code=req.code,
        unit=req.unit,
        required=_tidy(req.threshold),
        credited=_tidy(credited),
        met=met,
        counted=tuple(a.id for a in verified if _counts_on(req, a, window)),
        lapses_on=None if lapse is None else date.fromordinal(lapse),
        forecast_met_on=None if forecast is None else date.fromordinal(forecast),
        source=req.source,
        is_public_standard=req.is_public_standard,
        name=req.name,
    )


def evaluate(
    ruleset: Ruleset,
    activities: Iterable[ActivityFact],
    as_of: date,
    *,
    professional_course: bool = True,
) -> ProgressReport:
    """Evaluate one teacher's activities under ``ruleset`` on ``as_of``."""
    by_kind: dict[str, list[tuple[int, ActivityFact]]] = {}
    for n, a in enumerate(activities):
        if a.status != "rejected":
            by_kind.setdefault(a.kind, []).append((n, a))
    window = window_for(as_of, ruleset.window_years)
    horizon = min(add_years(as_of, ruleset.horizon_years), LAST_DAY)
    cal = _calendar(ruleset.window_years)
    assessed = professional_course or ruleset.applies_to is AppliesTo.ALL
    results: list[LevelResult] = []
    reached_so_far = assessed
    for level in ruleset.levels:
        reqs = tuple(
            _evaluate_requirement(r, by_kind, window, horizon, cal)
            for r in level.requirements
        )
        met = all(r.met for r in reqs)
        reached_so_far = reached_so_far and met
        results.append(LevelResult(level.code, met, reached_so_far, reqs, level.name))
    level_code = next((lr.code for lr in reversed(results) if lr.reached), None)
    return ProgressReport(
        as_of=as_of,
        ruleset_name=ruleset.name,
        ruleset_version=ruleset.version,
        window=window,
        assessed=assessed,
        level=level_code,
        levels=tuple(results),
    )


def report_to_dict(report: ProgressReport) -> dict[str, Any]:
    """JSON-ready form of a report (dates as ISO strings, integral numbers as ints)."""

    def iso(d: date | None) -> str | None:
        return None if d is None else d.isoformat()

    return {
        "as_of": iso(report.as_of),
        "ruleset": report.ruleset_name,
        "ruleset_version": report.ruleset_version,
        "assessed": report.assessed,
        "window": {"start": iso(report.window.start), "end": iso(report.window.end)},
        "level": report.level,
        "levels": [
            {
                "code": lr.code,
                "met": lr.met,
                "reached": lr.reached,
                "requirements": [
                    {
                        "code": rr.code,
                        "unit": rr.unit,
                        "required": rr.required,
                        "credited": rr.credited,
                        "met": rr.met,
                        "lapses_on": iso(rr.lapses_on),
                        "forecast_met_on": iso(rr.forecast_met_on),
                        "public_standard": rr.is_public_standard,
                        "counted": list(rr.counted),
                    }
                    for rr in lr.requirements
                ],
            }
            for lr in report.levels
        ],
    }
