"""The path to the next level: the fewest actions that would reach it. Pure.

For each unmet requirement of the next level (for a group: the alternative closest
to met that activities can fill), it takes the shortest run of upcoming
opportunities that count for it, the largest credit first, with which the
requirement would be met within the horizon, and says on which day. A requirement
no opportunity can close says why. See docs/status-rules.md S18.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date
from enum import StrEnum
from typing import Any

from .definitions import ActivityFact, Level, Measure, Requirement, Ruleset
from .engine import ProgressReport, RequirementResult, evaluate
from .forecast import as_done, forecast_reach

# Opportunities tried per requirement: bounds the engine runs of one dashboard.
MAX_TRIED = 12


class Blocked(StrEnum):
    """Why a gap cannot be closed with what is on offer."""

    PROFILE = "profile"  # only profile years would do, and they do not change
    NO_OPPORTUNITY = "no_opportunity"  # nothing upcoming counts for it
    NOT_ENOUGH = "not_enough"  # what is upcoming does not reach it in the horizon


@dataclass(frozen=True)
class Opportunity:
    """Something the teacher can still sign up for, as the engine would count it."""

    event_id: int
    title: str
    fact: ActivityFact  # planned, as attendance would credit it


@dataclass(frozen=True)
class Action:
    """One opportunity taken, with what it credits toward the requirement."""

    opportunity: Opportunity
    credited: int | float
    unit: str


@dataclass(frozen=True)
class Step:
    """How one unmet requirement (or the chosen alternative of a group) is closed."""

    result: RequirementResult  # the requirement, or the chosen alternative
    group: RequirementResult | None
    actions: tuple[Action, ...]
    reached_on: date | None
    blocked: Blocked | None = None


@dataclass(frozen=True)
class PathToNext:
    """The steps to the next level and the day it is reached if all are taken."""

    level: str
    steps: tuple[Step, ...]
    reached_on: date | None


def path_to_next(
    ruleset: Ruleset,
    facts: Sequence[ActivityFact],
    report: ProgressReport,
    opportunities: Sequence[Opportunity],
    *,
    professional_course: bool = True,
    industry_years: float = 0,
) -> PathToNext | None:
    """The cheapest path to ``report.next_level`` (None at the top or not assessed)."""
    target = report.next_level
    if target is None:
        return None
    kw: dict[str, Any] = {
        "professional_course": professional_course,
        "industry_years": industry_years,
    }
    steps = []
    taken: list[Opportunity] = []
    for result in target.requirements:
        if result.met:
            continue
        step = _close(ruleset, facts, result, report.as_of, opportunities, kw)
        steps.append(step)
        taken.extend(a.opportunity for a in step.actions if a.opportunity not in taken)
    with_taken = [*facts, *(o.fact for o in taken)]
    now = evaluate(ruleset, with_taken, report.as_of, **kw)
    reached = (
        report.as_of
        if now.levels[[lv.code for lv in now.levels].index(target.code)].reached
        else forecast_reach(ruleset, with_taken, now, done=as_done(with_taken), **kw)
    )
    return PathToNext(target.code, tuple(steps), reached)


def _choose(result: RequirementResult) -> RequirementResult | None:
    """A group's unmet alternative closest to met that activities can fill."""
    fillable = [
        m
        for m in result.alternatives
        if not m.met and m.unit != "years"  # profile years: nothing to sign up for
    ]
    return max(fillable, key=lambda m: (m.share, m.code), default=None)


def _close(
    ruleset: Ruleset,
    facts: Sequence[ActivityFact],
    result: RequirementResult,
    as_of: date,
    opportunities: Sequence[Opportunity],
    kw: dict[str, Any],
) -> Step:
    group = result if result.alternatives else None
    chosen = _choose(result) if group else result
    if chosen is None:
        return Step(result, group, (), None, Blocked.PROFILE)
    if chosen.forecast_met_on is not None:  # what is planned already closes it
        return Step(chosen, group, (), chosen.forecast_met_on)
    requirement = ruleset.requirement(chosen.code)
    assert isinstance(requirement, Requirement)  # alternatives are plain requirements
    alone = replace(ruleset, levels=(Level("path", (requirement,)),))
    useful = [
        (o, _credit(requirement, o.fact))
        for o in opportunities
        if requirement.matches(o.fact)
    ]
    useful = [(o, c) for o, c in useful if c > 0]
    if not useful:
        return Step(chosen, group, (), None, Blocked.NO_OPPORTUNITY)
    useful.sort(key=lambda pair: (-pair[1], pair[0].fact.start, pair[0].event_id))
    useful = useful[:MAX_TRIED]

    def met_on(count: int) -> date | None:
        taken = [o.fact for o, _credit in useful[:count]]
        got = evaluate(alone, [*facts, *taken], as_of, **kw).requirement(chosen.code)
        return got.forecast_met_on

    # More activities never lower a credit, so "met within the horizon" only turns
    # on as the prefix grows: find the shortest prefix by bisection.
    if met_on(len(useful)) is None:
        return Step(chosen, group, (), None, Blocked.NOT_ENOUGH)
    low, high = 1, len(useful)
    while low < high:
        middle = (low + high) // 2
        if met_on(middle) is None:
            low = middle + 1
        else:
            high = middle
    actions = tuple(Action(o, c, requirement.unit) for o, c in useful[:low])
    return Step(chosen, group, actions, met_on(low))


def _credit(requirement: Requirement, fact: ActivityFact) -> int | float:
    """What one opportunity would add to the requirement (before yearly caps)."""
    if requirement.measure is Measure.DISTINCT_DAYS:
        return (fact.last_day - fact.start).days + 1
    if requirement.measure is Measure.VALID_ON_DATE:
        return 1
    amount = requirement.amount(fact)
    return int(amount) if float(amount).is_integer() else amount
