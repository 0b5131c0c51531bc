"""The department's dual-qualified status as a table: CSV and XLSX, one row per teacher.

The column names are fixed Chinese, as in the statistics forms colleges fill in,
whatever the interface language: files exchanged with the education bureau
must read the same for everyone. Cells (headers too: ruleset names are typed by
admins) go through pdtracker.tabular, so none can run as a formula.
"""

from __future__ import annotations

import io
from datetime import date
from typing import Any

from openpyxl.utils import get_column_letter

from pdtracker import tabular
from pdtracker.progress.services import DepartmentSummary, TeacherStatus

CSV_MIMETYPE, XLSX_MIMETYPE = tabular.CSV_MIMETYPE, tabular.XLSX_MIMETYPE
UNITS_ZH = {
    "days": "天", "hours": "学时", "count": "项", "years": "年", "alternatives": "项条件",
}  # fmt: skip
YES, NO = "是", "否"
FIXED_HEADERS = ("工号", "姓名", "职称", "是否专业课教师", "当前等级", "是否双师型教师")
TAIL_HEADERS = ("下次失效日期", "失效要求", "预计达到下一等级日期")


def headers(summary: DepartmentSummary) -> list[str]:
    """The header row: fixed columns, one per requirement, then dates."""
    per_requirement = [
        f"{req.name.zh or req.code}（{UNITS_ZH.get(req.unit, req.unit)}）"
        for _level, req in summary.requirements
    ]
    return [*FIXED_HEADERS, *per_requirement, *TAIL_HEADERS]


def level_zh(status: TeacherStatus) -> str:
    """The level in Chinese, as the ruleset names it."""
    report = status.report
    if not report.assessed:
        return "不参与认定"
    if report.level is None:
        return "未达到"
    level = next(lv for lv in report.levels if lv.code == report.level)
    return level.name.zh or level.code


def _iso(day: date | None) -> str:
    return "" if day is None else day.isoformat()


def rows(summary: DepartmentSummary) -> list[list[Any]]:
    """One row per teacher, in the dashboard's order."""
    out = []
    for s in summary.teachers:
        profile = s.teacher.teacher_profile
        credited = [
            s.report.requirement(req.code).credited
            for _level, req in summary.requirements
        ]
        out.append(
            [
                profile.staff_number if profile else "",
                s.teacher.display_name,
                (profile.title or "") if profile else "",
                YES if s.professional_course else NO,
                level_zh(s),
                YES if s.dual_qualified else NO,
                *credited,
                _iso(s.lapses_on),
                (s.lapse.name.zh or s.lapse.code) if s.lapse else "",
                _iso(s.forecast_on),
            ]
        )
    return out


def to_csv(summary: DepartmentSummary) -> bytes:
    """UTF-8 with a byte-order mark, so Excel opens the Chinese correctly."""
    return tabular.csv_bytes([headers(summary), *rows(summary)])


def to_xlsx(summary: DepartmentSummary) -> bytes:
    """One sheet with the same table as the CSV."""
    book, sheet = tabular.new_sheet("双师型教师")
    head = headers(summary)
    tabular.append_row(sheet, head)
    for row in rows(summary):
        tabular.append_row(sheet, row)
    sheet.freeze_panes = "C2"
    for index, title in enumerate(head, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = max(
            10, len(title) * 2
        )
    return tabular.xlsx_bytes(book)


def as_stream(body: bytes) -> io.BytesIO:
    """A stream for send_file."""
    return io.BytesIO(body)
