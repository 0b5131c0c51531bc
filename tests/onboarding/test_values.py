"""Cell parsers: every date form, full-width digits, booleans, roles, types."""

from datetime import date, datetime
from decimal import Decimal

import pytest

from pdtracker.onboarding import values as v
from pdtracker.onboarding.errors import Invalid
from pdtracker.onboarding.kindmap import KindTable


@pytest.mark.parametrize(
    "raw",
    [
        datetime(2023, 5, 6, 0, 0),  # an Excel date cell
        date(2023, 5, 6),
        45052,  # an Excel serial number
        45052.0,
        "45052",
        "2023-05-06",
        "2023/5/6",
        "2023.05.06",
        "2023年5月6日",
        "２０２３年５月６日",  # full-width digits
        " 2023-5-6 ",
        "20230506",
    ],
)
def test_every_date_form(raw):
    assert v.parse_date(raw) == date(2023, 5, 6)


@pytest.mark.parametrize("raw", ["2023-02-30", "明天", "2023/13/1", "0", "-3", True])
def test_bad_dates_are_refused(raw):
    with pytest.raises(Invalid) as info:
        v.parse_date(raw)
    assert info.value.code == "invalid_date"


@pytest.mark.parametrize(
    ("raw", "number"),
    [("１６", Decimal(16)), ("１２．５", Decimal("12.5")), (3, Decimal(3)),
     (2.5, Decimal("2.5")), ("1,200", Decimal(1200))],
)  # fmt: skip
def test_numbers_with_full_width_digits(raw, number):
    assert v.parse_decimal(raw) == number


@pytest.mark.parametrize("raw", ["十", "NaN", "Infinity", "1.2.3", True])
def test_bad_numbers_are_refused(raw):
    with pytest.raises(Invalid) as info:
        v.parse_decimal(raw)
    assert info.value.code == "invalid_number"


def test_counts_are_whole_and_not_negative():
    assert v.parse_count("２") == 2
    with pytest.raises(Invalid, match="negative_number"):
        v.parse_count(-1)
    with pytest.raises(Invalid, match="invalid_number"):
        v.parse_count("1.5")


@pytest.mark.parametrize(
    ("raw", "value"),
    [("是", True), ("否", False), ("Y", True), ("n", False), ("1", True), (0, False),
     ("TRUE", True), ("false", False), ("ｙ", True), (True, True)],
)  # fmt: skip
def test_booleans(raw, value):
    assert v.parse_bool(raw) is value


def test_bad_boolean():
    with pytest.raises(Invalid, match="invalid_boolean"):
        v.parse_bool("也许")


@pytest.mark.parametrize(
    ("raw", "roles"),
    [("教师", {"teacher"}), ("教师,系主任", {"teacher", "head"}),
     ("教师，专业带头人", {"teacher", "head"}), ("教师、系主任", {"teacher", "head"}),
     ("系主任;教师", {"teacher", "head"}), ("系主任；", {"head"})],
)  # fmt: skip
def test_person_roles_and_separators(raw, roles):
    assert v.parse_person_roles(raw) == roles


def test_unknown_person_role_names_the_known_ones():
    with pytest.raises(Invalid) as info:
        v.parse_person_roles("教师、校长")
    assert info.value.code == "invalid_role"
    assert info.value.params["value"] == "校长"


@pytest.mark.parametrize(
    ("raw", "role"), [("参加", "attendee"), ("主讲", "speaker"), ("组织", "organizer")]
)
def test_activity_roles(raw, role):
    assert v.parse_activity_role(raw) == role


@pytest.mark.parametrize(
    ("raw", "kind"),
    [("讲座", "expert_lecture"), ("专家讲座", "expert_lecture"),
     ("年会", "industry_conference"), ("学术会议", "industry_conference"),
     ("挂职", "enterprise_placement"), ("顶岗", "enterprise_placement"),
     ("座谈", "seminar"), ("教研", "seminar"), ("国培", "training"),
     ("省培", "training"), ("进修", "training"), ("职业资格", "certificate"),
     ("技能等级", "certificate"), ("标准", "standard_drafting"),
     ("横向课题", "enterprise_project"), ("企业项目", "enterprise_project"),
     ("国培计划", "training"), ("企业实践（数控）", "enterprise_placement")],
)  # fmt: skip
def test_default_type_table(raw, kind):
    assert KindTable().kind_of(raw) == kind


def test_type_table_is_extended_and_unknown_types_refused():
    table = KindTable(extra={"访学": "training"})
    assert table.kind_of("访学") == "training"
    with pytest.raises(Invalid, match="unknown_type"):
        KindTable().kind_of("访学")


@pytest.mark.parametrize("raw", ["a@b", "a b@c.cn", "@c.cn", "a@@c.cn", "a@c."])
def test_bad_emails(raw):
    with pytest.raises(Invalid, match="invalid_email"):
        v.parse_email(raw)


def test_email_domain_lower_cased():
    assert v.parse_email(" Wang.Fang@Example.EDU.cn ") == "Wang.Fang@example.edu.cn"


def test_text_of_number_cells_has_no_spurious_decimal():
    assert v.text(123.0) == "123"
    assert v.text(None) == ""
    assert v.text(" x ") == "x"
