"""The placement days a college's ruleset credits, read from the database.

The count itself is :func:`pdtracker.placements.days.credited_days`; this module
finds its inputs: the counting basis of the teacher's college's active ruleset,
and the days an enterprise mentor confirmed. The planner's form, completion, the
timeline and the placement list all go through here, so they show one number.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select

from pdtracker.extensions import db
from pdtracker.placements.days import CreditedDays, DayBasis, basis_for, credited_days
from pdtracker.placements.market_models import MentorAssessment
from pdtracker.placements.models import Placement
from pdtracker.progress.active import ActiveRuleset, active_rulesets_for
from pdtracker.progress.definitions import (
    Group,
    LocalizedText,
    Measure,
    Requirement,
    Ruleset,
)

PRACTICE = "enterprise_practice"
PLACEMENT_KIND = "enterprise_placement"  # the kind of a completed placement's activity
DAY_MEASURES = frozenset({Measure.DISTINCT_DAYS, Measure.SUM_DAYS})


@dataclass(frozen=True)
class CountingRule:
    """How a ruleset counts placement days, and the ruleset's name to say so."""

    basis: DayBasis
    name: str
    title: LocalizedText
    has_practice: bool  # False: no requirement of the ruleset counts placement days

    def ruleset_title(self, locale: str | None) -> str:
        """The ruleset's title in ``locale``, else its name."""
        return self.title.get(locale) or self.name


def practice_requirement(ruleset: Ruleset) -> Requirement | None:
    """The ruleset's enterprise-practice requirement, if it has one with a threshold."""
    try:
        requirement = ruleset.requirement(PRACTICE)
    except KeyError:  # a college ruleset may define practice differently
        return None
    if not isinstance(requirement, Requirement):  # alternatives: no one threshold
        return None
    return requirement


def placement_measure(ruleset: Ruleset) -> str | None:
    """The days measure that credits placements under ``ruleset``, if any.

    The enterprise-practice requirement's; else (a college may make practice one
    of several alternatives) the first requirement or alternative, level by
    level, that counts placements in days.
    """
    practice = practice_requirement(ruleset)
    if practice is not None:
        return str(practice.measure)
    for level in ruleset.levels:
        for requirement in level.requirements:
            members = (
                requirement.members
                if isinstance(requirement, Group)
                else (requirement,)
            )
            for member in members:
                if PLACEMENT_KIND in member.kinds and member.measure in DAY_MEASURES:
                    return str(member.measure)
    return None


def rule_of(ruleset: Ruleset, name: str | None = None) -> CountingRule:
    """The counting rule of ``ruleset`` (how it measures placement days)."""
    measure = placement_measure(ruleset)
    return CountingRule(
        basis=basis_for(measure),
        name=name or ruleset.name,
        title=ruleset.title,
        has_practice=measure is not None,
    )


def counting_rules(
    institution_ids: Iterable[int | None],
) -> dict[int | None, CountingRule]:
    """The counting rule of each college's active ruleset, in one query."""
    active: dict[int | None, ActiveRuleset] = active_rulesets_for(institution_ids)
    return {key: rule_of(a.ruleset, a.name) for key, a in active.items()}


def counting_rule(institution_id: int | None) -> CountingRule:
    """The counting rule of one college's active ruleset (None: the regional one)."""
    return counting_rules([institution_id])[institution_id]


def confirmed_days(placement_ids: Iterable[int]) -> dict[int, int]:
    """Days the enterprise mentor confirmed, by placement (one query).

    Only placements hosted by a mentor: for them completion credits these days.
    """
    ids = sorted(set(placement_ids))
    if not ids:
        return {}
    rows = db.session.execute(
        select(MentorAssessment.placement_id, MentorAssessment.confirmed_days)
        .join(Placement, Placement.id == MentorAssessment.placement_id)
        .where(Placement.id.in_(ids), Placement.mentor_id.is_not(None))
    )
    return {placement_id: days for placement_id, days in rows}


def placement_days(
    placement: Placement, rule: CountingRule, confirmed: int | None = None
) -> CreditedDays:
    """The days ``placement`` credits under ``rule``."""
    return credited_days(
        placement.starts_on,
        placement.ends_on,
        rule.basis,
        working_days=placement.working_days,
        confirmed=confirmed,
    )


def credited_end(credit: CreditedDays, ends_on: date) -> date:
    """The last day the credited activity covers.

    The last confirmed day when the enterprise mentor confirmed days (completion
    covers that many days from the start), else the span's end.
    """
    return credit.dates[-1] if credit.confirmed and credit.dates else ends_on


def planned_days(
    starts_on: date | None,
    ends_on: date | None,
    working_days: int | None,
    rule: CountingRule,
    confirmed: int | None = None,
) -> CreditedDays | None:
    """What a plan being typed would credit (None until its span is valid).

    A working-day count the form would refuse is left out (the weekdays count).
    """
    if not (starts_on and ends_on) or ends_on < starts_on:
        return None
    span = (ends_on - starts_on).days + 1
    if not isinstance(working_days, int) or not 0 <= working_days <= span:
        working_days = None
    return credited_days(
        starts_on, ends_on, rule.basis, working_days=working_days, confirmed=confirmed
    )


def placements_days(placements: list[Placement]) -> dict[int, CreditedDays]:
    """Each placement's credited days under its college's rule (two queries).

    The placements' teachers must be loaded.
    """
    if not placements:
        return {}
    rules = counting_rules({p.teacher.institution_id for p in placements})
    confirmed = confirmed_days(p.id for p in placements)
    return {
        p.id: placement_days(p, rules[p.teacher.institution_id], confirmed.get(p.id))
        for p in placements
    }
