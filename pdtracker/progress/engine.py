"""Pure dual-qualified status engine: ruleset + activities + date in, report out.

No Flask, no SQLAlchemy, no clock: ``as_of`` is always an argument. The measures
and their exact date search live in :mod:`.measures`; the inputs in
:mod:`.definitions`. The rules are those of docs/status-rules.md (S1–S16).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from .definitions import (
    ROLES,
    STATUS_COUNTED,
    STATUS_FORECAST,
    STATUSES,
    ActivityFact,
    AppliesTo,
    Group,
    Level,
    LocalizedText,
    Measure,
    Requirement,
    Ruleset,
    Window,
)
from .measures import (
    LAST_DAY,
    Series,
    WindowCalendar,
    add_years,
    calendar_for,
    first_count_day,
    first_day,
    met_spans,
    series_for,
    window_for,
)

__all__ = [
    "ROLES", "STATUSES", "ActivityFact", "AppliesTo", "Group", "Level", "LevelResult",
    "LocalizedText", "Measure", "ProgressReport", "Requirement",
    "RequirementResult", "Ruleset", "Window", "add_years", "evaluate",
    "report_to_dict", "window_for",
]  # fmt: skip


Credits = tuple[tuple[int | str | None, int | float], ...]
Caps = tuple[tuple[str, int, int | float, int], ...]


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
    # A group's members, each with the keys of any requirement.
    alternatives: tuple[RequirementResult, ...] = ()
    # (id, amount credited) per counted activity, when a credit table or caps apply.
    credits: Credits = ()
    # (kind, year, cap, activities credited nothing) per yearly cap reached.
    caps_reached: Caps = ()
    # The requirement's own window (None: the report's).
    window: Window | None = None

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
        """Return the result for requirement, group or member ``code`` (KeyError)."""
        for lr in self.levels:
            for rr in lr.requirements:
                for found in (rr, *rr.alternatives):
                    if found.code == code:
                        return found
        raise KeyError(code)


def _counts_on(req: Requirement, a: ActivityFact, window: Window) -> bool:
    """Whether the activity contributes to the requirement on ``window.end``."""
    if req.measure is Measure.VALID_ON_DATE:
        return a.start <= window.end and (a.end is None or a.end >= window.end)
    if req.measure is Measure.DISTINCT_DAYS:
        return a.start <= window.end and a.last_day >= window.start
    if req.measure is Measure.PROFILE_YEARS:
        return False
    return window.start <= a.last_day <= window.end and req.amount(a) > 0


def _tidy(x: int | float) -> int | float:
    """180.0 → 180; other floats unchanged."""
    return int(x) if isinstance(x, float) and x.is_integer() else x


def _credits(req: Requirement, counted: list[ActivityFact]) -> tuple[Credits, Caps]:
    """Amount credited to each counted activity after yearly caps (S12), caps hit.

    A year's cap is used up in date order: the activities that come after it is
    full are credited 0. Each cap reached is (kind, year, cap, activities credited
    nothing).
    """
    caps = dict(req.cap_per_year)
    left: dict[tuple[str, int], float] = {}
    shut_out: dict[tuple[str, int], int] = {}
    given: dict[int, float] = {}
    order = sorted(range(len(counted)), key=lambda i: (counted[i].last_day, i))
    for i in order:
        a = counted[i]
        amount = req.amount(a)
        if a.kind in caps:
            key = (a.kind, a.last_day.year)
            room = left.get(key, caps[a.kind])
            amount = min(amount, room)
            left[key] = room - amount
            shut_out[key] = shut_out.get(key, 0) + (amount == 0)
        given[i] = amount
    credits = tuple((a.id, _tidy(given[i])) for i, a in enumerate(counted))
    reached = tuple(
        (kind, year, caps[kind], shut_out[kind, year])
        for (kind, year), room in sorted(left.items())
        if room <= 0
    )
    return credits, reached


@dataclass
class _Context:
    """What every requirement of one evaluation shares."""

    # Per kind, (start, last day, input position, activity) in that order.
    by_kind: Mapping[str, list[tuple[date, date, int, ActivityFact]]]
    as_of: date
    horizon: date
    window_years: int
    industry_years: float
    itemized: bool = True


@dataclass
class _Assessed:
    """A requirement's result with its series, for the groups that combine them."""

    req: Requirement
    result: RequirementResult
    verified: Series
    matching: list[ActivityFact]
    cal: WindowCalendar
    industry_years: float

    def pending(self) -> Series:
        """The series with planned and completed activities counted too."""
        return _pending(self.req, self.matching, self.cal, self.industry_years)


def _pending(
    req: Requirement, matching: list[ActivityFact], cal: WindowCalendar, years: float
) -> Series:
    acts = [a for a in matching if a.status in STATUS_FORECAST]
    return series_for(req, acts, cal, years)


def _assess(req: Requirement, ctx: _Context) -> _Assessed:
    years = req.window_years or ctx.window_years
    window, cal = window_for(ctx.as_of, years), calendar_for(years)
    # Counted ids come out by date, then input order, whatever the kinds' hash order.
    rows = [
        p for kind in req.kinds for p in ctx.by_kind.get(kind, ()) if req.matches(p[3])
    ]
    if len(req.kinds) > 1:
        rows.sort()  # the input positions differ: no two rows compare their activities
    matching = [p[3] for p in rows]
    verified = [a for a in matching if a.status in STATUS_COUNTED]
    today, last = ctx.as_of.toordinal(), ctx.horizon.toordinal()
    series = series_for(req, verified, cal, ctx.industry_years)
    credited = series.value(today)
    met = credited >= req.threshold
    if met:
        lapse = first_day(series, req.threshold, today + 1, last, want=False)
        forecast: int | None = today
    else:
        lapse = None
        pending = _pending(req, matching, cal, ctx.industry_years)
        forecast = first_day(pending, req.threshold, today, last, want=True)
    if ctx.itemized:
        counted = [a for a in verified if _counts_on(req, a, window)]
        credits, caps = _credits(req, counted) if req.is_converted else ((), ())
    else:
        counted, credits, caps = [], (), ()
    result = RequirementResult(
        code=req.code,
        unit=req.unit,
        required=_tidy(req.threshold),
        credited=_tidy(credited),
        met=met,
        counted=tuple(a.id for a in counted),
        lapses_on=None if lapse is None else date.fromordinal(lapse),
        forecast_met_on=None if forecast is None else date.fromordinal(forecast),
        source=req.source,
        is_public_standard=req.is_public_standard,
        name=req.name,
        credits=credits,
        caps_reached=caps,
        window=window if req.window_years else None,
    )
    return _Assessed(req, result, series, matching, cal, ctx.industry_years)


def _evaluate_group(group: Group, ctx: _Context) -> RequirementResult:
    """A group is met on a day when ``min_met`` of its members are met (S13)."""
    parts = [_assess(m, ctx) for m in group.members]
    results = tuple(p.result for p in parts)
    today, last = ctx.as_of.toordinal(), ctx.horizon.toordinal()
    count = sum(r.met for r in results)
    met = count >= group.min_met
    if met:
        spans = [met_spans(p.verified, p.req.threshold, today + 1, last) for p in parts]
        lapse = first_count_day(spans, group.min_met, today + 1, last, want=False)
        forecast: int | None = today
    else:
        spans = [met_spans(p.pending(), p.req.threshold, today, last) for p in parts]
        lapse = None
        forecast = first_count_day(spans, group.min_met, today, last, want=True)
    return RequirementResult(
        code=group.code,
        unit=group.unit,
        required=group.min_met,
        credited=count,
        met=met,
        counted=(),
        lapses_on=None if lapse is None else date.fromordinal(lapse),
        forecast_met_on=None if forecast is None else date.fromordinal(forecast),
        source=group.source,
        is_public_standard=group.is_public_standard,
        name=group.name,
        alternatives=results,
    )


def evaluate(
    ruleset: Ruleset,
    activities: Iterable[ActivityFact],
    as_of: date,
    *,
    professional_course: bool = True,
    industry_years: float = 0,
    itemized: bool = True,
) -> ProgressReport:
    """Evaluate one teacher's activities under ``ruleset`` on ``as_of``.

    ``industry_years`` is the teacher's years of industry work before joining (the
    ``profile_years`` measure). Levels build on each other: docs/status-rules.md S14.
    Without ``itemized`` the results list no activities (``counted``, ``credits``
    and ``caps_reached`` empty) and are otherwise the same: for callers that read
    only the levels, amounts and dates.
    """
    by_kind: dict[str, list[tuple[date, date, int, ActivityFact]]] = {}
    for n, a in enumerate(activities):
        if a.status != "rejected":
            by_kind.setdefault(a.kind, []).append((a.start, a.last_day, n, a))
    for rows in by_kind.values():
        rows.sort()
    window = window_for(as_of, ruleset.window_years)
    horizon = min(add_years(as_of, ruleset.horizon_years), LAST_DAY)
    ctx = _Context(
        by_kind, as_of, horizon, ruleset.window_years, industry_years, itemized
    )
    assessed = professional_course or ruleset.applies_to is AppliesTo.ALL
    results: list[LevelResult] = []
    reached_so_far = assessed
    for level in ruleset.levels:
        reqs = tuple(
            _evaluate_group(r, ctx) if isinstance(r, Group) else _assess(r, ctx).result
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


def _iso(d: date | None) -> str | None:
    return None if d is None else d.isoformat()


def requirement_to_dict(rr: RequirementResult) -> dict[str, Any]:
    """JSON-ready form of one requirement's, group's or member's result.

    A group adds ``alternatives`` (its members, same keys). A requirement with a
    credit table or yearly caps lists its counted activities as ``{"id",
    "credited"}``; one with its own window adds ``window``.
    """
    out: dict[str, Any] = {
        "code": rr.code,
        "unit": rr.unit,
        "required": rr.required,
        "credited": rr.credited,
        "met": rr.met,
        "lapses_on": _iso(rr.lapses_on),
        "forecast_met_on": _iso(rr.forecast_met_on),
        "public_standard": rr.is_public_standard,
        "counted": (
            [{"id": i, "credited": amount} for i, amount in rr.credits]
            if rr.credits
            else list(rr.counted)
        ),
    }
    if rr.window is not None:
        out["window"] = {"start": _iso(rr.window.start), "end": _iso(rr.window.end)}
    if rr.unit == "alternatives":
        out["alternatives"] = [requirement_to_dict(m) for m in rr.alternatives]
    return out


def report_to_dict(report: ProgressReport) -> dict[str, Any]:
    """JSON-ready form of a report (dates as ISO strings, integral numbers as ints)."""
    return {
        "as_of": _iso(report.as_of),
        "ruleset": report.ruleset_name,
        "ruleset_version": report.ruleset_version,
        "assessed": report.assessed,
        "window": {
            "start": _iso(report.window.start),
            "end": _iso(report.window.end),
        },
        "level": report.level,
        "levels": [
            {
                "code": lr.code,
                "met": lr.met,
                "reached": lr.reached,
                "requirements": [requirement_to_dict(rr) for rr in lr.requirements],
            }
            for lr in report.levels
        ],
    }
