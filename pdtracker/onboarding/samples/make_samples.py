"""Write the sample import files next to this script (run it again after a change).

    python pdtracker/onboarding/samples/make_samples.py

The files are the templates admins download and what the tests import: a people
file, an enterprises file, a records file shaped like a provincial platform's
export (title rows and merged cells above a header on row 4, Excel date cells,
serial numbers, full-width digits) and a college ledger saved as a GB18030 CSV.
"""

from __future__ import annotations

import csv
import io
from datetime import date, datetime
from pathlib import Path

from openpyxl import Workbook

from pdtracker.onboarding.checkdigits import credit_check_char, id_check_char

HERE = Path(__file__).resolve().parent
FIXED_TIME = datetime(2026, 1, 1)  # workbook properties, so reruns give the same XML


def id_number(prefix17: str) -> str:
    """A resident ID number with its check character."""
    return prefix17 + id_check_char(prefix17)


def credit_code(prefix17: str) -> str:
    """A unified social credit code with its check character."""
    return prefix17 + credit_check_char(prefix17)


PEOPLE_HEADER = ("*工号", "*姓名", "院系/部门", "职称", "是否专业课教师",
                 "企业工作年限", "邮箱", "手机", "角色", "身份证号")  # fmt: skip
PEOPLE = [
    ("00123", "王芳", "人工智能技术应用系", "讲师", "是", 3, "wangfang@example.edu.cn",
     "13800000001", "教师", id_number("11010519800101002")),
    ("00124", "李强", "人工智能技术应用系", "副教授", "Y", "２", "liqiang@example.edu.cn",
     "13800000002", "教师、系主任", ""),
    ("00125", "张伟", "机电工程系", "高级工程师", "1", 10, "",
     "13800000003", "教师", id_number("44030419750615123")),
    ("00126", "赵敏", "AI", "助教", "否", 0, "zhaomin@example.edu.cn",
     "", "教师", ""),
]  # fmt: skip

ENTERPRISE_HEADER = ("企业名称", "统一社会信用代码", "行业", "城市", "联系人",
                     "联系电话", "可接收人数")  # fmt: skip
ENTERPRISES = [
    ("深圳智造科技有限公司", credit_code("91440300MA5F00001"), "智能制造", "深圳",
     "陈经理", "0755-00000001", 3),
    ("广州数联信息技术有限公司", credit_code("91440101MA9Y00002"), "软件和信息技术",
     "广州", "刘工", "020-00000002", 2),
    ("佛山精工机械厂", "", "装备制造", "佛山", "黄主任", "0757-00000003", 1),
]  # fmt: skip

PLATFORM_TITLE = "2023—2025年度教师培训学时汇总表"
PLATFORM_HEADER = ("序号", "工号", "姓名", "培训项目", "培训类型", "培训开始时间",
                   "培训结束时间", "培训内容", "培训单位", "培训地点", "获得学时")  # fmt: skip
PLATFORM_ROWS = [
    (1, "00123", "王芳", "职业院校教师素质提高计划（国培）", "国培",
     date(2023, 7, 10), date(2023, 7, 21), "人工智能课程开发", "教育部职教师资基地",
     "天津", 80),
    (2, "00123", "王芳", "智能制造行业年会", "行业会议", 45230, 45231,
     "行业趋势", "中国智能制造产业联盟", "上海", "１６"),
    (3, "00124", "李强", "课程思政专题研讨", "研讨", "2024/3/5", "2024/3/5",
     "", "省高职教育研究会", "广州", 4),
    (4, "00125", "张伟", "企业实践（数控加工）", "企业实践", "2024.07.01",
     "2024.08.30", "顶岗实践", "深圳智造科技有限公司", "深圳", ""),
    (5, "00125", "张伟", "专家讲座：工业互联网", "专家讲座", "2025年5月6日",
     "2025年5月6日", "", "行业协会", "线上", "3"),
]  # fmt: skip

LEDGER_HEADER = ("工号", "项目名称", "类型", "开始日期", "结束日期", "学时",
                 "主办单位", "角色", "备注")  # fmt: skip
LEDGER_ROWS = [
    ("00123", "校本研修：项目化教学", "研修", "2022-09-01", "2022-09-30", "24",
     "示范职业技术学院", "参加", "校内"),
    ("00124", "新教师培训主讲", "培训", "2023-08-20", "2023-08-22", "12",
     "示范职业技术学院", "主讲", ""),
    ("00126", "横向课题：产线数据采集", "横向课题", "2024-10-01", "2024-12-31", "",
     "广州数联信息技术有限公司", "参加", ""),
]  # fmt: skip


def _save(book: Workbook, name: str) -> None:
    book.properties.created = FIXED_TIME
    book.properties.modified = FIXED_TIME
    book.save(HERE / name)


def make_people() -> None:
    book = Workbook()
    sheet = book.active
    sheet.title = "教师名单"
    sheet.append(PEOPLE_HEADER)
    for row in PEOPLE:
        sheet.append(row)
    for cell in sheet["A"][1:] + sheet["J"][1:]:
        cell.number_format = "@"  # text: the leading zeros stay
    _save(book, "people.xlsx")


def make_enterprises() -> None:
    book = Workbook()
    sheet = book.active
    sheet.title = "企业名录"
    sheet.append(ENTERPRISE_HEADER)
    for row in ENTERPRISES:
        sheet.append(row)
    _save(book, "enterprises.xlsx")


def make_platform_records() -> None:
    book = Workbook()
    sheet = book.active
    sheet.title = "培训记录"
    sheet["A1"] = PLATFORM_TITLE
    sheet.merge_cells("A1:K1")
    sheet["A2"] = "导出单位：示范职业技术学院　导出时间：2026-01-01"
    sheet.merge_cells("A2:K2")
    # Row 3 stays empty; the header is on row 4, the data below it.
    for number, row in enumerate((PLATFORM_HEADER, *PLATFORM_ROWS), start=4):
        for column, value in enumerate(row, start=1):
            sheet.cell(row=number, column=column, value=value)
    for cell in sheet["B"][4:]:
        cell.number_format = "@"
    for cell in sheet["F"][4:] + sheet["G"][4:]:
        if isinstance(cell.value, date):
            cell.number_format = "yyyy-mm-dd"
    _save(book, "records_platform.xlsx")


def make_ledger_csv() -> None:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(LEDGER_HEADER)
    writer.writerows(LEDGER_ROWS)
    (HERE / "records_ledger_gb18030.csv").write_bytes(
        buffer.getvalue().encode("gb18030")
    )


if __name__ == "__main__":
    make_people()
    make_enterprises()
    make_platform_records()
    make_ledger_csv()
