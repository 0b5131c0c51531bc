"""What goes wrong in an import: a refused file, or one row's problem.

Pure (stdlib only): messages are English templates marked with :func:`N_`, whose
``%(name)s`` placeholders ``params`` fill; the app translates them for the user.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


def N_(message: str) -> str:
    """Mark a message for translation; the app translates it, this module cannot."""
    return message


# One message per stable error code; the code is what scripts and tests rely on.
ROW_MESSAGES: dict[str, str] = {
    "missing_value": N_("a value is required"),
    "invalid_date": N_("not a date: %(value)s"),
    "invalid_number": N_("not a number: %(value)s"),
    "invalid_boolean": N_("not yes or no: %(value)s"),
    "invalid_email": N_("not an e-mail address: %(value)s"),
    "invalid_credit_code": N_(
        "not a valid unified social credit code (18 characters, check digit): %(value)s"
    ),
    "invalid_id_number": N_(
        "not a valid resident ID number (18 characters, check digit)"
    ),
    "digits_lost": N_(
        "the cell is a number, so Excel kept only 15 digits: format the column as "
        "text and enter the number again"
    ),
    "invalid_role": N_("unknown role: %(value)s (known: %(known)s)"),
    "invalid_grade": N_("unknown certificate grade: %(value)s (known: %(known)s)"),
    "invalid_organizer_level": N_(
        "unknown organiser level: %(value)s (known: %(known)s)"
    ),
    "unknown_department": N_("unknown department: %(value)s (known: %(known)s)"),
    "unknown_teacher": N_("no teacher with this staff number or ID number: %(value)s"),
    "teacher_mismatch": N_(
        "the staff number and the ID number belong to two different teachers"
    ),
    "teacher_other_college": N_(
        "this teacher belongs to another college: %(value)s (not imported)"
    ),
    "staff_number_several_colleges": N_(
        "teachers of several colleges have the staff number %(value)s: import "
        "into one college"
    ),
    "college_needed": N_("no college: give the department, or import into one college"),
    "unknown_type": N_("unknown activity type: %(value)s"),
    "end_before_start": N_("the end date lies before the start date"),
    "absurd_hours": N_("%(value)s hours is negative or more than 24 per day"),
    "negative_number": N_("must not be negative: %(value)s"),
    "future_date": N_("the date lies in the future: %(value)s"),
    "too_long": N_("longer than %(limit)s characters"),
    "staff_number_taken": N_("staff number %(value)s belongs to another account"),
    "email_taken": N_("the e-mail address %(value)s belongs to another account"),
    "id_number_taken": N_("this ID number belongs to another teacher"),
    "name_taken": N_("an enterprise named %(value)s has another credit code"),
}

FILE_MESSAGES: dict[str, str] = {
    "too_large": N_("the file is larger than %(limit)s MiB"),
    "too_many_rows": N_("the file has more than %(limit)s rows"),
    "not_a_spreadsheet": N_("the file is neither an XLSX workbook nor a CSV file"),
    "unsafe_workbook": N_("the workbook is refused as unsafe: %(reason)s"),
    "unreadable_workbook": N_("the workbook cannot be read: %(reason)s"),
    "unknown_encoding": N_("the CSV file is neither UTF-8 nor GB18030/GBK text"),
    "no_header": N_(
        "no header row found in the first %(limit)s rows (expected columns such as "
        "%(expected)s)"
    ),
    "empty_file": N_("the file has no rows"),
}


class FileRefused(Exception):
    """The file itself cannot be read; ``code`` says why, ``message`` in English."""

    def __init__(self, code: str, **params: Any) -> None:
        self.code = code
        self.template = FILE_MESSAGES[code]
        self.params = params
        super().__init__(self.message)

    @property
    def message(self) -> str:
        """The reason in English."""
        return self.template % self.params if self.params else self.template


@dataclass(frozen=True)
class RowError:
    """One problem of one row: where (Excel's row number, the column header) and why."""

    row: int
    column: str
    code: str
    params: Mapping[str, Any] = field(default_factory=dict, compare=False)

    @property
    def template(self) -> str:
        """The English message template of the code."""
        return ROW_MESSAGES[self.code]

    @property
    def message(self) -> str:
        """The message in English."""
        return self.template % self.params if self.params else self.template


class Invalid(ValueError):
    """A cell's value is refused: ``code`` is a key of ROW_MESSAGES."""

    def __init__(self, code: str, **params: Any) -> None:
        super().__init__(code)
        self.code = code
        self.params = params
