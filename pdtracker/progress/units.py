"""Amounts and ruleset texts in the user's language (template globals too)."""

from __future__ import annotations

from flask_babel import get_locale, ngettext

from pdtracker.progress.definitions import LocalizedText


def localized(text: LocalizedText | None) -> str:
    """A ruleset text in the user's language."""
    return "" if text is None else text.get(str(get_locale()))


def number(value: float | int) -> str:
    """37.0 → "37", 37.25 → "37.3"."""
    rounded = round(float(value), 1)
    return str(int(rounded)) if rounded.is_integer() else str(rounded)


def plural(value: float | int) -> int:
    """An integer for choosing the plural form: 1 only for exactly one."""
    value = float(value)
    return int(value) if value.is_integer() else 2


def amount(value: float | int, unit: str) -> str:
    """An amount with its unit: "37 days", "360 hours", "2 items"."""
    num = number(value)
    if unit == "days":
        return ngettext("%(n)s day", "%(n)s days", plural(value), n=num)
    if unit == "hours":
        return ngettext("%(n)s hour", "%(n)s hours", plural(value), n=num)
    if unit == "years":
        return ngettext("%(n)s year", "%(n)s years", plural(value), n=num)
    if unit == "alternatives":
        return ngettext("%(n)s alternative", "%(n)s alternatives", plural(value), n=num)
    return ngettext("%(n)s item", "%(n)s items", plural(value), n=num)
