"""How a department is named on a page: in English where the page is English and
an English name is set, else by its name. A template global (``department_name``)
and a helper for forms' choices; institutions have one name only."""

from __future__ import annotations

from flask_babel import get_locale

from pdtracker.org.models import Department


def department_name(department: Department | None, locale: str | None = None) -> str:
    """The department's English name in an English page where one is set, else its name."""
    if department is None:
        return ""
    locale = locale or str(get_locale())
    if locale.startswith("en") and department.name_en:
        return department.name_en
    return department.name
