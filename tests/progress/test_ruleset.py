"""Ruleset documents: the default file, validation messages with lines, extends."""

import tomllib

import pytest
import yaml

from pdtracker.progress.engine import AppliesTo, Measure
from pdtracker.progress.rulebook import (
    RulesetError,
    builtin_text,
    load_builtin,
    parse_ruleset,
    toml_key_lines,
)

DEFAULT_TEXT = builtin_text("cn-vocational-default")


def line_of(text, needle, nth=0):
    """1-based line of the nth line containing needle."""
    hits = [n for n, line in enumerate(text.splitlines(), 1) if needle in line]
    return hits[nth]


def messages(exc_info):
    return [str(issue) for issue in exc_info.value.issues]


def test_default_ruleset_is_exactly_the_issue():
    rs = load_builtin()
    assert rs.name == "cn-vocational-default"
    assert rs.applies_to is AppliesTo.PROFESSIONAL_COURSE
    assert (rs.window_years, rs.horizon_years) == (5, 5)
    table = {
        (lv.code, r.code): (
            r.measure,
            r.threshold,
            r.kinds,
            r.roles,
            r.grades,
            r.is_public_standard,
        )
        for lv in rs.levels
        for r in lv.requirements
    }
    f = frozenset
    assert table == {
        ("primary", "enterprise_practice"): (
            Measure.DISTINCT_DAYS,
            180,
            f({"enterprise_placement"}),
            None,
            None,
            True,
        ),
        ("primary", "training_hours"): (
            Measure.SUM_HOURS,
            360,
            f({"expert_lecture", "industry_conference", "seminar", "training"}),
            None,
            None,
            True,
        ),
        ("intermediate", "industry_certificate"): (
            Measure.VALID_ON_DATE,
            1,
            f({"certificate"}),
            None,
            f({"intermediate", "senior"}),
            False,
        ),
        ("intermediate", "industry_events"): (
            Measure.COUNT,
            6,
            f({"expert_lecture", "industry_conference"}),
            None,
            None,
            False,
        ),
        ("intermediate", "enterprise_project"): (
            Measure.COUNT,
            1,
            f({"enterprise_project"}),
            None,
            None,
            False,
        ),
        ("senior", "senior_certificate"): (
            Measure.VALID_ON_DATE,
            1,
            f({"certificate"}),
            None,
            f({"senior"}),
            False,
        ),
        ("senior", "standards_work"): (
            Measure.COUNT,
            1,
            f({"standard_drafting"}),
            None,
            None,
            False,
        ),
        ("senior", "speaking"): (
            Measure.COUNT,
            2,
            f({"expert_lecture", "industry_conference", "seminar"}),
            f({"speaker", "organizer"}),
            None,
            False,
        ),
    }
    assert [lv.code for lv in rs.levels] == ["primary", "intermediate", "senior"]


def test_default_ruleset_sources_in_both_languages():
    for level in load_builtin().levels:
        assert level.name.zh
        assert level.name.en
        for req in level.requirements:
            assert req.source.zh
            assert req.source.en
            assert req.name.zh
            assert req.name.en
            assert any("\u4e00" <= ch <= "\u9fff" for ch in req.source.zh)


def test_yaml_and_toml_give_the_same_ruleset():
    as_yaml = yaml.safe_dump(tomllib.loads(DEFAULT_TEXT), allow_unicode=True)
    assert parse_ruleset(as_yaml, "yaml") == load_builtin()
    assert parse_ruleset(as_yaml) == load_builtin()  # format sniffed


@pytest.mark.parametrize("name", ["../pyproject", "nope", "", "CN"])
def test_builtin_text_rejects_unknown_names(name):
    with pytest.raises(LookupError):
        builtin_text(name)


SMALL_TOML = """\
name = "college-x"
version = 3

[[levels]]
code = "primary"

[[levels.requirements]]
code = "days"
measure = "distinct_days"
kinds = ["enterprise_placement"]
threshold = 180
source = "rule"

[[levels]]
code = "intermediate"

[[levels.requirements]]
code = "events"
measure = "count"
kinds = ["expert_lecture"]
threshold = 6
source = { zh = "规则", en = "rule" }
"""

SMALL_YAML = """\
name: college-x
version: 3
levels:
  - code: primary
    requirements:
      - code: days
        measure: distinct_days
        kinds: [enterprise_placement]
        threshold: 180
        source: rule
  - code: intermediate
    requirements:
      - code: events
        measure: count
        kinds: [expert_lecture]
        threshold: 6
        source: {zh: 规则, en: rule}
"""


@pytest.mark.parametrize("text", [SMALL_TOML, SMALL_YAML])
def test_small_documents_parse(text):
    rs = parse_ruleset(text)
    assert rs.version == "3"
    assert rs.requirement("events").source.get("zh") == "规则"
    assert rs.requirement("days").source.get("en") == "rule"
    assert rs.requirement("days").is_public_standard is False  # default


# (old, new, which occurrence of old, lines into new, expected "path: message")
BAD_CASES = [
    (
        "threshold = 6",
        "threshold = -6",
        0,
        0,
        "levels[1].requirements[0].threshold: must be a positive number",
    ),
    (
        "threshold = 6",
        'threshold = "six"',
        0,
        0,
        "levels[1].requirements[0].threshold: must be a positive number",
    ),
    (
        "threshold = 6",
        "threshold = 6.5",
        0,
        0,
        "levels[1].requirements[0].threshold: must be a whole number for measure count",
    ),
    (
        'measure = "count"',
        'measure = "average"',
        0,
        0,
        "levels[1].requirements[0].measure: must be one of distinct_days, sum_hours, "
        "sum_days, count, valid_on_date",
    ),
    (
        'kinds = ["expert_lecture"]',
        "kinds = []",
        0,
        0,
        "levels[1].requirements[0].kinds: must be a non-empty list of at most 100 "
        "strings",
    ),
    (
        'kinds = ["expert_lecture"]',
        'kinds = ["expert_lecture"]\nroles = ["listener"]',
        0,
        1,
        "levels[1].requirements[0].roles[0]: must be one of attendee, organizer, "
        "speaker",
    ),
    (
        "threshold = 180",
        "threshold = 180\nthreshhold = 2",
        0,
        1,
        "levels[0].requirements[0].threshhold: unknown field",
    ),
    (
        'code = "events"',
        'code = "days"',
        0,
        0,
        "levels[1].requirements[0].code: duplicate requirement code, also at "
        "levels[0].requirements[0].code",
    ),
    (
        'code = "intermediate"',
        'code = "primary"',
        0,
        0,
        "levels[1].code: duplicate level code",
    ),
    (
        'code = "primary"',
        'code = "Pri mary"',
        0,
        0,
        "levels[0].code: must be a string matching ^[a-z][a-z0-9_]{0,63}$",
    ),
    (
        'source = { zh = "规则", en = "rule" }',
        'source = { zh = "规则", fr = "règle" }',
        0,
        0,
        "levels[1].requirements[0].source.fr: unknown field",
    ),
    ("version = 3", "version = 3.5", 0, 0, "version: must be a non-empty string"),
    (
        'name = "college-x"',
        'name = "college-x"\nwindow_years = 0',
        0,
        1,
        "window_years: must be a whole number from 1 to 50",
    ),
    (
        'name = "college-x"',
        'name = "college-x"\napplies_to = "everyone"',
        0,
        1,
        "applies_to: must be one of professional_course, all",
    ),
    (
        "[[levels.requirements]]",
        "[[levels.requirements]]\nsurprise = 1",
        1,
        1,
        "levels[1].requirements[0].surprise: unknown field",
    ),
]


@pytest.mark.parametrize(("old", "new", "nth", "delta", "expected"), BAD_CASES)
def test_toml_errors_name_line_and_field(old, new, nth, delta, expected):
    at = -1
    for _ in range(nth + 1):
        at = SMALL_TOML.index(old, at + 1)
    text = SMALL_TOML[:at] + new + SMALL_TOML[at + len(old) :]
    line = SMALL_TOML.count("\n", 0, at) + 1 + delta
    with pytest.raises(RulesetError) as exc_info:
        parse_ruleset(text, "toml")
    assert messages(exc_info)[0].startswith(f"line {line}: {expected}")


def test_yaml_errors_name_line_and_field():
    text = SMALL_YAML.replace("threshold: 6", "threshold: -1")
    with pytest.raises(RulesetError) as exc_info:
        parse_ruleset(text, "yaml")
    assert messages(exc_info) == [
        f"line {line_of(text, 'threshold: -1')}: "
        "levels[1].requirements[0].threshold: must be a positive number"
    ]


def test_missing_fields_point_at_their_table():
    text = SMALL_TOML.replace('source = "rule"\n', "")
    with pytest.raises(RulesetError) as exc_info:
        parse_ruleset(text, "toml")
    line = line_of(text, "[[levels.requirements]]")
    assert messages(exc_info) == [
        f"line {line}: levels[0].requirements[0].source: required field is missing"
    ]
    text = SMALL_YAML.replace("        source: rule\n", "")
    with pytest.raises(RulesetError) as exc_info:
        parse_ruleset(text, "yaml")
    assert messages(exc_info) == [
        f"line {line_of(text, '- code: days')}: "
        "levels[0].requirements[0].source: required field is missing"
    ]


def test_all_problems_are_reported_at_once():
    text = SMALL_TOML.replace("threshold = 180", "threshold = 0").replace(
        'measure = "count"', 'measure = "x"'
    )
    with pytest.raises(RulesetError) as exc_info:
        parse_ruleset(text, "toml")
    assert len(exc_info.value.issues) == 2
    assert "line 11: levels[0].requirements[0].threshold" in str(exc_info.value)


def test_syntax_errors_keep_the_parsers_position():
    with pytest.raises(RulesetError, match=r"invalid TOML: .*line 2"):
        parse_ruleset('name = "x"\nlevels = = 1\n', "toml")
    with pytest.raises(RulesetError) as exc_info:
        parse_ruleset("name: x\nlevels: [\n  - a: 1\n  b\n", "yaml")
    assert exc_info.value.issues[0].line is not None
    assert "invalid YAML" in str(exc_info.value)


def test_yaml_duplicate_keys_are_errors():
    text = SMALL_YAML.replace("version: 3", "version: 3\nname: again")
    with pytest.raises(RulesetError) as exc_info:
        parse_ruleset(text, "yaml")
    assert messages(exc_info) == ["line 3: name: duplicate key"]


@pytest.mark.parametrize("text", ["", "[1, 2]", "just text"])
def test_non_table_documents(text):
    with pytest.raises(RulesetError, match="the document must be a table"):
        parse_ruleset(text, "yaml")


def test_known_kinds_restrict_requirements():
    with pytest.raises(RulesetError, match="kinds\\[0\\]: must be one of"):
        parse_ruleset(SMALL_TOML, "toml", known_kinds=frozenset({"training"}))


def test_toml_key_lines_follow_tricky_syntax():
    text = '''\
# comment with [brackets] and "quotes"
name = "x" # trailing
multi = """
line one
line "two" \\
"""
lit = \'\'\'
[not a table]
\'\'\'
arr = [
  "a", # comment ]
  "b",
]
"quoted.key" = 1
dotted.inner = 2
inline = { a = 1, b = [1, 2] }

[table]
x = 1

[[aot]]
y = 1
[[aot.sub]]
z = 1
[[aot.sub]]
z = 2
[[aot]]
y = 2
[[aot.sub]]
z = 3
[aot.named]
w = 4
'''
    tomllib.loads(text)  # valid TOML
    lines = toml_key_lines(text)
    assert lines[("name",)] == 2
    assert lines[("multi",)] == 3
    assert lines[("lit",)] == 7
    assert lines[("arr",)] == 10
    assert lines[("quoted.key",)] == 14
    assert lines[("dotted", "inner")] == 15
    assert lines[("inline",)] == 16
    assert lines[("table",)] == 18
    assert lines[("table", "x")] == 19
    assert lines[("aot", 0)] == 21
    assert lines[("aot", 0, "sub", 1, "z")] == 26
    assert lines[("aot", 1, "y")] == 28
    assert lines[("aot", 1, "sub", 0)] == 29
    assert lines[("aot", 1, "sub", 0, "z")] == 30
    assert lines[("aot", 1, "named", "w")] == 32
    assert ("aot", 1, "sub", 1) not in lines


def test_every_default_key_has_its_line():
    lines = toml_key_lines(DEFAULT_TEXT)
    text_lines = DEFAULT_TEXT.splitlines()
    data = tomllib.loads(DEFAULT_TEXT)
    for n, level in enumerate(data["levels"]):
        for m, req in enumerate(level["requirements"]):
            for key in req:
                line = text_lines[lines[("levels", n, "requirements", m, key)] - 1]
                assert line.startswith(f"{key} =") or line.startswith(f"{key}.")
                assert req["code"] in "\n".join(
                    text_lines[lines[("levels", n, "requirements", m)] - 1 :][:2]
                )


# --- extends -------------------------------------------------------------------

PROVINCE = """\
name = "gd-province"
version = "2024"
extends = "cn-vocational-default"

[[levels]]
code = "intermediate"

[[levels.requirements]]
code = "industry_events"
threshold = 8

[[levels.requirements]]
code = "mentoring"
measure = "count"
kinds = ["seminar"]
roles = ["organizer"]
threshold = 1
source = "Province rule"

[[levels]]
code = "expert"
name = { zh = "专家", en = "Expert" }

[[levels.requirements]]
code = "national_standard"
measure = "count"
kinds = ["standard_drafting"]
threshold = 3
source = "College"
"""

COLLEGE = """\
name: college-y
extends: gd-province
levels:
  - code: primary
    requirements:
      - code: training_hours
        threshold: 400
      - code: enterprise_practice
        source: {zh: 学院规定, en: College rule}
        public_standard: true
"""


def resolver(docs):
    def resolve(name):
        if name in docs:
            return docs[name]
        return builtin_text(name)

    return resolve


def test_extends_overrides_and_adds():
    rs = parse_ruleset(PROVINCE, "toml", resolve=builtin_text)
    default = load_builtin()
    assert rs.extends == "cn-vocational-default"
    assert [lv.code for lv in rs.levels] == [
        "primary",
        "intermediate",
        "senior",
        "expert",
    ]
    events = rs.requirement("industry_events")
    assert events.threshold == 8
    assert events.source == default.requirement("industry_events").source
    assert events.kinds == default.requirement("industry_events").kinds
    assert [r.code for r in rs.levels[1].requirements] == [
        "industry_certificate",
        "industry_events",
        "enterprise_project",
        "mentoring",
    ]
    assert rs.levels[3].name.get("en") == "Expert"
    assert rs.levels[0] == default.levels[0]
    assert rs.applies_to is default.applies_to


def test_changing_a_public_threshold_makes_it_a_college_number():
    rs = parse_ruleset(COLLEGE, "yaml", resolve=resolver({"gd-province": PROVINCE}))
    assert rs.extends == "gd-province"
    assert rs.requirement("training_hours").threshold == 400
    assert rs.requirement("training_hours").is_public_standard is False
    practice = rs.requirement("enterprise_practice")
    assert practice.is_public_standard is True  # said so explicitly, threshold kept
    assert practice.source.get("zh") == "学院规定"
    assert rs.requirement("industry_events").threshold == 8  # from the province
    assert rs.requirement("national_standard").threshold == 3


def test_unchanged_threshold_keeps_public_flag():
    text = PROVINCE.replace("threshold = 8", "threshold = 6").replace(
        'code = "intermediate"', 'code = "primary"'
    )
    text = text.replace('code = "industry_events"', 'code = "enterprise_practice"')
    text = text.replace("threshold = 6", "threshold = 180", 1)
    rs = parse_ruleset(text, "toml", resolve=builtin_text)
    assert rs.requirement("enterprise_practice").is_public_standard is True


def test_extends_errors():
    with pytest.raises(RulesetError, match="line 3: extends: unknown ruleset 'nope'"):
        parse_ruleset(
            PROVINCE.replace("cn-vocational-default", "nope"), resolve=builtin_text
        )
    with pytest.raises(RulesetError, match="cannot resolve"):
        parse_ruleset(PROVINCE, "toml")
    loop = {"a": 'name = "a"\nextends = "b"\n', "b": 'name = "b"\nextends = "a"\n'}
    with pytest.raises(RulesetError, match="circular extends"):
        parse_ruleset(loop["a"], "toml", resolve=resolver(loop))
    moved = PROVINCE.replace('code = "industry_events"', 'code = "training_hours"')
    with pytest.raises(RulesetError) as exc_info:
        parse_ruleset(moved, "toml", resolve=builtin_text)
    assert messages(exc_info) == [
        f"line {line_of(moved, 'training_hours')}: levels[0].requirements[0].code: "
        "belongs to level primary of the extended ruleset"
    ]


def test_errors_in_the_extended_ruleset_say_so():
    broken = SMALL_TOML.replace("threshold = 180", "threshold = 0")
    child = 'name = "child"\nextends = "college-x"\n'
    with pytest.raises(RulesetError) as exc_info:
        parse_ruleset(child, "toml", resolve=resolver({"college-x": broken}))
    assert str(exc_info.value) == (
        "in extended ruleset 'college-x': line 11: "
        "levels[0].requirements[0].threshold: must be a positive number"
    )


def test_new_requirement_in_child_needs_all_fields():
    text = PROVINCE.replace('source = "College"\n', "")
    with pytest.raises(RulesetError, match="national_standard|source: required"):
        parse_ruleset(text, "toml", resolve=builtin_text)


def test_changing_measure_checks_inherited_threshold():
    text = """\
name = "c"
extends = "x"
[[levels]]
code = "primary"
[[levels.requirements]]
code = "hours"
measure = "count"
"""
    parent = (
        SMALL_TOML.replace('code = "days"', 'code = "hours"')
        .replace('measure = "distinct_days"', 'measure = "sum_hours"')
        .replace("threshold = 180", "threshold = 2.5")
    )
    with pytest.raises(RulesetError, match="whole number for measure count"):
        parse_ruleset(text, "toml", resolve=resolver({"x": parent}))


def test_nested_extends_errors_read_outside_in():
    broken = SMALL_TOML.replace("threshold = 180", "threshold = 0")
    docs = {
        "college-x": broken,
        "mid": 'name = "mid"\nextends = "college-x"\n',
    }
    child = 'name = "child"\nextends = "mid"\n'
    with pytest.raises(RulesetError) as exc_info:
        parse_ruleset(child, "toml", resolve=resolver(docs))
    assert str(exc_info.value) == (
        "in extended ruleset 'mid': in extended ruleset 'college-x': line 11: "
        "levels[0].requirements[0].threshold: must be a positive number"
    )
