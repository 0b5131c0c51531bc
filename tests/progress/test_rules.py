"""Table-driven tests of the pure status engine under the default ruleset.

Rule ids (S1 window, S2 29 February, S6–S10 measures, S15 lapses, S16 forecasts)
are those of docs/status-rules.md.
"""

from datetime import date, timedelta

import pytest

from pdtracker.progress.engine import (
    ActivityFact,
    AppliesTo,
    Level,
    Measure,
    Requirement,
    Ruleset,
    add_years,
    evaluate,
    report_to_dict,
    window_for,
)
from pdtracker.progress.rulebook import load_builtin

RULESET = load_builtin()
AS_OF = date(2024, 6, 15)  # window 2019-06-16 .. 2024-06-15
D = date.fromisoformat


def act(kind, start, end=None, *, id=None, status="verified", **kw):
    """An activity from ISO date strings."""
    return ActivityFact(
        id=id if id is not None else f"{kind}@{start}",
        kind=kind,
        start=D(start),
        end=None if end is None else D(end),
        status=status,
        **kw,
    )


def placement(start, end, **kw):
    return act("enterprise_placement", start, end, **kw)


def training(end, hours, **kw):
    return act("training", end, end, hours=hours, **kw)


def cert(start, end=None, grade="intermediate", **kw):
    return act("certificate", start, end, grade=grade, **kw)


def lecture(end, role="attendee", kind="expert_lecture", **kw):
    return act(kind, end, end, role=role, **kw)


def result(code, acts, as_of=AS_OF, **kw):
    return evaluate(RULESET, acts, as_of, **kw).requirement(code)


@pytest.mark.parametrize(
    ("as_of", "start"),
    [
        ("2024-06-15", "2019-06-16"),
        ("2024-02-29", "2019-03-01"),  # 29 Feb minus 5 years is 28 Feb, plus a day
        ("2025-02-28", "2020-02-29"),
        ("2025-03-01", "2020-03-02"),
        ("2028-02-29", "2023-03-01"),
        ("2024-01-01", "2019-01-02"),
        ("2023-12-31", "2019-01-01"),
    ],
)
def test_window_is_five_years_ending_on_as_of(as_of, start):
    assert window_for(D(as_of)) == window_for(D(as_of), 5)
    assert window_for(D(as_of)).start == D(start)
    assert window_for(D(as_of)).end == D(as_of)
    report = evaluate(RULESET, [], D(as_of))
    assert (report.window.start, report.window.end) == (D(start), D(as_of))


@pytest.mark.parametrize(
    ("d", "years", "expected"),
    [
        ("2024-02-29", -5, "2019-02-28"),
        ("2024-02-29", 4, "2028-02-29"),
        ("2024-02-29", 1, "2025-02-28"),
        ("2023-03-01", 1, "2024-03-01"),
    ],
)
def test_add_years_clamps_leap_day(d, years, expected):
    assert add_years(D(d), years) == D(expected)


@pytest.mark.parametrize(
    ("acts", "credited", "counted"),
    [
        pytest.param([], 0, (), id="nothing"),
        pytest.param([placement("2023-01-01", "2023-06-29")], 180, (0,), id="180 days"),
        pytest.param(
            [
                placement("2023-01-01", "2023-03-31"),
                placement("2023-03-01", "2023-06-30"),
            ],
            181,
            (0, 1),
            id="overlap counts once",
        ),
        pytest.param(
            [
                placement("2023-01-01", "2023-01-31"),
                placement("2023-01-10", "2023-01-20"),
            ],
            31,
            (0, 1),
            id="nested placement",
        ),
        pytest.param(
            [placement("2019-06-10", "2019-06-20")],
            5,
            (0,),
            id="clipped at window start",
        ),
        pytest.param(
            [placement("2019-06-01", "2019-06-15")],
            0,
            (),
            id="ends the day before window",
        ),
        pytest.param(
            [placement("2019-06-16", "2019-06-16")], 1, (0,), id="window's first day"
        ),
        pytest.param(
            [placement("2024-06-10", "2024-07-10")], 6, (0,), id="clipped at as_of"
        ),
        pytest.param(
            [placement("2024-06-16", "2024-07-10")], 0, (), id="starts after as_of"
        ),
        pytest.param(
            [placement("2024-02-01", "2024-02-29")], 29, (0,), id="leap February"
        ),
        pytest.param(
            [placement("2023-01-01", "2023-12-31", status="rejected")],
            0,
            (),
            id="rejected ignored",
        ),
        pytest.param(
            [placement("2023-01-01", "2023-12-31", status="planned")],
            0,
            (),
            id="planned ignored",
        ),
        pytest.param(
            [placement("2023-01-01", "2023-12-31", status="completed")],
            0,
            (),
            id="completed but unverified ignored",
        ),
    ],
)
def test_enterprise_practice_counts_distinct_days(acts, credited, counted):
    acts = [ActivityFact(**{**vars(a), "id": n}) for n, a in enumerate(acts)]
    res = result("enterprise_practice", acts)
    assert res.unit == "days"
    assert res.required == 180
    assert res.credited == credited
    assert res.met is (credited >= 180)
    assert res.counted == counted


@pytest.mark.parametrize(
    ("acts", "credited"),
    [
        pytest.param([training("2024-06-15", 360)], 360, id="ends on as_of"),
        pytest.param([training("2024-06-16", 360)], 0, id="ends after as_of"),
        pytest.param([training("2019-06-16", 360)], 360, id="ends on window start"),
        pytest.param([training("2019-06-15", 360)], 0, id="ends the day before"),
        pytest.param(
            [act("training", "2019-06-01", "2019-06-20", hours=40)],
            40,
            id="started before the window, ended inside",
        ),
        pytest.param(
            [act("training", "2024-06-01", "2024-06-20", hours=40)],
            0,
            id="started inside, ends after as_of",
        ),
        pytest.param(
            [
                training("2020-01-01", 100, id=1),
                lecture("2021-01-01", hours=100.5, id=2),
                lecture("2021-02-01", kind="industry_conference", hours=60, id=3),
                lecture("2021-03-01", kind="seminar", hours=99.5, id=4),
            ],
            360,
            id="four kinds add up",
        ),
        pytest.param(
            [training("2022-01-01", 100, status="planned"), training("2022-01-02", 1)],
            1,
            id="planned ignored",
        ),
        pytest.param(
            [act("enterprise_project", "2022-01-01", "2022-01-02", hours=400)],
            0,
            id="other kinds ignored",
        ),
        pytest.param([training("2022-01-01", None)], 0, id="no hours"),
        pytest.param([training("2022-01-01", 0.1), training("2022-01-02", 0.2)], 0.3),
    ],
)
def test_training_hours_sum_by_end_date(acts, credited):
    res = result("training_hours", acts)
    assert res.unit == "hours"
    assert res.credited == pytest.approx(credited)
    assert res.met is (credited >= 360)


def test_integral_amounts_are_ints():
    res = result(
        "training_hours", [training("2022-01-01", 200.0), training("2022-01-02", 160.0)]
    )
    assert res.credited == 360
    assert isinstance(res.credited, int)
    assert isinstance(res.required, int)


@pytest.mark.parametrize(
    ("acts", "industry", "senior"),
    [
        pytest.param([cert("2020-01-01")], 1, 0, id="intermediate, no expiry"),
        pytest.param([cert("2020-01-01", grade="senior")], 1, 1, id="senior"),
        pytest.param([cert("2020-01-01", grade="primary")], 0, 0, id="primary grade"),
        pytest.param([cert("2020-01-01", grade=None)], 0, 0, id="no grade"),
        pytest.param([cert("2020-01-01", "2024-06-15")], 1, 0, id="expires on as_of"),
        pytest.param(
            [cert("2020-01-01", "2024-06-14")], 0, 0, id="expired the day before"
        ),
        pytest.param([cert("2024-06-15")], 1, 0, id="issued on as_of"),
        pytest.param([cert("2024-06-16")], 0, 0, id="issued tomorrow"),
        pytest.param([cert("2010-01-01")], 1, 0, id="issued before the window"),
        pytest.param(
            [cert("2020-01-01", status="completed")], 0, 0, id="unverified ignored"
        ),
        pytest.param(
            [cert("2020-01-01", grade="senior"), cert("2021-01-01")], 2, 1, id="two"
        ),
    ],
)
def test_certificates_valid_on_the_date(acts, industry, senior):
    assert result("industry_certificate", acts).credited == industry
    assert result("senior_certificate", acts).credited == senior


@pytest.mark.parametrize(
    ("acts", "events", "speaking"),
    [
        pytest.param([lecture("2023-01-01")], 1, 0, id="attendee"),
        pytest.param([lecture("2023-01-01", role="speaker")], 1, 1, id="speaker"),
        pytest.param(
            [lecture("2023-01-01", role="organizer", kind="seminar")],
            0,
            1,
            id="seminar organiser",
        ),
        pytest.param(
            [lecture("2023-01-01", role="speaker", kind="training")],
            0,
            0,
            id="training speaker",
        ),
        pytest.param(
            [lecture("2023-01-01", kind="industry_conference", role=None)],
            1,
            0,
            id="no role",
        ),
        pytest.param(
            [lecture("2019-06-15", role="speaker")], 0, 0, id="before the window"
        ),
        pytest.param(
            [lecture("2023-01-01", role="speaker", status="rejected")],
            0,
            0,
            id="rejected",
        ),
    ],
)
def test_events_and_speaking(acts, events, speaking):
    assert result("industry_events", acts).credited == events
    assert result("speaking", acts).credited == speaking


def primary_acts():
    return [placement("2022-01-01", "2022-12-31"), training("2023-01-01", 360)]


def intermediate_acts():
    return [
        cert("2020-01-01"),
        *(lecture(f"2023-0{n}-01") for n in range(1, 7)),
        act("enterprise_project", "2022-01-01", "2022-06-30"),
    ]


def senior_acts():
    return [
        cert("2021-01-01", grade="senior"),
        act("standard_drafting", "2022-01-01", "2022-02-01"),
        lecture("2023-08-01", role="speaker", kind="seminar"),
        lecture("2023-09-01", role="organizer"),
    ]


@pytest.mark.parametrize(
    ("acts", "level", "met"),
    [
        ([], None, (False, False, False)),
        (primary_acts(), "primary", (True, False, False)),
        (primary_acts() + intermediate_acts(), "intermediate", (True, True, False)),
        (
            primary_acts() + intermediate_acts() + senior_acts(),
            "senior",
            (True, True, True),
        ),
        # Levels build on each other: senior requirements alone reach nothing.
        (intermediate_acts() + senior_acts(), None, (False, True, True)),
        (primary_acts() + senior_acts(), "primary", (True, False, True)),
    ],
)
def test_levels_build_on_each_other(acts, level, met):
    report = evaluate(RULESET, acts, AS_OF)
    assert report.level == level
    assert tuple(lr.met for lr in report.levels) == met
    assert [lr.code for lr in report.levels] == ["primary", "intermediate", "senior"]
    reached = [lr.code for lr in report.levels if lr.reached]
    assert reached == [lr.code for lr in report.levels[: len(reached)]]


def test_non_professional_teachers_are_not_assessed():
    report = evaluate(RULESET, primary_acts(), AS_OF, professional_course=False)
    assert report.assessed is False
    assert report.level is None
    assert report.next_level is None
    assert not any(lr.reached for lr in report.levels)
    # The facts are still reported.
    assert report.requirement("training_hours").credited == 360


def test_ruleset_applying_to_all_assesses_everyone():
    ruleset = Ruleset(name="x", levels=RULESET.levels, applies_to=AppliesTo.ALL)
    report = evaluate(ruleset, primary_acts(), AS_OF, professional_course=False)
    assert report.assessed is True
    assert report.level == "primary"


@pytest.mark.parametrize(
    ("code", "acts", "lapses_on"),
    [
        # 183 verified days from 2020-01-01; the 4th day leaves the window on 2025-01-04.
        ("enterprise_practice", [placement("2020-01-01", "2020-07-01")], "2025-01-04"),
        # Exactly 180 days: the very first day leaving the window breaks it.
        ("enterprise_practice", [placement("2020-01-01", "2020-06-28")], "2025-01-01"),
        # Planned placements do not hold the status up.
        (
            "enterprise_practice",
            [
                placement("2020-01-01", "2020-06-28"),
                placement("2024-07-01", "2025-12-31", status="planned"),
            ],
            "2025-01-01",
        ),
        # A verified placement reaching past as_of keeps adding days as they occur.
        ("enterprise_practice", [placement("2024-01-01", "2025-12-31")], None),
        ("training_hours", [training("2023-01-05", 400)], "2028-01-05"),
        ("training_hours", [training("2019-06-16", 360)], "2024-06-16"),
        # A leap-day end leaves the window on 1 March five years on.
        ("training_hours", [training("2020-02-29", 360)], "2025-03-01"),
        ("industry_certificate", [cert("2020-01-01", "2027-03-31")], "2027-04-01"),
        ("industry_certificate", [cert("2020-01-01")], None),
        # Expiry after the 5-year horizon (2029-06-15).
        ("industry_certificate", [cert("2020-01-01", "2030-01-01")], None),
        ("industry_certificate", [cert("2020-01-01", "2029-06-14")], "2029-06-15"),
        ("industry_certificate", [cert("2020-01-01", "2029-06-15")], None),
        # Two overlapping certificates: lapse when the later expiry passes.
        (
            "industry_certificate",
            [cert("2020-01-01", "2025-01-01"), cert("2021-01-01", "2026-01-01")],
            "2026-01-02",
        ),
        # Unmet requirements do not lapse.
        ("industry_certificate", [], None),
    ],
)
def test_lapses_on(code, acts, lapses_on):
    res = result(code, acts)
    assert res.lapses_on == (None if lapses_on is None else D(lapses_on))
    if lapses_on is not None:
        assert res.met
        later = result(code, [a for a in acts if a.status == "verified"], D(lapses_on))
        assert not later.met


@pytest.mark.parametrize(
    ("code", "acts", "forecast"),
    [
        # Met now: the forecast is as_of.
        ("enterprise_practice", [placement("2023-01-01", "2023-12-31")], "2024-06-15"),
        # Planned days count as they occur: 1 July + 179 days.
        (
            "enterprise_practice",
            [placement("2024-07-01", "2025-06-30", status="planned")],
            "2024-12-27",
        ),
        # 143 verified days, 37 more planned from 1 September.
        (
            "enterprise_practice",
            [
                placement("2023-01-01", "2023-05-23"),
                placement("2024-09-01", "2024-12-31", status="planned"),
            ],
            "2024-10-07",
        ),
        # Not enough planned.
        (
            "enterprise_practice",
            [placement("2024-07-01", "2024-07-31", status="planned")],
            None,
        ),
        # Rejected never counts.
        (
            "enterprise_practice",
            [placement("2024-07-01", "2025-06-30", status="rejected")],
            None,
        ),
        # Completed but not yet verified: met today once it is verified.
        (
            "training_hours",
            [training("2024-06-01", 360, status="completed")],
            "2024-06-15",
        ),
        # Hours count on the end date.
        (
            "training_hours",
            [
                training("2024-01-01", 300),
                act("training", "2024-07-01", "2024-09-30", hours=60, status="planned"),
            ],
            "2024-09-30",
        ),
        # The 6th event.
        (
            "industry_events",
            [
                *(lecture(f"2023-0{n}-01") for n in range(1, 5)),
                lecture("2024-08-01", status="planned"),
                lecture("2024-11-11", kind="industry_conference", status="planned"),
            ],
            "2024-11-11",
        ),
        # A planned certificate counts from its start.
        ("industry_certificate", [cert("2025-03-01", status="planned")], "2025-03-01"),
        # Beyond the 5-year horizon.
        ("industry_certificate", [cert("2029-06-16", status="planned")], None),
        ("industry_certificate", [cert("2029-06-15", status="planned")], "2029-06-15"),
        # Old activities leave the window while planned ones arrive: the first day
        # on which the two overlap enough.
        (
            "industry_events",
            [
                *(lecture(f"2019-07-0{n}") for n in range(1, 6)),
                lecture("2024-07-05", status="planned"),
            ],
            None,
        ),
        (
            "industry_events",
            [
                *(lecture(f"2019-07-0{n}") for n in range(1, 6)),
                lecture("2024-06-30", status="planned"),
            ],
            "2024-06-30",
        ),
    ],
)
def test_forecast_met_on(code, acts, forecast):
    res = result(code, acts)
    assert res.forecast_met_on == (None if forecast is None else D(forecast))


def test_missing_amount_for_next_level():
    acts = [placement("2023-01-01", "2023-05-23"), training("2023-01-01", 400)]
    report = evaluate(RULESET, acts, AS_OF)
    assert report.level is None
    assert report.next_level.code == "primary"
    [missing] = report.next_level_missing()
    assert (missing.code, missing.credited, missing.missing, missing.unit) == (
        "enterprise_practice",
        143,
        37,
        "days",
    )
    assert missing.name.get("zh") == "企业实践"
    assert missing.share == pytest.approx(143 / 180)


def test_next_level_after_primary():
    report = evaluate(RULESET, primary_acts(), AS_OF)
    assert report.next_level.code == "intermediate"
    assert {r.code for r in report.next_level_missing()} == {
        "industry_certificate",
        "industry_events",
        "enterprise_project",
    }


def test_all_levels_reached_has_no_next_level():
    acts = primary_acts() + intermediate_acts() + senior_acts()
    report = evaluate(RULESET, acts, AS_OF)
    assert report.next_level is None
    assert report.next_level_missing() == ()


def test_report_explains_sources():
    report = evaluate(RULESET, [], AS_OF)
    public = {
        rr.code
        for lr in report.levels
        for rr in lr.requirements
        if rr.is_public_standard
    }
    assert public == {"enterprise_practice", "training_hours"}
    src = report.requirement("enterprise_practice").source
    assert "6" in src.get("zh")
    assert "2016" in src.get("en")


def test_report_to_dict_is_json_ready():
    data = report_to_dict(evaluate(RULESET, primary_acts(), AS_OF))
    assert data["as_of"] == "2024-06-15"
    assert data["window"] == {"start": "2019-06-16", "end": "2024-06-15"}
    assert data["ruleset"] == "cn-vocational-default"
    assert data["level"] == "primary"
    req = data["levels"][0]["requirements"][0]
    assert req["code"] == "enterprise_practice"
    assert req["credited"] == 365
    # 186 days must leave the window (1 January to 5 July 2022) before 365 < 180.
    assert req["lapses_on"] == "2027-07-05"


def test_activity_rejects_end_before_start():
    with pytest.raises(ValueError, match="before start"):
        ActivityFact(1, "training", date(2024, 1, 2), date(2024, 1, 1))


def test_custom_measures_sum_days():
    req = Requirement("d", Measure.SUM_DAYS, 10, frozenset({"enterprise_placement"}))
    ruleset = Ruleset(name="x", levels=(Level("l", (req,)),))
    acts = [
        placement("2023-01-01", "2023-12-31", days=6),
        placement("2024-01-01", "2024-02-01", days=4),
    ]
    res = evaluate(ruleset, acts, AS_OF).requirement("d")
    assert (res.credited, res.met, res.unit) == (10, True, "days")
    assert res.lapses_on == D("2028-12-31")  # the 6 days ended on 2023-12-31


def test_level_lapses_on_the_first_lapse_among_reached_levels():
    acts = primary_acts() + intermediate_acts()
    report = evaluate(RULESET, acts, AS_OF)
    assert report.level == "intermediate"
    lapses = [rr.lapses_on for lr in report.levels[:2] for rr in lr.requirements]
    assert report.level_lapses_on == min(d for d in lapses if d is not None)
    # The next day without the level is exactly that day.
    before = evaluate(RULESET, acts, report.level_lapses_on - timedelta(days=1))
    after = evaluate(RULESET, acts, report.level_lapses_on)
    assert before.level == "intermediate"
    assert after.level != "intermediate"
    assert evaluate(RULESET, [], AS_OF).level_lapses_on is None
