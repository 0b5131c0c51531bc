"""How an activity's credit reads on list pages (a template global, added by views)
and a file's size in the page's language (the ``file_size`` filter: Jinja's
``filesizeformat`` prints "599 Bytes" whatever the language).

A list repeats the same few amounts row after row; the text depends only on the
unit, the amount and the language, so it is worked out once per combination.
"""

from __future__ import annotations

import functools
from decimal import Decimal

from babel.numbers import format_decimal
from flask_babel import force_locale, get_locale, ngettext
from flask_babel import gettext as _

from pdtracker.activities.models import Activity, CreditUnit

__all__ = ["activity_credit", "file_size"]


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


SIZE_UNITS = 1024  # KB, MB and GB as the upload limits count them (binary)


def file_size(size: int | None, locale: str | None = None) -> str:
    """ "599 bytes", "1.5 KB", "12 MB": the number in the locale's format, units translated."""
    if size is None:
        return ""
    if locale is not None and locale != str(get_locale()):
        # The units in that language too, not only the number.
        with force_locale(locale):
            return file_size(size)
    locale = str(get_locale())
    if size < SIZE_UNITS:
        return ngettext("%(size)s byte", "%(size)s bytes", size,
                        size=format_decimal(size, locale=locale))  # fmt: skip
    value = float(size)
    for unit in ("KB", "MB", "GB"):
        value /= SIZE_UNITS
        if value < SIZE_UNITS or unit == "GB":
            break
    number = format_decimal(value, format="#,##0.#", locale=locale)
    if unit == "KB":
        return _("%(size)s KB", size=number)
    if unit == "MB":
        return _("%(size)s MB", size=number)
    return _("%(size)s GB", size=number)
