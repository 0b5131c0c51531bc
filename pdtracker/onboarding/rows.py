"""From a data row to checked values, per importer, or the row's errors.

Pure. What the database knows (departments, teachers, kinds) comes in as plain
mappings in :class:`Lookups`, loaded once per file by the caller. A parsed row
holds only the fields whose columns the file has, so an update never blanks a
column the file does not carry.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from pdtracker.onboarding import values as v
from pdtracker.onboarding.checkdigits import clean_code, is_credit_code, is_id_number
from pdtracker.onboarding.errors import Invalid, RowError
from pdtracker.onboarding.headers import FIELDS, Header, normalise
from pdtracker.onboarding.kindmap import KindTable
from pdtracker.onboarding.reading import Row

MAX_HOURS_PER_DAY = 24
JOB_TITLE_LENGTH = 64
HOURS_STEP = Decimal("0.1")  # what the hours column keeps
LENGTHS = {
    "staff_number": 32, "name": 100, "title": 200, "phone": 40, "sector": 100,
    "city": 100, "contact_name": 100, "contact_phone": 40, "external_id": 64,
    "organizer": 200, "location": 200, "teacher_name": 100,
}  # fmt: skip


@dataclass(frozen=True)
class Lookups:
    """What rows are checked against, loaded by the caller before parsing."""

    today: date
    departments: Mapping[str, int] = field(default_factory=dict)  # normalised name/code
    department_names: tuple[str, ...] = ()
    teachers_by_staff: Mapping[str, int] = field(default_factory=dict)
    # Staff numbers with leading zeros by what Excel leaves of them (00123 → 123),
    # only where that names one teacher: see :func:`zeros_dropped`.
    teachers_by_digits: Mapping[str, int] = field(default_factory=dict)
    # Staff numbers of teachers in several of the colleges imported into (an
    # import into every college at once): they name no one teacher.
    shared_staff: frozenset[str] = frozenset()
    teachers_by_id_hash: Mapping[str, int] = field(default_factory=dict)
    kinds: KindTable = field(default_factory=KindTable)
    kind_units: Mapping[str, str] = field(default_factory=dict)
    graded_kinds: frozenset[str] = frozenset({"certificate"})
    hash_id: Callable[[str], str] = lambda s: s


@dataclass
class ParsedRow:
    """One data row: Excel's row number, the values read, and what is wrong."""

    number: int
    values: dict[str, Any]
    errors: list[RowError]

    @property
    def ok(self) -> bool:
        """No error: the row can be applied."""
        return not self.errors


def parse_rows(
    importer: str, header: Header, rows: list[Row], lookups: Lookups
) -> list[ParsedRow]:
    """Every data row of the file, read and checked."""
    parse = {"people": _person, "enterprises": _enterprise, "records": _record}[
        importer
    ]
    return [parse(_Cells(header, row), lookups) for row in rows]


class _Cells:
    """A row's cells by field key, collecting errors under the file's header names."""

    def __init__(self, header: Header, row: Row) -> None:
        self.header = header
        self.number = row.number
        self.raw = {
            key: row.cells[i] if i < len(row.cells) else None
            for i, key in header.columns.items()
        }
        self.values: dict[str, Any] = {}
        self.errors: list[RowError] = []

    def has(self, key: str) -> bool:
        return key in self.raw

    def blank(self, key: str) -> bool:
        return v.text(self.raw.get(key)) == ""

    def error(self, key: str, code: str, **params: Any) -> None:
        self.errors.append(
            RowError(self.number, self.header.name_of(key), code, params)
        )

    def read(
        self, key: str, parse: Callable[[Any], Any], required: bool = False
    ) -> Any:
        """Parse the field into values (None when empty); an error if refused."""
        if not self.has(key) or self.blank(key):
            if required:
                self.error(key, "missing_value")
            elif self.has(key):
                self.values[key] = None
            return None
        try:
            value = parse(self.raw[key])
        except Invalid as exc:
            self.error(key, exc.code, **exc.params)
            return None
        limit = LENGTHS.get(key)
        if limit and isinstance(value, str) and len(value) > limit:
            self.error(key, "too_long", limit=limit)
            return None
        self.values[key] = value
        return value

    def result(self) -> ParsedRow:
        return ParsedRow(self.number, self.values, self.errors)


def digits_key(staff: str) -> str | None:
    """What a number cell leaves of an all-digit staff number (00123 → 123)."""
    if not (staff.isascii() and staff.isdigit()):
        return None
    return staff.lstrip("0") or "0"


def zeros_dropped(staff: str) -> bool:
    """The staff number may be one whose leading zeros a number cell dropped: all
    digits, none leading. Matched to the one teacher whose number it leaves, so a
    platform export (or an Excel CSV) finds 00123 from 123; a value written with
    its zeros (0123) is taken as written."""
    return digits_key(staff) == staff


def by_digits(staff_numbers: Iterable[tuple[str, Any]]) -> dict[str, Any]:
    """Staff number with leading zeros → its holder, by :func:`digits_key`; a key
    that several hold names no one and is left out."""
    found: dict[str, Any] = {}
    several: set[str] = set()
    for staff, holder in staff_numbers:
        key = digits_key(staff)
        if key is None or key == staff:
            continue
        if found.setdefault(key, holder) != holder:
            several.add(key)
    return {k: h for k, h in found.items() if k not in several}


def _code(value: Any) -> str:
    # Staff numbers are text: an Excel number cell 00123 arrives as 123.0 → "123".
    return v.half_width(value)


def _clean(value: Any) -> str:
    # An ID number or an all-digit credit code may come as a number cell.
    return clean_code(v.text(value))


def _digits_lost(cells: _Cells, key: str) -> bool:
    """An 18-character code refused because it came as a number cell: Excel keeps
    15 significant digits, so the column must be text (the usual cause, said so)."""
    raw = cells.raw.get(key)
    return isinstance(raw, float | int) and not isinstance(raw, bool)


def _job_title(value: Any) -> str:
    title = v.text(value)
    if len(title) > JOB_TITLE_LENGTH:  # 职称 has a shorter column than a record's title
        raise Invalid("too_long", limit=JOB_TITLE_LENGTH)
    return title


def _person(cells: _Cells, lookups: Lookups) -> ParsedRow:
    cells.read("staff_number", _code, required=True)
    cells.read("name", v.text, required=True)
    cells.read("title", _job_title)
    cells.read("is_professional_course", v.parse_bool)
    cells.read("prior_industry_years", v.parse_count)
    cells.read("email", v.parse_email)
    cells.read("phone", _code)
    cells.read("roles", v.parse_person_roles)
    if cells.values.get("roles") is None and "roles" in cells.values:
        cells.values["roles"] = frozenset({"teacher"})
    department = cells.read("department", v.text)
    if department is not None:
        found = lookups.departments.get(normalise(department))
        if found is None:
            del cells.values["department"]
            cells.error("department", "unknown_department", value=department,
                        known="、".join(lookups.department_names))  # fmt: skip
        else:
            cells.values["department"] = found
    _id_number(cells, lookups)
    return cells.result()


def _id_number(cells: _Cells, lookups: Lookups) -> str | None:
    """Check the ID number and keep only its hash (the number itself is dropped)."""
    number = cells.read("id_number", _clean)
    if number is None:
        cells.values.pop("id_number", None)
        return None
    del cells.values["id_number"]
    if not is_id_number(number):
        lost = _digits_lost(cells, "id_number")
        cells.error("id_number", "digits_lost" if lost else "invalid_id_number")
        return None
    digest = lookups.hash_id(number)
    cells.values["id_number_hash"] = digest
    return digest


def _enterprise(cells: _Cells, lookups: Lookups) -> ParsedRow:
    cells.read("name", v.text, required=True)
    code = cells.read("credit_code", _clean)
    if code is not None and not is_credit_code(code):
        del cells.values["credit_code"]
        if _digits_lost(cells, "credit_code"):
            cells.error("credit_code", "digits_lost")
        else:
            cells.error("credit_code", "invalid_credit_code", value=code)
    for key in ("sector", "city", "contact_name"):
        cells.read(key, v.text)
    cells.read("contact_phone", _code)
    cells.read("capacity", v.parse_count)
    return cells.result()


def _record(cells: _Cells, lookups: Lookups) -> ParsedRow:
    _teacher(cells, lookups)
    cells.read("external_id", _code)
    cells.read("title", v.text, required=True)
    kind = cells.read("kind", lookups.kinds.kind_of, required=True)
    cells.read("starts_on", v.parse_date, required=True)
    cells.read("ends_on", v.parse_date)
    cells.read("hours", _hours)
    cells.read("days", v.parse_count)
    for key in ("organizer", "location", "teacher_name"):
        cells.read(key, v.text)
    cells.read("grade", v.parse_grade)
    cells.read("organizer_level", v.parse_organizer_level)
    cells.read("expires_on", v.parse_date)
    role = cells.read("role", v.parse_activity_role)
    cells.values["role"] = role or "attendee"
    if cells.has("content") or cells.has("notes"):
        cells.values["notes"] = _notes(cells)
    from_expiry = kind is not None and _fit_kind(cells, kind, lookups)
    starts, ends = cells.values.get("starts_on"), cells.values.get("ends_on")
    graded = kind in lookups.graded_kinds
    _check_dates(cells, lookups.today, starts, ends, graded, from_expiry)
    if cells.values.get("hours") is not None and starts is not None:
        _check_hours(cells, cells.values["hours"], starts, ends)
    return cells.result()


def _fit_kind(cells: _Cells, kind: str, lookups: Lookups) -> bool:
    """Keep what the kind records, as the activity form does.

    A certificate's end is its expiry (有效期至, which may lie ahead); hours
    belong to hourly kinds, days to daily kinds (the span when not given),
    a grade to graded kinds. True when the end came from the 有效期至 column.
    """
    values = cells.values
    expiry = values.pop("expires_on", None)
    unit = lookups.kind_units.get(kind)
    from_expiry = kind in lookups.graded_kinds and expiry is not None
    if from_expiry:
        values["ends_on"] = expiry
    if kind not in lookups.graded_kinds:
        values.pop("grade", None)
    if unit != "hours":
        values.pop("hours", None)
    if unit != "days":
        values.pop("days", None)
    elif values.get("days") is None and values.get("starts_on") is not None:
        end = values.get("ends_on") or values["starts_on"]
        values["days"] = (end - values["starts_on"]).days + 1
    return from_expiry


def _hours(value: Any) -> Decimal:
    # Rounded as stored, so a re-import compares equal.
    return v.parse_decimal(value).quantize(HOURS_STEP)


def _teacher(cells: _Cells, lookups: Lookups) -> None:
    staff = cells.read("staff_number", _code)
    digest = _id_number(cells, lookups)
    cells.values.pop("staff_number", None)
    cells.values.pop("id_number_hash", None)
    if staff is None and digest is None:
        if not cells.errors:  # else the ID number was refused already
            key = "staff_number" if cells.has("staff_number") else "id_number"
            cells.error(key, "missing_value")
        return
    if staff in lookups.shared_staff:
        cells.error("staff_number", "staff_number_several_colleges", value=staff)
        return
    teacher = lookups.teachers_by_staff.get(staff) if staff else None
    if teacher is None and staff and zeros_dropped(staff):
        teacher = lookups.teachers_by_digits.get(staff)
    by_id = lookups.teachers_by_id_hash.get(digest) if digest else None
    if teacher is not None and by_id not in (None, teacher):
        # A shifted column or a wrong number: which teacher is meant is unknown.
        cells.error("id_number", "teacher_mismatch")
        return
    if teacher is None:
        teacher = by_id
    if teacher is None:
        key = "staff_number" if staff else "id_number"
        # The hash rides along (never shown) so the plan can tell a teacher of
        # another college from no teacher at all.
        cells.error(key, "unknown_teacher", value=staff or "", id_hash=digest)
    else:
        cells.values["teacher_id"] = teacher


def _notes(cells: _Cells) -> str | None:
    parts = [v.text(cells.raw.get(k)) for k in ("content", "notes")]
    return "\n".join(p for p in parts if p) or None


def _check_dates(
    cells: _Cells,
    today: date,
    starts: date | None,
    ends: date | None,
    graded: bool,
    from_expiry: bool,
) -> None:
    # A certificate's end is its expiry: it may lie ahead, not before the start.
    if starts is not None and ends is not None and ends < starts:
        cells.error("expires_on" if from_expiry else "ends_on", "end_before_start")
    checked = [("starts_on", starts)] + ([] if graded else [("ends_on", ends)])
    for key, day in checked:
        if day is not None and day > today:
            cells.error(key, "future_date", value=day.isoformat())


def _check_hours(cells: _Cells, hours: Decimal, starts: date, ends: date | None):
    span = ((ends or starts) - starts).days + 1
    if hours < 0 or hours > MAX_HOURS_PER_DAY * max(span, 1):
        cells.error("hours", "absurd_hours", value=v.text(cells.raw["hours"]))


def required_fields(importer: str) -> list[str]:
    """Keys of the fields a file must have a column for."""
    return [f.key for f in FIELDS[importer] if f.required]
