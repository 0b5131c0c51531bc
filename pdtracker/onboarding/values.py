"""Cell parsers: what a spreadsheet cell means, whatever way it was typed.

Pure. Each parser takes the raw cell (str, int, float, bool, date, datetime or
None) and returns the value or raises :class:`Invalid` with a stable code.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from pdtracker.onboarding.errors import Invalid

EXCEL_EPOCH = date(1899, 12, 30)  # serial 1 = 1900-01-01, after Lotus's leap-year bug
_SERIAL_RANGE = (1, 2958465)  # 1900-01-01 .. 9999-12-31
# A time after the date (2023/5/6 0:00, as Excel saves a date-time cell to CSV;
# 2023-05-06 00:00:00 or 2023-05-06T08:30:00 from a database) is dropped.
_TIME = r"(?:[\sT]+\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?"
_DATE_RE = re.compile(
    r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?" + _TIME
)
_COMPACT_DATE_RE = re.compile(r"(\d{4})(\d{2})(\d{2})")
_EMAIL_RE = re.compile(r"[^@\s]+@[^@\s.]+(\.[^@\s.]+)+")

TRUE_WORDS = frozenset({"是", "y", "yes", "1", "true", "t", "对", "√"})
FALSE_WORDS = frozenset({"否", "n", "no", "0", "false", "f", "不是", "×"})
# 教师/系主任 and 教师 系主任 name two roles too (no role name holds / or a space).
ROLE_SEPARATORS = re.compile(r"[,，、;；/\s]")
# Person roles: the Chinese names colleges use → pdtracker roles.
PERSON_ROLES = {
    "教师": "teacher",
    "专任教师": "teacher",
    "teacher": "teacher",
    "系主任": "head",
    "专业带头人": "head",
    "head": "head",
}
# A teacher's part in an activity.
ACTIVITY_ROLES = {
    "参加": "attendee",
    "参与": "attendee",
    "学员": "attendee",
    "attendee": "attendee",
    "主讲": "speaker",
    "主讲人": "speaker",
    "speaker": "speaker",
    "组织": "organizer",
    "组织者": "organizer",
    "organizer": "organizer",
}
CERTIFICATE_GRADES = {
    "初级": "primary",
    "primary": "primary",
    "中级": "intermediate",
    "intermediate": "intermediate",
    "高级": "senior",
    "senior": "senior",
}


def text(value: Any) -> str:
    """The cell as trimmed text ('' for empty); numbers without a spurious '.0'."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value).strip()


def half_width(value: Any) -> str:
    """The cell's text with full-width letters, digits and signs made half-width."""
    return unicodedata.normalize("NFKC", text(value)).strip()


def parse_date(value: Any) -> date:
    """A date from an Excel date cell, a serial number or 2023-05-06 / 2023/5/6 /
    2023.05.06 / 2023年5月6日 / 20230506."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        # 20230506 typed or exported as a number: far past any serial (9999-12-31
        # is 2958465), so it can only mean the compact form.
        compact = _COMPACT_DATE_RE.fullmatch(text(value))
        if value > _SERIAL_RANGE[1] and compact:
            return _date(text(value), *compact.groups())
        return _from_serial(value)
    raw = half_width(value)
    if match := _DATE_RE.fullmatch(raw):
        return _date(raw, *match.groups())
    if match := _COMPACT_DATE_RE.fullmatch(raw):
        return _date(raw, *match.groups())
    try:
        return _from_serial(float(raw))
    except ValueError:
        raise Invalid("invalid_date", value=raw) from None


def _date(raw: str, year: str, month: str, day: str) -> date:
    try:
        return date(int(year), int(month), int(day))
    except ValueError:
        raise Invalid("invalid_date", value=raw) from None


def _from_serial(serial: float) -> date:
    if not _SERIAL_RANGE[0] <= serial <= _SERIAL_RANGE[1]:
        raise Invalid("invalid_date", value=text(serial))
    return EXCEL_EPOCH + timedelta(days=int(serial))


def parse_decimal(value: Any) -> Decimal:
    """A number, full-width digits and thousands separators allowed."""
    if isinstance(value, bool):
        raise Invalid("invalid_number", value=text(value))
    if isinstance(value, int | float):
        return Decimal(str(value))
    raw = half_width(value).replace(",", "")
    try:
        number = Decimal(raw)
    except InvalidOperation:
        raise Invalid("invalid_number", value=raw) from None
    if not number.is_finite():
        raise Invalid("invalid_number", value=raw)
    return number


def parse_count(value: Any) -> int:
    """A whole number that is not negative."""
    number = parse_decimal(value)
    if number != number.to_integral_value():
        raise Invalid("invalid_number", value=text(value))
    if number < 0:
        raise Invalid("negative_number", value=text(value))
    return int(number)


def parse_bool(value: Any) -> bool:
    """是/否, Y/N, yes/no, 1/0, true/false (any case, any width)."""
    if isinstance(value, bool):
        return value
    raw = half_width(value).casefold()
    if raw in TRUE_WORDS:
        return True
    if raw in FALSE_WORDS:
        return False
    raise Invalid("invalid_boolean", value=text(value))


def _words(value: Any) -> list[str]:
    return [w.strip() for w in ROLE_SEPARATORS.split(half_width(value)) if w.strip()]


def parse_person_roles(value: Any) -> frozenset[str]:
    """Roles separated by , ， 、 or ; (教师 → teacher; 系主任/专业带头人 → head)."""
    roles = set()
    for word in _words(value):
        role = PERSON_ROLES.get(word.casefold())
        if role is None:
            raise Invalid("invalid_role", value=word, known="、".join(PERSON_ROLES))
        roles.add(role)
    return frozenset(roles)


def parse_activity_role(value: Any) -> str:
    """参加 / 主讲 / 组织 → attendee / speaker / organizer."""
    raw = half_width(value)
    role = ACTIVITY_ROLES.get(raw.casefold())
    if role is None:
        raise Invalid("invalid_role", value=raw, known="参加、主讲、组织")
    return role


# The organiser's level (annual training statistics): 区县级 … 境外.
ORGANIZER_LEVELS = {
    "区县级": "district", "区级": "district", "县级": "district", "district": "district",
    "市级": "city", "地市级": "city", "city": "city",
    "省级": "province", "province": "province",
    "国家级": "national", "national": "national",
    "境外": "abroad", "国(境)外": "abroad", "国外": "abroad", "abroad": "abroad",
}  # fmt: skip


def parse_organizer_level(value: Any) -> str:
    """区县级 / 市级 / 省级 / 国家级 / 境外 → district / city / province / national / abroad."""
    raw = half_width(value)
    level = ORGANIZER_LEVELS.get(raw.casefold())
    if level is None:
        raise Invalid("invalid_organizer_level", value=raw,
                      known="区县级、市级、省级、国家级、境外")  # fmt: skip
    return level


def parse_grade(value: Any) -> str:
    """初级 / 中级 / 高级 → primary / intermediate / senior."""
    raw = half_width(value)
    grade = CERTIFICATE_GRADES.get(raw.casefold())
    if grade is None:
        raise Invalid("invalid_grade", value=raw, known="初级、中级、高级")
    return grade


def parse_email(value: Any) -> str:
    """An e-mail address (one @, a dotted domain, no spaces), lower-cased domain."""
    raw = half_width(value)
    if not _EMAIL_RE.fullmatch(raw) or len(raw) > 254:
        raise Invalid("invalid_email", value=raw)
    local, domain = raw.rsplit("@", 1)
    return f"{local}@{domain.lower()}"
