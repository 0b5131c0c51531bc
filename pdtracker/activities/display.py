"""How an activity's credit reads on list pages (a template global, added by views),
and a department's name in the page's language (also a template global).

A list repeats the same few amounts row after row; the text depends only on the
unit, the amount and the language, so it is worked out once per combination.
"""

from __future__ import annotations

import functools
from decimal import Decimal
from typing import TYPE_CHECKING

from flask_babel import get_locale, ngettext
from flask_babel import gettext as _

from pdtracker.activities.models import Activity, CreditUnit

if TYPE_CHECKING:
    from pdtracker.org.models import Department


def activity_credit(activity: Activity) -> str:
    """ "3.0 学时", "20 天", or "—" when the kind's amount is missing."""
    return _credit(activity.kind.unit, activity.hours, activity.days, str(get_locale()))


@functools.lru_cache(maxsize=1024)
def _credit(unit: str, hours: Decimal | None, days: int | None, _locale: str) -> str:
    # The locale is part of the key; gettext reads it from the request.
    if unit == CreditUnit.HOURS and hours is not None:
        return _("%(hours)s h", hours=hours)
    if unit == CreditUnit.DAYS and days is not None:
        return ngettext("%(num)d day", "%(num)d days", days)
    return "—"


def department_name(department: Department | None, locale: str | None = None) -> str:
    """The department's English name in an English page where one is set, else its name."""
    if department is None:
        return ""
    locale = locale or str(get_locale())
    if locale.startswith("en") and department.name_en:
        return department.name_en
    return department.name
