"""The language's richer rules in the engine: alternatives, profile years, credit
conversion, yearly caps and a requirement's own window (issue 12), table-driven.

See docs/status-rules.md S3 (own window), S10 (profile years), S11 (credit tables),
S12 (yearly caps) and S13 (alternatives).
"""

from datetime import date

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
from pdtracker.progress.engine import evaluate, report_to_dict


def act(id_, kind, start, end=None, *, hours=None, role=None, status="verified"):
    """A verified activity unless said otherwise."""
    return ActivityFact(
        id=id_, kind=kind, start=start, end=end, hours=hours, role=role, status=status
    )


def ruleset(*requirements, window_years=5):
    """One level holding the requirements."""
    return Ruleset(
        name="t", levels=(Level("l", tuple(requirements)),), window_years=window_years
    )


PRACTICE = Requirement(
    code="practice_days", measure=Measure.DISTINCT_DAYS,
    kinds=frozenset({"enterprise_placement"}), threshold=10,
)  # fmt: skip
INDUSTRY = Requirement(
    code="industry_work", measure=Measure.PROFILE_YEARS, kinds=frozenset(),
    threshold=3,
)  # fmt: skip
CERTIFICATE = Requirement(
    code="certificate", measure=Measure.VALID_ON_DATE,
    kinds=frozenset({"certificate"}), threshold=1,
)  # fmt: skip


@pytest.mark.parametrize(
    ("min_met", "industry_years", "credited", "met"),
    [
        (1, 3, 2, True),  # certificate and industry years: one is enough
        (2, 3, 2, True),
        (2, 2.5, 1, False),  # industry years short: only the certificate
        (1, 0, 1, True),
        (3, 3, 2, False),
    ],
)
def test_group_met_when_min_met_members_are(min_met, industry_years, credited, met):
    group = Group("practice", (PRACTICE, INDUSTRY, CERTIFICATE), min_met=min_met)
    acts = [act(1, "certificate", date(2020, 1, 1))]
    report = evaluate(
        ruleset(group), acts, date(2021, 1, 1), industry_years=industry_years
    )
    got = report.requirement("practice")
    assert (got.unit, got.required, got.credited, got.met) == (
        "alternatives", min_met, credited, met,
    )  # fmt: skip
    assert [m.code for m in got.alternatives] == [
        "practice_days", "industry_work", "certificate",
    ]  # fmt: skip
    assert report.requirement("industry_work").met is (industry_years >= 3)
    # profile_years is the same on every date: it never lapses.
    assert report.requirement("industry_work").lapses_on is None


@pytest.mark.parametrize(
    ("certificate_end", "min_met", "group_lapses_on"),
    [
        # The placement's 10 days leave the window on 2025-06-01; the certificate
        # holds beyond the horizon (2026-01-01), so the group holds.
        (None, 1, None),
        # The certificate ends 2025-12-31: the group holds until both are gone.
        (date(2025, 12, 31), 1, date(2026, 1, 1)),
        # Both needed: the first member to lapse ends the group.
        (date(2025, 12, 31), 2, date(2025, 6, 1)),
        (None, 2, date(2025, 6, 1)),
    ],
)
def test_member_lapsing_while_another_holds(certificate_end, min_met, group_lapses_on):
    group = Group("practice", (PRACTICE, CERTIFICATE), min_met=min_met)
    acts = [
        act(1, "enterprise_placement", date(2020, 6, 1), date(2020, 6, 10)),
        act(2, "certificate", date(2020, 1, 1), certificate_end),
    ]
    report = evaluate(ruleset(group), acts, date(2021, 1, 1))
    assert report.requirement("practice_days").lapses_on == date(2025, 6, 1)
    assert report.requirement("practice").met is True
    assert report.requirement("practice").lapses_on == group_lapses_on


def test_group_forecast_is_the_first_day_enough_members_are_met():
    group = Group("practice", (PRACTICE, CERTIFICATE), min_met=2)
    acts = [
        act(1, "enterprise_placement", date(2021, 3, 1), date(2021, 3, 10),
            status="planned"),
        act(2, "certificate", date(2021, 5, 1), status="planned"),
    ]  # fmt: skip
    got = evaluate(ruleset(group), acts, date(2021, 1, 1)).requirement("practice")
    assert got.met is False
    assert got.forecast_met_on == date(2021, 5, 1)
    assert [m.forecast_met_on for m in got.alternatives] == [
        date(2021, 3, 10), date(2021, 5, 1),
    ]  # fmt: skip


LECTURES = Requirement(
    code="lectures", measure=Measure.SUM_HOURS, threshold=30,
    kinds=frozenset({"expert_lecture", "seminar"}),
    credit=(("expert_lecture", CreditRule(hours_each=4)),),
    cap_per_year=(("expert_lecture", 16),),
)  # fmt: skip


@pytest.mark.parametrize(
    ("lecture_days", "as_of", "window_years", "credited", "credits"),
    [
        # Five in December 2024 (20, capped at 16), three in January 2025 (12).
        (
            [date(2024, 12, d) for d in (2, 3, 4, 5, 6)]
            + [date(2025, 1, d) for d in (7, 8, 9)],
            date(2025, 2, 1), None, 28, [4, 4, 4, 4, 0, 4, 4, 4],
        ),
        # A one-year window: the March 2024 lectures lie outside and use up nothing
        # of 2024's cap; the five inside are capped on their own.
        (
            [date(2024, 3, d) for d in (1, 2, 3)]
            + [date(2024, 11, d) for d in (1, 2, 3, 4, 5)]
            + [date(2025, 1, 7)],
            date(2025, 6, 15), 1, 20, [4, 4, 4, 4, 0, 4],
        ),
    ],
)  # fmt: skip
def test_caps_per_calendar_year(lecture_days, as_of, window_years, credited, credits):
    req = Requirement(**{**LECTURES.__dict__, "window_years": window_years})
    acts = [act(n, "expert_lecture", d) for n, d in enumerate(lecture_days)]
    got = evaluate(ruleset(req), acts, as_of).requirement("lectures")
    assert got.credited == credited
    assert [amount for _id, amount in got.credits] == credits
    assert sum(amount for _id, amount in got.credits) == credited
    # 2024's cap is reached and one lecture of it is credited nothing.
    assert got.caps_reached == (("expert_lecture", 2024, 16, 1),)


@pytest.mark.parametrize(
    ("activity", "credited"),
    [
        # hours_each: a fixed number, whatever was logged (or nothing logged).
        (act(1, "expert_lecture", date(2024, 5, 1), hours=2.5), 4),
        (act(1, "expert_lecture", date(2024, 5, 1), hours=9), 4),
        (act(1, "expert_lecture", date(2024, 5, 1)), 4),
        # No credit rule for the kind: the logged hours.
        (act(1, "seminar", date(2024, 5, 1), hours=3), 3),
        (act(1, "seminar", date(2024, 5, 1)), 0),
        # hours_per_day over the whole span, at most max_each.
        (act(1, "enterprise_placement", date(2024, 5, 1), date(2024, 5, 5)), 15),
        (act(1, "enterprise_placement", date(2024, 5, 1), date(2024, 5, 10)), 24),
        (act(1, "enterprise_placement", date(2024, 5, 1), hours=100), 3),
    ],
)
def test_credit_conversion_against_logged_hours(activity, credited):
    req = Requirement(
        code="hours", measure=Measure.SUM_HOURS, threshold=100,
        kinds=frozenset({"expert_lecture", "seminar", "enterprise_placement"}),
        credit=(
            ("expert_lecture", CreditRule(hours_each=4)),
            ("enterprise_placement", CreditRule(hours_per_day=3, max_each=24)),
        ),
    )  # fmt: skip
    got = evaluate(ruleset(req), [activity], date(2024, 6, 1)).requirement("hours")
    assert got.credited == credited
    assert got.counted == ((1,) if credited else ())


@pytest.mark.parametrize(
    ("role", "credited"),
    [(None, 4), ("attendee", 4), ("speaker", 6), ("organizer", 7)],
)
def test_role_factor_then_max_each(role, credited):
    rule = CreditRule(
        hours_each=4, role_factor=(("organizer", 2), ("speaker", 1.5)), max_each=7
    )
    req = Requirement(
        code="hours", measure=Measure.SUM_HOURS, threshold=10,
        kinds=frozenset({"expert_lecture"}), credit=(("expert_lecture", rule),),
    )  # fmt: skip
    acts = [act(1, "expert_lecture", date(2024, 5, 1), hours=1, role=role)]
    got = evaluate(ruleset(req), acts, date(2024, 6, 1)).requirement("hours")
    assert got.credited == credited
    assert got.credits == ((1, credited),)


@pytest.mark.parametrize(
    ("project_day", "met", "lapses_on"),
    [
        (date(2023, 2, 28), False, None),  # the day before the one-year window
        (date(2023, 3, 1), True, date(2024, 3, 1)),  # its first day
        (date(2024, 2, 29), True, date(2025, 3, 1)),
    ],
)
def test_one_year_window_on_a_leap_day(project_day, met, lapses_on):
    req = Requirement(
        code="yearly_project", measure=Measure.COUNT, threshold=1,
        kinds=frozenset({"enterprise_project"}), window_years=1,
    )  # fmt: skip
    acts = [act(1, "enterprise_project", project_day)]
    report = evaluate(ruleset(req), acts, date(2024, 2, 29))
    got = report.requirement("yearly_project")
    assert (got.met, got.lapses_on) == (met, lapses_on)
    assert (got.window.start, got.window.end) == (date(2023, 3, 1), date(2024, 2, 29))
    # The ruleset's own window is unchanged.
    assert report.window.start == date(2019, 3, 1)


def test_json_of_a_group_and_a_converted_requirement():
    group = Group("practice", (PRACTICE, INDUSTRY), min_met=1)
    acts = [
        act(7, "expert_lecture", date(2024, 5, 1), hours=1, role="organizer"),
        act(8, "expert_lecture", date(2024, 5, 2), hours=1),
    ]
    rule = CreditRule(hours_each=4, role_factor=(("organizer", 2),))
    lectures = Requirement(
        code="lectures", measure=Measure.SUM_HOURS, threshold=10,
        kinds=frozenset({"expert_lecture"}), credit=(("expert_lecture", rule),),
        cap_per_year=(("expert_lecture", 10),),
    )  # fmt: skip
    report = evaluate(ruleset(group, lectures), acts, date(2024, 6, 1),
                      industry_years=4)  # fmt: skip
    got = report_to_dict(report)["levels"][0]["requirements"]
    assert got[0] == {
        "code": "practice", "unit": "alternatives", "required": 1, "credited": 1,
        "met": True, "lapses_on": None, "forecast_met_on": "2024-06-01",
        "public_standard": False, "counted": [],
        "alternatives": [
            {"code": "practice_days", "unit": "days", "required": 10,
             "credited": 0, "met": False, "lapses_on": None,
             "forecast_met_on": None, "public_standard": False, "counted": []},
            {"code": "industry_work", "unit": "years", "required": 3,
             "credited": 4, "met": True, "lapses_on": None,
             "forecast_met_on": "2024-06-01", "public_standard": False,
             "counted": []},
        ],
    }  # fmt: skip
    assert got[1]["credited"] == 10
    assert got[1]["counted"] == [{"id": 7, "credited": 8}, {"id": 8, "credited": 2}]
