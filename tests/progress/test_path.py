"""The path to the next level (issue 12): fewest actions, their credit, the day.

See docs/status-rules.md S18.
"""

from datetime import date, timedelta

import pytest

from pdtracker.progress.definitions import (
    ActivityFact,
    CreditRule,
    Group,
    Level,
    Measure,
    Requirement,
    Ruleset,
)
from pdtracker.progress.engine import evaluate
from pdtracker.progress.path import Blocked, Opportunity, path_to_next

AS_OF = date(2026, 3, 1)
HOURS = Requirement(
    code="hours", measure=Measure.SUM_HOURS, threshold=20,
    kinds=frozenset({"expert_lecture", "seminar"}),
    credit=(("expert_lecture", CreditRule(hours_each=4)),),
)  # fmt: skip
PRACTICE = Requirement(
    code="practice_days", measure=Measure.DISTINCT_DAYS, threshold=30,
    kinds=frozenset({"enterprise_placement"}),
)  # fmt: skip
INDUSTRY = Requirement(
    code="industry_work", measure=Measure.PROFILE_YEARS, threshold=3,
    kinds=frozenset(),
)  # fmt: skip


def ruleset(*reqs):
    """One level."""
    return Ruleset(name="t", levels=(Level("primary", reqs),))


def done(id_, kind, day, hours=None, status="verified"):
    """A logged activity."""
    return ActivityFact(id=id_, kind=kind, start=day, hours=hours, status=status)


def event(event_id, kind, day, hours):
    """An upcoming event as attendance would credit it."""
    fact = ActivityFact(
        id=f"event:{event_id}", kind=kind, start=day, hours=hours, role="attendee",
        status="planned",
    )  # fmt: skip
    return Opportunity(event_id, f"event {event_id}", fact)


def path(rules, facts, opportunities, **kw):
    """Evaluate, then the path."""
    report = evaluate(rules, facts, AS_OF, **kw)
    return path_to_next(rules, facts, report, opportunities, **kw)


def test_fewest_actions_largest_credit_first():
    facts = [done(1, "seminar", AS_OF - timedelta(days=10), hours=13)]
    offers = [
        event(1, "seminar", date(2026, 4, 1), 3),
        event(2, "expert_lecture", date(2026, 5, 1), 1),  # credited 4, logged 1
        event(3, "seminar", date(2026, 3, 20), 2),
        event(4, "training", date(2026, 3, 10), 40),  # does not count
    ]
    got = path(ruleset(HOURS), facts, offers)
    (step,) = got.steps
    assert [(a.opportunity.event_id, a.credited) for a in step.actions] == [
        (2, 4), (1, 3),
    ]  # fmt: skip
    assert step.reached_on == date(2026, 5, 1)
    assert got.reached_on == date(2026, 5, 1)
    assert step.blocked is None


def test_what_is_planned_already_closes_it():
    facts = [done(1, "seminar", date(2026, 4, 2), hours=20, status="planned")]
    (step,) = path(
        ruleset(HOURS), facts, [event(1, "seminar", date(2026, 3, 5), 30)]
    ).steps
    assert (step.actions, step.reached_on) == ((), date(2026, 4, 2))


@pytest.mark.parametrize(
    ("offers", "blocked"),
    [
        ([], Blocked.NO_OPPORTUNITY),
        ([event(1, "training", date(2026, 4, 1), 50)], Blocked.NO_OPPORTUNITY),
        ([event(1, "seminar", date(2026, 4, 1), 5)], Blocked.NOT_ENOUGH),
    ],
)
def test_a_gap_that_cannot_be_closed_says_why(offers, blocked):
    (step,) = path(ruleset(HOURS), [], offers).steps
    assert (step.blocked, step.reached_on, step.actions) == (blocked, None, ())


def test_a_group_takes_the_alternative_closest_to_met():
    group = Group("practice", (PRACTICE, HOURS, INDUSTRY), min_met=1)
    facts = [done(1, "seminar", AS_OF - timedelta(days=3), hours=16)]
    offers = [event(1, "expert_lecture", date(2026, 3, 15), 1)]
    got = path(ruleset(group), facts, offers, industry_years=2)
    (step,) = got.steps
    assert (step.group.code, step.result.code) == ("practice", "hours")
    assert step.reached_on == date(2026, 3, 15)


def test_profile_years_alone_cannot_be_signed_up_for():
    group = Group("practice", (INDUSTRY,), min_met=1)
    (step,) = path(ruleset(group), [], [], industry_years=1).steps
    assert step.blocked is Blocked.PROFILE


def test_no_path_at_the_top():
    facts = [done(1, "seminar", AS_OF, hours=20)]
    assert path(ruleset(HOURS), facts, []) is None
