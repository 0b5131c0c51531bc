"""The engine's shortcuts for bulk evaluation give the same answers as the full path."""

from dataclasses import fields, replace
from datetime import date

from hypothesis import given, settings

from pdtracker.progress.definitions import ActivityFact
from pdtracker.progress.engine import evaluate
from pdtracker.progress.facts import _logged_fact
from pdtracker.progress.rulebook import load_builtin

from .test_properties import STANDARD_KINDS, activities, any_date

RULESETS = [load_builtin(n) for n in ("cn-vocational-default", "cn-college-example")]


def _without_items(report):
    def bare(result):
        return replace(
            result,
            counted=(),
            credits=(),
            caps_reached=(),
            alternatives=tuple(bare(m) for m in result.alternatives),
        )

    return replace(
        report,
        levels=tuple(
            replace(lv, requirements=tuple(bare(r) for r in lv.requirements))
            for lv in report.levels
        ),
    )


@settings(max_examples=150, deadline=None)
@given(acts=activities(kinds=STANDARD_KINDS, max_size=12), as_of=any_date)
def test_a_report_without_items_is_the_full_report_less_its_items(acts, as_of):
    for ruleset in RULESETS:
        full = evaluate(ruleset, acts, as_of, industry_years=3)
        bare = evaluate(ruleset, acts, as_of, industry_years=3, itemized=False)
        assert bare == _without_items(full)


def test_a_fact_built_from_a_row_equals_the_constructed_one() -> None:
    values = (7, "training", date(2025, 3, 1), date(2025, 3, 4), 12.5, None,
              "speaker", "national", "planned")  # fmt: skip
    fact = _logged_fact(*values)
    made = ActivityFact(*values)
    assert fact == made
    assert hash(fact) == hash(made)
    assert repr(fact) == repr(made)
    assert list(vars(fact)) == [f.name for f in fields(ActivityFact)]
    assert fact.last_day == date(2025, 3, 4)
    assert _logged_fact(1, "x", date(2025, 1, 1), None, None, 2.0, None, None,
                        "verified").last_day == date(2025, 1, 1)  # fmt: skip
