"""Forward-looking answers from the engine: when the next level is reached, what
lapses next, how far the next level is. Pure, like the engine beside it.

Definitions used by the pages:

- *forecast on a date D*: the engine run at ``as_of=D`` with planned and
  completed activities treated as verified, i.e. as if everything planned
  happens as planned and gets verified.
- *distance to the next level*: the sum, over the next level's unmet
  requirements, of the share still missing (0 … number of requirements).

See docs/status-rules.md S15–S17.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta

from .definitions import STATUS_COUNTED, STATUS_FORECAST, ActivityFact, Ruleset
from .engine import LevelResult, ProgressReport, RequirementResult, evaluate
from .measures import add_years

# The walks below move forward at least one day per engine run; this bounds them.
MAX_WALK_STEPS = 60
PLANNED_STATUSES = STATUS_FORECAST - STATUS_COUNTED


def as_done(facts: Iterable[ActivityFact]) -> list[ActivityFact]:
    """Planned and completed activities counted as verified: the forecast's premise."""
    return [
        replace(f, status="verified") if f.status in PLANNED_STATUSES else f
        for f in facts
    ]


def first_level_only(ruleset: Ruleset, years: int) -> Ruleset:
    """The lowest level alone, searched ``years`` ahead: enough to say 'qualified'."""
    return replace(
        ruleset,
        levels=ruleset.levels[:1],
        horizon_years=max(1, min(ruleset.horizon_years, years)),
    )


def next_change(level: LevelResult, horizon_end: date) -> date:
    """The first day the level's met/unmet state may differ from the evaluation day's.

    Met: the earliest lapse. Unmet: every unmet requirement stays unmet before its
    own first forecast day, so the latest of those (any None: beyond the horizon).
    """
    beyond = horizon_end + timedelta(days=1)
    if level.met:
        return min(
            (r.lapses_on for r in level.requirements if r.lapses_on), default=beyond
        )
    firsts = [r.forecast_met_on for r in level.requirements if not r.met]
    if any(d is None for d in firsts):
        return beyond
    return max(d for d in firsts if d is not None)


def qualified_on(
    ruleset: Ruleset,
    facts: Sequence[ActivityFact],
    dates: Sequence[date],
    *,
    professional_course: bool = True,
    industry_years: float = 0,
) -> list[bool]:
    """Whether the first level is reached on each (sorted) date.

    Equal to ``evaluate(ruleset, facts, d).level is not None`` for every d, but
    runs the engine only where the state can change, so a year of month-ends
    costs one or two runs.
    """
    if not dates:
        return []
    span = (dates[-1] - dates[0]).days // 365 + 1
    first = first_level_only(ruleset, span)
    out: list[bool] = []
    while len(out) < len(dates):
        day = dates[len(out)]
        report = evaluate(
            first, facts, day, professional_course=professional_course,
            industry_years=industry_years,
        )  # fmt: skip
        if not report.assessed:
            return [False] * len(dates)
        level = report.levels[0]
        change = next_change(level, add_years(day, first.horizon_years))
        out.append(level.met)  # exact for this day, even if the next change is today
        while len(out) < len(dates) and dates[len(out)] < change:
            out.append(level.met)
    return out


def forecast_reach(
    ruleset: Ruleset,
    facts: Sequence[ActivityFact],
    report: ProgressReport,
    *,
    professional_course: bool = True,
    done: Sequence[ActivityFact] | None = None,
    industry_years: float = 0,
) -> date | None:
    """The first date the next level is reached if everything planned happens.

    None when the teacher holds the top level or when what is planned is not
    enough within the ruleset's horizon.
    """
    target = report.next_level
    if target is None:
        return None
    index = [lv.code for lv in report.levels].index(target.code)
    upto = replace(ruleset, levels=ruleset.levels[: index + 1])
    done = as_done(facts) if done is None else done
    end = add_years(report.as_of, ruleset.horizon_years)
    day = report.as_of
    current = report
    for _ in range(MAX_WALK_STEPS):
        if current.levels[index].reached:
            return day
        unmet = [
            r
            for lv in current.levels[: index + 1]
            for r in lv.requirements
            if not r.met
        ]
        firsts = [r.forecast_met_on for r in unmet]
        if any(d is None for d in firsts):
            return None
        day = max(d for d in firsts if d is not None)
        if day > end:
            return None
        current = evaluate(
            upto, done, day, professional_course=professional_course,
            industry_years=industry_years,
        )  # fmt: skip
    return None


def distance_to_next(report: ProgressReport) -> float:
    """Sum over the next level's unmet requirements of the share still missing."""
    return round(sum(1 - r.share for r in report.next_level_missing()), 4)


def earliest_lapse(report: ProgressReport) -> RequirementResult | None:
    """The requirement of a reached level that stops being met first."""
    lapsing = [
        r
        for lv in report.levels
        if lv.reached
        for r in lv.requirements
        if r.lapses_on is not None
    ]
    return min(lapsing, key=lambda r: (r.lapses_on, r.code), default=None)


def next_lapses(report: ProgressReport) -> list[RequirementResult]:
    """Every met requirement with a lapse date, soonest first."""
    met = [
        r for lv in report.levels for r in lv.requirements if r.lapses_on is not None
    ]
    return sorted(met, key=lambda r: (r.lapses_on, r.code))


@dataclass(frozen=True)
class Outlook:
    """A teacher's report on a date with what the pages derive from it."""

    report: ProgressReport
    done: list[ActivityFact]  # the facts with everything planned counted as verified
    distance: float
    lapse: RequirementResult | None
    forecast_on: date | None


def outlook(
    ruleset: Ruleset,
    facts: Sequence[ActivityFact],
    as_of: date,
    *,
    professional_course: bool = True,
    industry_years: float = 0,
) -> Outlook:
    """Evaluate one teacher on ``as_of`` and look ahead: lapse, distance, forecast."""
    report = evaluate(
        ruleset, facts, as_of, professional_course=professional_course,
        industry_years=industry_years,
    )  # fmt: skip
    done = as_done(facts)
    return Outlook(
        report=report,
        done=done,
        distance=distance_to_next(report),
        lapse=earliest_lapse(report),
        forecast_on=forecast_reach(
            ruleset,
            facts,
            report,
            professional_course=professional_course,
            done=done,
            industry_years=industry_years,
        ),  # fmt: skip
    )
