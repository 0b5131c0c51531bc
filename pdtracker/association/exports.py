"""The association dashboard's tables as XLSX workbooks, one per table.

Headers follow the user's language, like the page. Every cell goes through
:mod:`pdtracker.tabular`, so a college or enterprise name typed as a formula
stays text. Only aggregates are written: counts, sums and shares per college,
enterprise or month.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from flask_babel import gettext as _

from pdtracker import tabular
from pdtracker.association.services import Overview

XLSX_MIMETYPE = tabular.XLSX_MIMETYPE


def _share(value: float | None) -> float | str:
    return "" if value is None else round(value, 4)


def colleges(view: Overview, locale: str) -> tuple[list[str], Iterable[list[Any]]]:
    """Member colleges: teachers, ratios, events and placement days."""
    head = [
        _("College code"), _("College"), _("Teachers"), _("Professional-course teachers"),
        _("Dual-qualified now"), _("Share now"), _("Dual-qualified in 12 months"),
        _("Share in 12 months"), _("Recognised"), _("Recognised share"),
        _("Event registrations (12 months)"), _("Attended"), _("Attendance rate"),
        _("Placement days completed (12 months)"), _("Placement days planned"),
    ]  # fmt: skip
    rows = (
        [
            c.code,
            c.name,
            c.teachers,
            c.professional,
            c.qualified,
            _share(c.ratio),
            c.qualified_in_12,
            _share(c.ratio_in_12),
            "" if c.recognised is None else c.recognised,
            _share(c.recognised_ratio),
            c.registrations,
            c.attended,
            _share(c.attendance_rate),
            c.days_completed,
            c.days_planned,
        ]  # fmt: skip
        for c in view.colleges
    )
    return head, rows


def enterprises(view: Overview, locale: str) -> tuple[list[str], Iterable[list[Any]]]:
    """One row per enterprise and college it hosted teachers of."""
    head = [
        _("Enterprise"), _("Sector"), _("College code"), _("College"),
        _("Placements hosted"), _("Days hosted"),
    ]  # fmt: skip
    rows = (
        [e.name, e.sector or "", code, college, n, days]
        for e in view.enterprises
        for code, college, n, days in e.by_college
    )
    return head, rows


def attendance(view: Overview, locale: str) -> tuple[list[str], Iterable[list[Any]]]:
    """Attendance at association events by college over the last 12 months."""
    head = [
        _("College code"), _("College"), _("Event registrations (12 months)"),
        _("Attended"), _("Attendance rate"),
    ]  # fmt: skip
    rows = (
        [c.code, c.name, c.registrations, c.attended, _share(c.attendance_rate)]
        for c in view.colleges
    )
    return head, rows


def demand(view: Overview, locale: str) -> tuple[list[str], Iterable[list[Any]]]:
    """Seats against demand per event kind and month."""
    head = [
        _("Kind"), _("Month"), _("Events"), _("Seats"), _("Demand (incl. waitlist)"),
        _("Demand outruns seats"),
    ]  # fmt: skip
    rows = (
        [
            d.label(locale),
            d.month.strftime("%Y-%m"),
            d.events,
            d.seats,
            d.demand,
            _("Yes") if d.outruns else _("No"),
        ]  # fmt: skip
        for d in view.demand
    )
    return head, rows


TABLES: dict[str, Callable[[Overview, str], tuple[list[str], Iterable[list[Any]]]]] = {
    "colleges": colleges,
    "enterprises": enterprises,
    "attendance": attendance,
    "demand": demand,
}


def to_xlsx(name: str, view: Overview, locale: str) -> bytes:
    """The named table as an XLSX file (KeyError for an unknown name)."""
    head, rows = TABLES[name](view, locale)
    book, sheet = tabular.new_sheet(name)
    tabular.append_row(sheet, head)
    for row in rows:
        tabular.append_row(sheet, row)
    return tabular.xlsx_bytes(book)
