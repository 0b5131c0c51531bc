"""Rows to checked values, with each row error's code, row number and column."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from pdtracker.activities.models import DEFAULT_KINDS
from pdtracker.onboarding.checkdigits import credit_check_char, id_check_char
from pdtracker.onboarding.errors import ROW_MESSAGES, FileRefused
from pdtracker.onboarding.headers import find_header, map_columns, normalise
from pdtracker.onboarding.reading import read_rows
from pdtracker.onboarding.rows import Lookups, parse_rows
from tests.onboarding.conftest import csv_bytes, sample, xlsx

TODAY = date(2026, 1, 15)
ID = "11010519800101002" + id_check_char("11010519800101002")
LOOKUPS = Lookups(
    today=TODAY,
    departments={"人工智能技术应用系": 1, "ai": 1, "机电工程系": 2, "me": 2},
    department_names=("人工智能技术应用系", "机电工程系"),
    teachers_by_staff={"00123": 11, "00124": 12, "00125": 13, "00126": 14},
    teachers_by_id_hash={f"h:{ID}": 13},
    kind_units={k["code"]: k["unit"] for k in DEFAULT_KINDS},
    hash_id=lambda s: f"h:{s}",
)


def parse(importer: str, data: bytes):
    header, rows = find_header(read_rows(data), importer)
    return parse_rows(importer, header, rows, LOOKUPS)


def errors(parsed) -> list[tuple[int, str, str]]:
    return [(e.row, e.column, e.code) for p in parsed for e in p.errors]


def test_header_names_are_normalised():
    assert normalise(" *工 号（必填） ") == "工号"
    assert normalise("ＥＭＡＩＬ") == "email"
    columns = map_columns(["*姓名", "　工号　", "培训开始时间", "获得学时"], "records")
    assert columns == {0: "teacher_name", 1: "staff_number", 2: "starts_on", 3: "hours"}


def test_provincial_platform_synonyms():
    names = ["培训项目", "培训开始时间", "培训结束时间", "培训内容", "培训单位",
             "培训地点", "获得学时"]  # fmt: skip
    assert list(map_columns(names, "records").values()) == [
        "title", "starts_on", "ends_on", "content", "organizer", "location", "hours"
    ]  # fmt: skip


def test_no_header_is_a_refusal():
    with pytest.raises(FileRefused) as info:
        parse("records", csv_bytes("a,b,c\n1,2,3\n"))
    assert info.value.code == "no_header"


def test_the_people_sample():
    parsed = parse("people", sample("people.xlsx"))
    assert errors(parsed) == []
    first, second, third, fourth = (p.values for p in parsed)
    assert first["staff_number"] == "00123"  # a text cell: leading zeros kept
    assert first["department"] == 1
    assert first["id_number_hash"].startswith("h:")
    assert "id_number" not in first  # the number itself is never kept
    assert second["roles"] == {"teacher", "head"}
    assert second["prior_industry_years"] == 2  # full-width ２
    assert third["is_professional_course"] is True
    assert third["email"] is None
    assert fourth["department"] == 1  # by code
    assert fourth["is_professional_course"] is False


def test_the_platform_records_sample():
    parsed = parse("records", sample("records_platform.xlsx"))
    assert errors(parsed) == []
    rows = [p.values for p in parsed]
    assert [p.number for p in parsed] == [5, 6, 7, 8, 9]
    assert [r["kind"] for r in rows] == [
        "training", "industry_conference", "seminar", "enterprise_placement",
        "expert_lecture",
    ]  # fmt: skip
    assert [r["starts_on"] for r in rows] == [
        date(2023, 7, 10), date(2023, 10, 31), date(2024, 3, 5), date(2024, 7, 1),
        date(2025, 5, 6),
    ]  # fmt: skip
    assert rows[1]["hours"] == Decimal(16)  # full-width １６
    assert rows[3]["days"] == 61  # a placement without days: its span
    assert rows[0]["notes"] == "人工智能课程开发"
    assert rows[0]["teacher_id"] == 11
    assert all(r["role"] == "attendee" for r in rows)


def test_the_gb18030_ledger_sample():
    parsed = parse("records", sample("records_ledger_gb18030.csv"))
    assert errors(parsed) == []
    assert [p.values["role"] for p in parsed] == ["attendee", "speaker", "attendee"]
    assert parsed[2].values["kind"] == "enterprise_project"


RECORD_HEADER = ("工号", "身份证号", "项目名称", "类型", "开始日期", "结束日期", "学时")


@pytest.mark.parametrize(
    ("row", "column", "code"),
    [
        (("00999", "", "x", "培训", "2024-01-01", "", 3), "工号", "unknown_teacher"),
        (("", "", "x", "培训", "2024-01-01", "", 3), "工号", "missing_value"),
        (("", "110105198001010021", "x", "培训", "2024-01-01", "", 3), "身份证号",
         "invalid_id_number"),
        (("00123", "", "x", "旅游", "2024-01-01", "", 3), "类型", "unknown_type"),
        (("00123", "", "", "培训", "2024-01-01", "", 3), "项目名称", "missing_value"),
        (("00123", "", "x", "培训", "2024-02-30", "", 3), "开始日期", "invalid_date"),
        (("00123", "", "x", "培训", "2024-01-05", "2024-01-01", 3), "结束日期",
         "end_before_start"),
        (("00123", "", "x", "培训", "2024-01-01", "2024-01-02", 49), "学时",
         "absurd_hours"),
        (("00123", "", "x", "培训", "2024-01-01", "", -1), "学时", "absurd_hours"),
        (("00123", "", "x", "培训", "2024-01-01", "", "三"), "学时", "invalid_number"),
        (("00123", "", "x", "培训", "2026-02-01", "", 3), "开始日期", "future_date"),
    ],
)  # fmt: skip
def test_each_record_error(row, column, code):
    parsed = parse("records", xlsx(RECORD_HEADER, ("00123", "", "好", "培训",
                                                   "2024-01-01", "", 3), row))  # fmt: skip
    assert errors(parsed) == [(3, column, code)]
    assert code in ROW_MESSAGES
    assert parsed[1].errors[0].message  # an English message for every code


def test_teacher_found_by_id_number_and_48_hours_over_two_days_is_fine():
    parsed = parse("records", xlsx(RECORD_HEADER, ("", ID, "x", "培训",
                                                   "2024-01-01", "2024-01-02", 48)))  # fmt: skip
    assert errors(parsed) == []
    assert parsed[0].values["teacher_id"] == 13


def test_a_certificates_expiry_may_lie_ahead():
    header = ("工号", "项目名称", "类型", "开始日期", "证书等级", "有效期至")
    parsed = parse("records", xlsx(header, ("00123", "电工", "职业资格", "2024-01-01",
                                            "高级", "2029-12-31")))  # fmt: skip
    assert errors(parsed) == []
    assert parsed[0].values["grade"] == "senior"
    # Its end is its expiry, as the activity form records it.
    assert parsed[0].values["ends_on"] == date(2029, 12, 31)
    assert "expires_on" not in parsed[0].values


def test_a_certificates_expiry_before_its_date_is_an_error():
    header = ("工号", "项目名称", "类型", "开始日期", "有效期至")
    parsed = parse("records", xlsx(header, ("00123", "电工", "证书", "2024-01-01",
                                            "2023-12-31")))  # fmt: skip
    assert errors(parsed) == [(2, "有效期至", "end_before_start")]


def test_what_a_kind_does_not_record_is_left_out():
    header = (
        "工号",
        "项目名称",
        "类型",
        "开始日期",
        "结束日期",
        "学时",
        "天数",
        "证书等级",
    )
    parsed = parse("records", xlsx(
        header,
        ("00123", "讲座", "讲座", "2024-01-01", "", 3, 2, "高级"),
        ("00123", "实践", "企业实践", "2024-01-01", "2024-01-10", 30, "", ""),
    ))  # fmt: skip
    lecture, placement = (p.values for p in parsed)
    assert (lecture["hours"], "days" in lecture, "grade" in lecture) == (
        3,
        False,
        False,
    )
    assert ("hours" in placement, placement["days"]) == (False, 10)


PEOPLE_HEADER = ("工号", "姓名", "院系", "邮箱", "角色", "身份证号", "是否专业课教师")


@pytest.mark.parametrize(
    ("row", "column", "code"),
    [(("1", "甲", "外语系", "", "", "", ""), "院系", "unknown_department"),
     (("1", "甲", "", "a@b", "", "", ""), "邮箱", "invalid_email"),
     (("1", "甲", "", "", "校长", "", ""), "角色", "invalid_role"),
     (("1", "甲", "", "", "", "110105198001010021", ""), "身份证号",
      "invalid_id_number"),
     (("1", "甲", "", "", "", "", "也许"), "是否专业课教师", "invalid_boolean"),
     (("1", "", "", "", "", "", ""), "姓名", "missing_value")],
)  # fmt: skip
def test_each_person_error(row, column, code):
    parsed = parse("people", xlsx(PEOPLE_HEADER, row))
    assert errors(parsed) == [(2, column, code)]


def test_unknown_department_lists_the_known_ones():
    parsed = parse("people", xlsx(PEOPLE_HEADER, ("1", "甲", "外语系", "", "", "", "")))
    assert "人工智能技术应用系、机电工程系" in parsed[0].errors[0].message


def test_enterprises_sample_and_a_bad_credit_code():
    parsed = parse("enterprises", sample("enterprises.xlsx"))
    assert errors(parsed) == []
    assert parsed[2].values["credit_code"] is None
    body = "91440300MA5F00001"
    good = body + credit_check_char(body)
    bad = good[:-1] + ("0" if good[-1] != "0" else "1")
    header = ("企业名称", "统一社会信用代码")
    parsed = parse("enterprises", xlsx(header, ("甲公司", good), ("乙公司", bad)))
    assert errors(parsed) == [(3, "统一社会信用代码", "invalid_credit_code")]
