"""Which columns hold what: the importers' fields, their synonyms, the header row.

Pure. Header names are compared after NFKC (full-width → half-width), removing
spaces, ``*`` required-field marks and a bracketed hint (``开始日期（必填）``), and
case-folding. The header is the first row that names enough known fields, so
title rows and merged cells above it are skipped.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from pdtracker.onboarding.errors import N_, FileRefused
from pdtracker.onboarding.reading import Row, read_sheets

HEADER_SCAN_ROWS = 30
_BRACKETED = re.compile(r"\([^)]*\)|\[[^\]]*\]|【[^】]*】")


@dataclass(frozen=True)
class Field:
    """A thing an importer reads, with the header names it is known by."""

    key: str
    label: str
    synonyms: tuple[str, ...]
    required: bool = False


def _f(key: str, label: str, *synonyms: str, required: bool = False) -> Field:
    return Field(key, label, (key, *synonyms), required)


STAFF = ("工号", "职工号", "教工号", "教职工号", "员工编号", "人员编号", "staffnumber")
ID_NUMBER = ("身份证号", "身份证号码", "身份证", "证件号码", "证件号", "idnumber")

FIELDS: dict[str, tuple[Field, ...]] = {
    "people": (
        _f("staff_number", N_("Staff number"), *STAFF, required=True),
        _f("name", N_("Name"), "姓名", "教师姓名", "名字", required=True),
        _f("department", N_("Department"), "院系", "部门", "院系/部门", "所在部门",
           "所属院系", "所在院系", "二级学院", "系部", "所属部门"),
        _f("title", N_("Title (职称)"), "职称", "专业技术职务", "职务"),
        _f("is_professional_course", N_("Professional-course teacher"),
           "是否专业课教师", "专业课教师", "professionalcourse"),
        _f("prior_industry_years", N_("Years of industry work"), "企业工作年限",
           "行业工作年限", "企业工作经历", "企业经历年限"),
        _f("email", N_("E-mail"), "邮箱", "电子邮箱", "电子邮件", "e-mail", "mail"),
        _f("phone", N_("Mobile phone"), "手机", "手机号", "手机号码", "联系电话",
           "电话"),
        _f("roles", N_("Roles"), "角色", "role"),
        _f("id_number", N_("ID number"), *ID_NUMBER),
    ),
    "enterprises": (
        _f("name", N_("Enterprise name"), "企业名称", "单位名称", "企业", "公司名称",
           required=True),
        _f("credit_code", N_("Unified social credit code"), "统一社会信用代码",
           "社会信用代码", "信用代码", "creditcode"),
        _f("sector", N_("Sector"), "行业", "所属行业"),
        _f("city", N_("City"), "城市", "所在城市", "所在地"),
        _f("contact_name", N_("Contact"), "联系人"),
        _f("contact_phone", N_("Contact phone"), "联系电话", "电话", "联系方式"),
        _f("capacity", N_("Placement capacity"), "可接收人数", "接收人数", "容量"),
    ),
    "records": (
        _f("staff_number", N_("Staff number"), *STAFF),
        _f("id_number", N_("ID number"), *ID_NUMBER),
        _f("teacher_name", N_("Teacher's name"), "姓名", "教师姓名"),
        _f("external_id", N_("Record id"), "记录编号", "记录id", "外部编号",
           "学时记录编号", "externalid"),
        _f("title", N_("Title"), "项目名称", "培训名称", "培训项目", "活动名称",
           "名称", required=True),
        _f("kind", N_("Type"), "类型", "培训类型", "活动类型", "项目类型",
           "培训形式", required=True),
        _f("starts_on", N_("Start date"), "开始日期", "培训开始时间", "开始时间",
           "起始日期", required=True),
        _f("ends_on", N_("End date"), "结束日期", "培训结束时间", "结束时间",
           "截止日期"),
        _f("hours", N_("Hours"), "学时", "获得学时", "培训学时", "学时数"),
        _f("days", N_("Days"), "天数", "培训天数"),
        _f("organizer", N_("Organizer"), "主办单位", "培训单位", "组织单位",
           "承办单位"),
        _f("organizer_level", N_("Organiser level"), "主办单位级别", "培训级别",
           "级别", "organizerlevel"),
        _f("location", N_("Location"), "地点", "培训地点"),
        _f("content", N_("Content"), "培训内容", "内容"),
        _f("grade", N_("Certificate grade"), "证书等级", "等级"),
        _f("expires_on", N_("Valid until"), "有效期至", "有效期", "证书有效期"),
        _f("role", N_("Role"), "角色", "参与角色", "担任角色"),
        _f("notes", N_("Notes"), "备注"),
    ),
}  # fmt: skip
IMPORTERS = tuple(FIELDS)


def normalise(name: object) -> str:
    """A header name as compared: half-width, no spaces or *, no bracketed hint."""
    text = unicodedata.normalize("NFKC", "" if name is None else str(name))
    text = _BRACKETED.sub("", text.replace("*", ""))
    return "".join(text.split()).casefold()


def synonyms(importer: str) -> dict[str, str]:
    """Normalised header name → field key, for one importer."""
    table: dict[str, str] = {}
    for field in FIELDS[importer]:
        for name in field.synonyms:
            table.setdefault(normalise(name), field.key)
    return table


@dataclass(frozen=True)
class Header:
    """The header row: its number, its names as written, column → field key."""

    number: int
    names: tuple[str, ...]
    columns: Mapping[int, str]

    def name_of(self, key: str) -> str:
        """The header as written in the file of the column holding ``key``."""
        for index, field in self.columns.items():
            if field == key:
                return self.names[index]
        return key

    @property
    def mapping(self) -> dict[str, str]:
        """Header name (normalised) → field key ('' for a column left out)."""
        return {
            key: self.columns.get(i, "")
            for i, key in enumerate(column_keys(self.names))
            if key
        }


def column_keys(names: Sequence[object]) -> list[str]:
    """Each column's key in a mapping: its normalised name, with ``#2``, ``#3`` …
    after a name an earlier column has (日期, 日期 → 日期, 日期#2), so two columns
    of one name are mapped each its own way."""
    seen: dict[str, int] = {}
    keys = []
    for name in names:
        key = normalise(name)
        if key:
            seen[key] = seen.get(key, 0) + 1
            if seen[key] > 1:
                key = f"{key}#{seen[key]}"
        keys.append(key)
    return keys


def map_columns(
    names: Sequence[object], importer: str, overrides: Mapping[str, str] | None = None
) -> dict[int, str]:
    """Column index → field key: overrides (by normalised name) first, then synonyms.

    A field is taken by its first column only; '' in overrides leaves a column out.
    """
    known = {f.key for f in FIELDS[importer]}
    table = synonyms(importer)
    columns: dict[int, str] = {}
    overrides = overrides or {}
    for index, (key, name) in enumerate(zip(column_keys(names), map(normalise, names),
                                            strict=True)):  # fmt: skip
        if not key:
            continue
        # A mapping saved before a repeated name had its own key: by the name.
        field = overrides.get(key, overrides.get(name, table.get(name, "")))
        if field in known and field not in columns.values():
            columns[index] = field
    return columns


def _enough(columns: Mapping[int, str], importer: str) -> bool:
    required = {f.key for f in FIELDS[importer] if f.required}
    return len(columns) >= 2 and bool(required & set(columns.values()))


def _name(cell: object) -> str:
    return "" if cell is None else str(cell).strip()


def _under(
    below: Row,
    header: Row,
    columns: Mapping[int, str],
    importer: str,
    overrides: Mapping[str, str] | None,
) -> bool:
    """The header's second row: names of fields the first does not map, and only
    under columns the first names nothing under (培训时间 merged over 开始日期 |
    结束日期; the other names merged down). A data row fills the mapped columns."""
    if below.number != header.number + 1:
        return False
    if any(c is not None and i in columns for i, c in enumerate(below.cells)):
        return False
    found = map_columns(below.cells, importer, overrides)
    return bool(found) and not set(found.values()) & set(columns.values())


def find_header(
    rows: Sequence[Row], importer: str, overrides: Mapping[str, str] | None = None
) -> tuple[Header, list[Row]]:
    """The header and the data rows below it, or FileRefused('no_header')."""
    for position, row in enumerate(rows[:HEADER_SCAN_ROWS]):
        columns = map_columns(row.cells, importer, overrides)
        if _enough(columns, importer):
            names = [_name(c) for c in row.cells]
            below = rows[position + 1] if position + 1 < len(rows) else None
            if below is not None and _under(below, row, columns, importer, overrides):
                for index, cell in enumerate(below.cells):
                    if cell is not None:
                        names += [""] * (index + 1 - len(names))
                        names[index] = _name(cell)
                columns = map_columns(names, importer, overrides)
                position += 1
            return Header(row.number, tuple(names), columns), list(rows[position + 1 :])
    expected = "、".join(f.synonyms[1] for f in FIELDS[importer] if f.required)
    raise FileRefused("no_header", limit=HEADER_SCAN_ROWS, expected=expected)


def read_header(
    data: bytes, importer: str, overrides: Mapping[str, str] | None = None
) -> tuple[Header, list[Row]]:
    """The header and data rows of the file's first sheet that has a header (a
    workbook's instructions sheet is passed over); else the first sheet's
    refusal. FileRefused when the file cannot be read."""
    refused: FileRefused | None = None
    for rows in read_sheets(data):
        try:
            return find_header(rows, importer, overrides)
        except FileRefused as exc:
            refused = refused or exc
    assert refused is not None  # read_sheets yields a sheet or raises
    raise refused
