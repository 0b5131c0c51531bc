"""Pure dual-qualified status engine: ruleset + activities + date in, report out.

No Flask, no SQLAlchemy, no clock: ``as_of`` is always an argument. The measures
and their exact date search live in :mod:`.measures`; the inputs in
:mod:`.definitions`.
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
    Level,
    LocalizedText,
    Measure,
    Requirement,
    Ruleset,
    Window,
)
from .measures import (
    LAST_DAY,
    WindowCalendar,
    add_years,
    calendar_for,
    first_day,
    series_for,
    window_for,
)

__all__ = [
    "ROLES", "STATUSES", "ActivityFact", "AppliesTo", "Level", "LevelResult",
    "LocalizedText", "Measure", "ProgressReport", "Requirement",
    "RequirementResult", "Ruleset", "Window", "add_years", "evaluate",
    "report_to_dict", "window_for",
]  # fmt: skip


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


def _evaluate_requirement(
    req: Requirement,
    by_kind: Mapping[str, list[tuple[int, ActivityFact]]],
    window: Window,
    horizon: date,
    cal: WindowCalendar,
) -> RequirementResult:
    # Counted ids come out by date, then input order, whatever the kinds' hash order.
    pairs = [
        p for kind in req.kinds for p in by_kind.get(kind, ()) if req.matches(p[1])
    ]
    pairs.sort(key=lambda p: (p[1].start, p[1].last_day, p[0]))
    matching = [a for _, a in pairs]
    verified = [a for a in matching if a.status in STATUS_COUNTED]
    today, last = window.end.toordinal(), horizon.toordinal()
    series = series_for(req, verified, cal)
    credited = series.value(today)
    met = credited >= req.threshold
    if met:
        lapse = first_day(series, req.threshold, today + 1, last, want=False)
        forecast: int | None = today
    else:
        lapse = None
        pending = [a for a in matching if a.status in STATUS_FORECAST]
        forecast = first_day(
            series_for(req, pending, cal), req.threshold, today, last, want=True
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
    cal = calendar_for(ruleset.window_years)
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
