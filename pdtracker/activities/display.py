"""How an activity's credit reads on list pages (a template global, added by views).

A list repeats the same few amounts row after row; the text depends only on the
unit, the amount and the language, so it is worked out once per combination.
"""

from __future__ import annotations

import functools
from decimal import Decimal

from flask_babel import get_locale, ngettext
from flask_babel import gettext as _

from pdtracker.activities.models import Activity, CreditUnit


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
