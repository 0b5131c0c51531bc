"""How a department is named on a page: in English where the page is English and
an English name is set, else by its name. A template global (``department_name``)
and a helper for forms' choices; institutions have one name only. And the columns
that name a teacher in a roster export, once for every export that lists people."""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask_babel import get_locale
from flask_babel import lazy_gettext as _l

from pdtracker.org.models import Department

if TYPE_CHECKING:
    from pdtracker.auth.models import User


def department_name(department: Department | None, locale: str | None = None) -> str:
    """The department's English name in an English page where one is set, else its name."""
    if department is None:
        return ""
    locale = locale or str(get_locale())
    if locale.startswith("en") and department.name_en:
        return department.name_en
    return department.name


def person_header() -> list[str]:
    """The header of :func:`person_cells`."""
    return [str(_l("Name")), str(_l("Username")), str(_l("Staff number")),
            str(_l("Department")), str(_l("College"))]  # fmt: skip


def person_cells(teacher: User) -> list[str]:
    """A teacher in an export: name, login, staff number, department and college.

    The college is there because a staff number is unique only within one: an
    association event's list holds teachers of many. Load the teacher's profile,
    department and institution with the rows.
    """
    profile = teacher.teacher_profile
    return [
        teacher.display_name,
        teacher.username,
        profile.staff_number if profile else "",
        department_name(teacher.department),
        teacher.institution.name if teacher.institution else "",
    ]
