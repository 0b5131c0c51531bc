"""Attendance exports (CSV and Excel) for one session and for a whole series.

Every file goes through :mod:`pdtracker.tabular`, so a name or title that starts
like a formula stays text. Times are the reader's local times.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from flask import Response
from flask_babel import lazy_gettext as _l

from pdtracker import tabular
from pdtracker.auth.models import User
from pdtracker.checkin.records import Place, places
from pdtracker.events.messages import REGISTRATION_LABELS
from pdtracker.events.models import Event, RegistrationStatus
from pdtracker.events.sessions import SessionInfo
from pdtracker.org.display import person_cells, person_header
from pdtracker.timeutil import to_local

SOURCE_LABELS = {
    "manual": _l("Marked by staff"),
    "bulk": _l("Marked by staff from a list"),
    "checkin": _l("QR check-in"),
    "walk_in": _l("Walk-in"),
}
Rows = tuple[list[str], list[list[Any]]]
Local = Callable[[datetime | None], datetime | None]


def local_times(zone: str) -> Local:
    """A converter to naive local times in ``zone`` (spreadsheets have no zones)."""

    def local(value: datetime | None) -> datetime | None:
        return None if value is None else to_local(value, zone).replace(tzinfo=None)

    return local


def _people_header() -> list[str]:
    return [str(_l("No.")), *person_header()]


def session_rows(event: Event, key: str, local: Local) -> Rows:
    """One row per teacher with a place in the session."""
    header = _people_header() + [
        str(_l("Status")), str(_l("Registered at")), str(_l("Attended at")),
        str(_l("Recorded as")),
    ]  # fmt: skip
    rows = [
        [number, *person_cells(p.teacher), _status(p), local(p.queued_at),
         local(p.attended_at), source_label(p.source)]
        for number, p in enumerate(places(event, key), start=1)
    ]  # fmt: skip
    return header, rows


def series_rows(event: Event, sessions: list[SessionInfo], local: Local) -> Rows:
    """One row per teacher, one column per session, and the sessions attended."""
    columns = [s.key for s in sessions]
    header = _people_header() + [
        local(s.starts_at).strftime("%Y-%m-%d %H:%M")  # type: ignore[union-attr]
        for s in sessions
    ]
    header.append(str(_l("Sessions attended")))
    by_teacher: dict[int, tuple[User, dict[str, Place]]] = {}
    for place in places(event):
        entry = by_teacher.setdefault(place.teacher.id, (place.teacher, {}))
        entry[1][place.key] = place
    rows = []
    for number, (teacher, mine) in enumerate(by_teacher.values(), start=1):
        marks = [_status(mine[k]) if k in mine else "" for k in columns]
        attended = sum(
            1 for p in mine.values() if p.status == RegistrationStatus.ATTENDED
        )
        rows.append([number, *person_cells(teacher), *marks, attended])
    return header, rows


def _status(place: Place) -> str:
    return status_label(place.status)


def status_label(status: str) -> str:
    """A place's status in words."""
    return str(REGISTRATION_LABELS.get(status, status))


def source_label(source: str | None) -> str:
    """How an attendance was recorded, in words ("" when not attended)."""
    return str(SOURCE_LABELS.get(source or "", ""))


def csv_response(rows: Rows, filename: str) -> Response:
    """The rows as a CSV download (dates as YYYY-MM-DD HH:MM)."""
    header, body = rows
    text_rows = [
        [v.strftime("%Y-%m-%d %H:%M") if isinstance(v, datetime) else v for v in row]
        for row in body
    ]
    data = tabular.csv_bytes([header, *text_rows])
    return _download(data, tabular.CSV_MIMETYPE, f"{filename}.csv")


def xlsx_response(rows: Rows, title: str, sheet_name: str, filename: str) -> Response:
    """The rows as an Excel download, under a title row."""
    header, body = rows
    book, sheet = tabular.new_sheet(sheet_name[:31])
    tabular.append_row(sheet, [title])
    tabular.append_row(sheet, header)
    for row in body:
        tabular.append_row(sheet, row)
    for line in sheet.iter_rows(min_row=3):
        for cell in line:
            if isinstance(cell.value, datetime):
                cell.number_format = "yyyy-mm-dd hh:mm"
    return _download(
        tabular.xlsx_bytes(book), tabular.XLSX_MIMETYPE, f"{filename}.xlsx"
    )


def _download(body: bytes, mimetype: str, filename: str) -> Response:
    response = Response(body, content_type=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
