"""Property tests: the fast engine against a day-by-day reference, and invariants."""

import functools
import math
from dataclasses import replace
from datetime import date, timedelta

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from pdtracker.progress import measures
from pdtracker.progress.definitions import END_IN_WINDOW, CreditRule, Group
from pdtracker.progress.engine import (
    ActivityFact,
    Level,
    LocalizedText,
    Measure,
    Requirement,
    Ruleset,
    evaluate,
)
from pdtracker.progress.rulebook import load_builtin

from . import reference as ref

DEFAULT = load_builtin()
KINDS = ("a", "b")
STANDARD_KINDS = (
    "expert_lecture",
    "industry_conference",
    "enterprise_placement",
    "seminar",
    "training",
    "certificate",
    "standard_drafting",
    "enterprise_project",
)
ROLES = (None, "attendee", "speaker", "organizer")
STATUSES = ("planned", "completed", "verified", "rejected")
HOURS = (None, 0, 0.1, 0.7, 1, 2.5, 7, 40, 120)

dates = st.dates(min_value=date(2012, 1, 1), max_value=date(2034, 12, 31))
# Dates near 29 February, where the window arithmetic is irregular.
leapish = st.builds(
    lambda year, delta: date(year, 3, 1) + timedelta(days=delta),
    st.integers(2014, 2032),
    st.integers(-3, 2),
)
any_date = st.one_of(dates, leapish)


@st.composite
def activities(draw, kinds=KINDS, statuses=STATUSES, max_size=8, long=False):
    """A list of activities with distinct ids."""
    n = draw(st.integers(0, max_size))
    out = []
    lengths = st.integers(0, 2200 if long else 400)
    for i in range(n):
        start = draw(any_date if not long else leapish)
        length = draw(st.one_of(st.none(), lengths))
        out.append(
            ActivityFact(
                id=i,
                kind=draw(st.sampled_from(kinds)),
                start=start,
                end=None if length is None else start + timedelta(days=length),
                hours=draw(st.sampled_from(HOURS)),
                days=draw(st.sampled_from(HOURS)),
                role=draw(st.sampled_from(ROLES)),
                grade=draw(st.sampled_from((None, "x", "y"))),
                status=draw(st.sampled_from(statuses)),
            )
        )
    return out


@st.composite
def requirements(draw):
    """A random requirement over kinds "a" and "b"."""
    measure = draw(st.sampled_from(list(Measure)))
    if measure is Measure.DISTINCT_DAYS:
        threshold = draw(st.integers(1, 700))
    elif measure in (Measure.SUM_HOURS, Measure.SUM_DAYS):
        threshold = draw(st.sampled_from((0.1, 0.8, 1, 3.5, 40, 47.1, 200)))
    else:
        threshold = draw(st.integers(1, 4))
    subsets = st.sets(st.sampled_from(("x", "y")), min_size=1).map(frozenset)
    roles = st.sets(st.sampled_from(ROLES[1:]), min_size=1).map(frozenset)
    return Requirement(
        code="r",
        measure=measure,
        threshold=threshold,
        kinds=draw(st.sets(st.sampled_from(KINDS), min_size=1).map(frozenset)),
        roles=draw(st.one_of(st.none(), roles)),
        grades=draw(st.one_of(st.none(), subsets)),
        source=LocalizedText(en="test"),
    )


SLOW = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


@SLOW
@given(
    req=requirements(),
    acts=activities(),
    as_of=any_date,
    years=st.integers(1, 5),
    horizon=st.integers(1, 5),
)
def test_engine_matches_day_by_day_reference(req, acts, as_of, years, horizon):
    _check_against_reference(req, acts, as_of, years, horizon)


@SLOW
@given(
    req=requirements(),
    acts=activities(max_size=4, long=True),
    as_of=leapish,
    years=st.sampled_from((1, 1, 2, 4, 5)),
    data=st.data(),
)
def test_reference_with_thresholds_crossed_in_the_horizon(
    req, acts, as_of, years, data
):
    """Set the threshold to what the reference credits on a later day, give or take.

    Long activities, short windows and dates around 29 February make the window
    start and end move through covered days at once, where off-by-ones hide.
    """
    horizon = 5
    statuses = data.draw(st.sampled_from((ref.VERIFIED, ref.PENDING)))
    probe = data.draw(
        st.one_of(
            st.integers(0, horizon * 366).map(lambda n: as_of + timedelta(days=n)),
            leapish.filter(lambda d: as_of <= d <= ref.plus_years(as_of, horizon)),
        )
    )
    credited = ref.Reference(req, acts, statuses, years).credited(probe)
    if req.measure in (Measure.SUM_HOURS, Measure.SUM_DAYS):
        threshold = credited + data.draw(st.sampled_from((-0.1, 0, 0.1)))
    else:
        threshold = credited + data.draw(st.integers(-1, 1))
    if threshold > 0:
        req = replace(req, threshold=threshold)
    _check_against_reference(req, acts, as_of, years, horizon)


def _check_against_reference(req, acts, as_of, years, horizon):
    ruleset = Ruleset(
        name="t",
        levels=(Level("l", (req,)),),
        window_years=years,
        horizon_years=horizon,
    )
    got = evaluate(ruleset, acts, as_of).requirement("r")
    verified = ref.Reference(req, acts, ref.VERIFIED, years)
    assert got.credited == verified.credited(as_of)
    assert got.met is verified.met(as_of)
    assert got.lapses_on == ref.lapses_on(req, acts, as_of, years, horizon)
    assert got.forecast_met_on == ref.forecast_met_on(req, acts, as_of, years, horizon)


@settings(max_examples=60, deadline=None)
@given(acts=activities(kinds=STANDARD_KINDS, max_size=12), as_of=any_date)
def test_default_ruleset_matches_reference(acts, as_of):
    report = evaluate(DEFAULT, acts, as_of)
    for level in DEFAULT.levels:
        for req in level.requirements:
            got = report.requirement(req.code)
            assert got.credited == ref.Reference(req, acts, ref.VERIFIED).credited(
                as_of
            )
            assert got.lapses_on == ref.lapses_on(req, acts, as_of)
            assert got.forecast_met_on == ref.forecast_met_on(req, acts, as_of)


def _credited(report):
    return {rr.code: rr.credited for lr in report.levels for rr in lr.requirements}


@settings(max_examples=150, deadline=None)
@given(
    acts=activities(kinds=STANDARD_KINDS, max_size=10),
    extra=activities(kinds=STANDARD_KINDS, statuses=("verified",), max_size=1),
    as_of=any_date,
)
def test_adding_a_verified_activity_never_lowers_credit(acts, extra, as_of):
    before = _credited(evaluate(DEFAULT, acts, as_of))
    added = [ActivityFact(**{**vars(a), "id": "new"}) for a in extra]
    after = _credited(evaluate(DEFAULT, acts + added, as_of))
    assert all(after[code] >= before[code] for code in before)


@settings(max_examples=150, deadline=None)
@given(acts=activities(kinds=STANDARD_KINDS, max_size=10), as_of=any_date)
def test_next_day_adds_no_credit_from_already_counted_activities(acts, as_of):
    """Activities counted today and over by today can only lose credit tomorrow."""
    report = evaluate(DEFAULT, acts, as_of)
    for lr in report.levels:
        for rr in lr.requirements:
            counted = [
                a for a in acts if a.id in rr.counted and (a.end or a.start) <= as_of
            ]
            today = evaluate(DEFAULT, counted, as_of).requirement(rr.code)
            tomorrow = evaluate(DEFAULT, counted, as_of + timedelta(days=1))
            assert tomorrow.requirement(rr.code).credited <= today.credited


@settings(max_examples=100, deadline=None)
@given(acts=activities(kinds=STANDARD_KINDS), as_of=any_date, data=st.data())
def test_order_of_activities_does_not_matter(acts, as_of, data):
    shuffled = data.draw(st.permutations(acts))
    assert _normalised(evaluate(DEFAULT, acts, as_of)) == _normalised(
        evaluate(DEFAULT, shuffled, as_of)
    )


def _normalised(report):
    """The report with counted ids as sets: ties on dates keep input order."""
    return replace(
        report,
        levels=tuple(
            replace(
                lr,
                requirements=tuple(
                    replace(rr, counted=frozenset(rr.counted)) for rr in lr.requirements
                ),
            )
            for lr in report.levels
        ),
    )


@settings(max_examples=100, deadline=None)
@given(acts=activities(kinds=STANDARD_KINDS), as_of=any_date)
def test_lapse_and_forecast_are_consistent_with_met(acts, as_of):
    report = evaluate(DEFAULT, acts, as_of)
    for lr in report.levels:
        for rr in lr.requirements:
            if rr.met:
                assert rr.forecast_met_on == as_of
                assert rr.lapses_on is None or rr.lapses_on > as_of
            else:
                assert rr.lapses_on is None
                assert rr.forecast_met_on is None or rr.forecast_met_on >= as_of


@st.composite
def spans_around(draw, as_of, max_size=4):
    """Long activities placed around as_of so both window ends meet covered days."""
    out = []
    for i in range(draw(st.integers(0, max_size))):
        start = as_of + timedelta(days=draw(st.integers(-6 * 366, 5 * 366)))
        length = draw(st.one_of(st.none(), st.integers(0, 2500)))
        end = None if length is None else start + timedelta(days=length)
        out.append(ActivityFact(i, "a", start, end, hours=1, days=2))
    return out


LEAP_CASE = [ActivityFact(1, "a", date(2023, 1, 1), date(2025, 12, 31))]
DAYS_REQ = Requirement("r", Measure.DISTINCT_DAYS, 366, frozenset({"a"}))


@settings(max_examples=120, deadline=None)
@given(
    req=requirements().map(lambda r: replace(r, roles=None, grades=None)),
    as_of=any_date,
    years=st.sampled_from((1, 2, 4, 5)),
    data=st.data(),
)
@example(req=DAYS_REQ, as_of=date(2024, 1, 15), years=1, data=LEAP_CASE)
def test_measures_are_linear_between_breakpoints(req, as_of, years, data):
    """The fast search relies on this: between breakpoints the daily change is fixed."""
    acts = data if isinstance(data, list) else data.draw(spans_around(as_of))
    cal = measures.WindowCalendar(years)
    series = measures.series_for(req, [a for a in acts if req.matches(a)], cal)
    reference = ref.Reference(req, acts, set(STATUSES), years)
    lo = as_of.toordinal()
    hi = lo + 5 * 366
    points = {
        lo,
        *series.breakpoints(lo, hi),
    }  # the search always starts a segment at lo
    values = {d: series.value(d) for d in range(lo, hi + 1)}
    for d in range(lo, hi + 1):
        assert values[d] == reference.credited(date.fromordinal(d))
        if d in points:
            continue
        if not series.linear:
            assert values[d] == values[d - 1]
        elif d - 1 not in points:
            assert values[d] - values[d - 1] == values[d - 1] - values[d - 2]


# --- every feature of the language at once (issue 12) ------------------------------

CREDIT_RULES = st.builds(
    CreditRule,
    hours_each=st.one_of(st.none(), st.sampled_from((1, 2.5, 4))),
    hours_per_day=st.one_of(st.none(), st.sampled_from((0.5, 3))),
    role_factor=st.sampled_from(
        ((), (("organizer", 2),), (("speaker", 1.5), ("attendee", 0.5)))
    ),
    max_each=st.one_of(st.none(), st.sampled_from((3, 24))),
)


@st.composite
def rich_requirements(draw, code, as_of, acts, industry_years):
    """A requirement with credit rules, yearly caps and its own window, whose
    threshold is what the reference credits on some day of the horizon, give or take."""
    req = replace(draw(requirements()), code=code, grades=None)
    if draw(st.booleans()):  # conversion needs sum_hours: draw it more often
        req = replace(req, measure=Measure.SUM_HOURS, threshold=40)
    kinds = sorted(req.kinds)
    if req.measure is Measure.SUM_HOURS and draw(st.booleans()):
        chosen = draw(st.sets(st.sampled_from(kinds), min_size=1))
        req = replace(
            req, credit=tuple((k, draw(CREDIT_RULES)) for k in sorted(chosen))
        )
    if req.measure in END_IN_WINDOW and draw(st.booleans()):
        chosen = draw(st.sets(st.sampled_from(kinds), min_size=1))
        amounts = (
            st.integers(1, 3)
            if req.measure is Measure.COUNT
            else st.sampled_from((1, 2.5, 16))
        )
        req = replace(
            req, cap_per_year=tuple((k, draw(amounts)) for k in sorted(chosen))
        )
    if req.measure is not Measure.PROFILE_YEARS:
        req = replace(req, window_years=draw(st.one_of(st.none(), st.integers(1, 3))))
    probe = as_of + timedelta(days=draw(st.integers(0, 5 * 366)))
    statuses = draw(st.sampled_from((ref.VERIFIED, ref.PENDING)))
    credited = ref.Reference(req, acts, statuses, 5, industry_years).credited(probe)
    whole = req.measure not in (
        Measure.SUM_HOURS,
        Measure.SUM_DAYS,
        Measure.PROFILE_YEARS,
    )
    delta = draw(st.integers(-1, 1) if whole else st.sampled_from((-0.1, 0, 0.1)))
    if credited + delta > 0:
        req = replace(req, threshold=credited + delta)
    return req


@st.composite
def activities_near(draw, as_of, max_size=8):
    """Activities ending from three years before as_of to two after, many verified."""
    out = []
    for i in range(draw(st.integers(0, max_size))):
        start = as_of + timedelta(days=draw(st.integers(-3 * 366, 2 * 366)))
        length = draw(st.one_of(st.none(), st.integers(0, 30), st.integers(0, 400)))
        out.append(
            ActivityFact(
                id=i,
                kind=draw(st.sampled_from(KINDS)),
                start=start,
                end=None if length is None else start + timedelta(days=length),
                hours=draw(st.sampled_from(HOURS)),
                days=draw(st.sampled_from(HOURS)),
                role=draw(st.sampled_from(ROLES)),
                status=draw(st.sampled_from(("verified", "verified", *STATUSES))),
            )
        )
    return out


@SLOW
@given(
    as_of=any_date,
    industry_years=st.sampled_from((0, 1, 3, 4.5)),
    data=st.data(),
)
def test_every_feature_matches_day_by_day_reference(as_of, industry_years, data):
    """Alternatives, profile years, credit, caps and own windows against the reference."""
    acts = data.draw(activities_near(as_of))
    rich = functools.partial(
        rich_requirements, as_of=as_of, acts=acts, industry_years=industry_years
    )
    size = data.draw(st.integers(1, 3))
    members = tuple(data.draw(rich(f"m{n}")) for n in range(size))
    group = Group("g", members, min_met=data.draw(st.integers(1, size)))
    plain = data.draw(rich("r"))
    ruleset = Ruleset(name="t", levels=(Level("l", (group, plain)),))
    report = evaluate(ruleset, acts, as_of, industry_years=industry_years)
    for req in (*members, plain):
        got = report.requirement(req.code)
        verified = ref.Reference(req, acts, ref.VERIFIED, 5, industry_years)
        assert got.credited == verified.credited(as_of), req.code
        assert got.met is verified.met(as_of)
        assert got.lapses_on == ref.lapses_on(req, acts, as_of, 5, 5, industry_years)
        assert got.forecast_met_on == ref.forecast_met_on(
            req, acts, as_of, 5, 5, industry_years
        )
        if got.credits:
            assert math.fsum(c for _id, c in got.credits) == pytest.approx(got.credited)
    got = report.requirement("g")
    verified = ref.GroupReference(group, acts, ref.VERIFIED, 5, industry_years)
    assert (got.credited, got.met) == (verified.credited(as_of), verified.met(as_of))
    assert got.lapses_on == ref.group_lapses_on(
        group, acts, as_of, 5, 5, industry_years
    )
    assert got.forecast_met_on == ref.group_forecast_met_on(
        group, acts, as_of, 5, 5, industry_years
    )
