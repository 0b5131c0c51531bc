"""The ruleset language's richer rules (issue 12): parsing, and errors that name the
line and the field. The rules: docs/status-rules.md S3, S11–S13, S19, S20."""

import pytest
import yaml

from pdtracker.progress.definitions import CreditRule, Group, Measure
from pdtracker.progress.rulebook import (
    RulesetError,
    builtin_text,
    load_builtin,
    parse_ruleset,
)

HEADER = """name = "college"
extends = "cn-vocational-default"

[[levels]]
code = "primary"
"""
# The issue's own examples, in one document.
EVERYTHING = (
    HEADER
    + """
[[levels.requirements]]
code = "practice_ability"
name = { zh = "专业实践经历", en = "Professional practice" }
min_met = 1
  [[levels.requirements.any_of]]
  code = "practice_days"
  measure = "distinct_days"
  kinds = ["enterprise_placement"]
  threshold = 180
  [[levels.requirements.any_of]]
  code = "industry_work"
  measure = "profile_years"
  threshold = 3

[[levels.requirements]]
code = "training_hours"
kinds = ["expert_lecture", "seminar", "enterprise_placement"]
cap_per_year = { expert_lecture = 16, seminar = 16 }
window_years = 1

[levels.requirements.credit.enterprise_placement]
hours_per_day = 3
max_each = 24
[levels.requirements.credit.expert_lecture]
hours_each = 4
role_factor = { organizer = 2 }
"""
)


def test_every_feature_parses():
    ruleset = parse_ruleset(EVERYTHING, "toml", resolve=builtin_text)
    group = ruleset.requirement("practice_ability")
    assert isinstance(group, Group)
    assert group.min_met == 1
    assert [m.code for m in group.members] == ["practice_days", "industry_work"]
    assert group.members[1].measure is Measure.PROFILE_YEARS
    assert group.members[1].kinds == frozenset()
    hours = ruleset.requirement("training_hours")
    assert hours.credit == (
        ("enterprise_placement", CreditRule(hours_per_day=3, max_each=24)),
        ("expert_lecture", CreditRule(hours_each=4, role_factor=(("organizer", 2),))),
    )
    assert hours.cap_per_year == (("expert_lecture", 16), ("seminar", 16))
    assert hours.window_years == 1
    # The national 360 hours, converted and capped, is now the college's own number.
    assert hours.is_public_standard is False
    assert hours.threshold == 360


def test_yaml_mirrors_toml():
    import tomllib

    data = tomllib.loads(EVERYTHING)
    from_yaml = parse_ruleset(yaml.safe_dump(data), "yaml", resolve=builtin_text)
    assert from_yaml == parse_ruleset(EVERYTHING, "toml", resolve=builtin_text)


def test_shipped_layers_parse_and_name_their_sources():
    college = load_builtin("cn-college-example")
    assert college.extends == "cn-province-example"
    assert isinstance(college.requirement("enterprise_practice"), Group)
    assert college.requirement("yearly_practice").window_years == 1
    assert "教师〔2016〕3号" in builtin_text("cn-college-example")
    assert "教师厅〔2022〕2号" in builtin_text("cn-province-example")
    # Untouched national requirements keep their mark.
    assert (
        load_builtin("cn-province-example")
        .requirement("training_hours")
        .is_public_standard
    )


def _issues(text):
    with pytest.raises(RulesetError) as caught:
        parse_ruleset(text, "toml", resolve=builtin_text)
    return [str(i) for i in caught.value.issues]


REQ = (
    HEADER
    + """
[[levels.requirements]]
code = "extra"
source = "s"
"""
)


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            REQ + 'measure = "count"\nkinds = ["seminar"]\nthreshold = 1\n'
            "credit = { seminar = { hours_each = 2 } }\n",
            "line 13: levels[0].requirements[0].credit: only a sum_hours "
            "requirement converts credit",
        ),
        (
            REQ + 'measure = "sum_hours"\nkinds = ["seminar"]\nthreshold = 1\n'
            "credit = { training = { hours_each = 2 } }\n",
            "line 13: levels[0].requirements[0].credit.training: must be one of the "
            "requirement's kinds: seminar",
        ),
        (
            REQ + 'measure = "sum_hours"\nkinds = ["seminar"]\nthreshold = 1\n'
            "[levels.requirements.credit.seminar]\nhours_each = -2\n",
            "line 14: levels[0].requirements[0].credit.seminar.hours_each: must be a "
            "positive number",
        ),
        (
            REQ + 'measure = "sum_hours"\nkinds = ["seminar"]\nthreshold = 1\n'
            "[levels.requirements.credit.seminar]\nrole_factor = { boss = 2 }\n",
            "line 14: levels[0].requirements[0].credit.seminar.role_factor.boss: "
            "unknown field",
        ),
        (
            REQ + 'measure = "valid_on_date"\nkinds = ["certificate"]\nthreshold = 1\n'
            "cap_per_year = { certificate = 1 }\n",
            "line 13: levels[0].requirements[0].cap_per_year: only a sum_hours, "
            "sum_days or count requirement has yearly caps",
        ),
        (
            REQ + 'measure = "count"\nkinds = ["seminar"]\nthreshold = 1\n'
            "cap_per_year = { seminar = 1.5 }\n",
            "line 13: levels[0].requirements[0].cap_per_year.seminar: must be a whole "
            "number for measure count",
        ),
        (
            REQ + 'measure = "count"\nkinds = ["seminar"]\nthreshold = 1\n'
            "window_years = 0\n",
            "line 13: levels[0].requirements[0].window_years: must be a whole number "
            "from 1 to 50",
        ),
        (
            REQ + 'measure = "profile_years"\nkinds = ["seminar"]\nthreshold = 3\n',
            "line 11: levels[0].requirements[0].kinds: not used by measure "
            "profile_years",
        ),
        (
            REQ + "min_met = 3\n"
            '[[levels.requirements.any_of]]\ncode = "a"\nmeasure = "count"\n'
            'kinds = ["seminar"]\nthreshold = 1\n',
            "line 10: levels[0].requirements[0].min_met: must be a whole number "
            "from 1 to 1",
        ),
        (
            REQ + 'measure = "count"\n'
            '[[levels.requirements.any_of]]\ncode = "a"\nmeasure = "count"\n'
            'kinds = ["seminar"]\nthreshold = 1\n',
            "line 10: levels[0].requirements[0].measure: a group has no measure: its "
            "alternatives do",
        ),
        (
            REQ + '[[levels.requirements.any_of]]\ncode = "a"\nmeasure = "count"\n'
            'kinds = ["seminar"]\nthreshold = 1\n'
            '[[levels.requirements.any_of.any_of]]\ncode = "b"\n',
            "line 15: levels[0].requirements[0].any_of[0].any_of: alternatives may "
            "not hold alternatives",
        ),
        (
            REQ + '[[levels.requirements.any_of]]\ncode = "extra"\nmeasure = "count"\n'
            'kinds = ["seminar"]\nthreshold = 1\n',
            "line 11: levels[0].requirements[0].any_of[0].code: duplicate requirement "
            "code, also at levels[0].requirements[0].code",
        ),
        (
            REQ + '[[levels.requirements.any_of]]\ncode = "a"\nmeasure = "count"\n'
            "threshold = 1\n",
            "line 10: levels[0].requirements[0].any_of[0].kinds: required field is "
            "missing",
        ),
    ],
)
def test_errors_name_line_and_field(body, expected):
    assert expected in _issues(body)
