"""Reading an uploaded spreadsheet (XLSX or CSV) into rows, safely and within bounds.

Pure (stdlib, openpyxl, defusedxml). What an attacker could craft is refused
before it costs memory: the zip's declared sizes and ratios are checked before
openpyxl opens it (zipfile never inflates a member past its declared size),
openpyxl parses through defusedxml (no entity expansion, no external entities),
external links are not loaded, and cells are read as values in read-only mode,
so a cell starting with ``=`` is text and no formula is ever evaluated.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import openpyxl
from defusedxml import DefusedXmlException

from pdtracker.onboarding.errors import FileRefused

MAX_BYTES = 20 * 1024 * 1024
MAX_ROWS = 100_000
# An XLSX's XML compresses well, but not past these: more is a zip bomb.
MAX_UNCOMPRESSED = 400 * 1024 * 1024
MAX_RATIO = 120
MAX_MEMBERS = 2_000
RATIO_FLOOR = 1024 * 1024  # members smaller than this may compress as they like

XLSX_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0"  # legacy .xls: refused with a clear message
CSV_ENCODINGS = ("utf-8", "gb18030")
PROLOG_LIMIT = 64 * 1024  # an XML part's root element starts within this
_ROOT_START = re.compile(r"<[A-Za-z_]")


@dataclass(frozen=True)
class Row:
    """A non-empty row: its number as the spreadsheet shows it, and its cells."""

    number: int
    cells: tuple[Any, ...]


def read_rows(data: bytes) -> list[Row]:
    """The file's non-empty rows (a workbook's first sheet), trailing empty cells
    dropped.

    Raises FileRefused when the file is too large, not a spreadsheet, unsafe,
    or has more than MAX_ROWS rows.
    """
    for rows in read_sheets(data):
        return rows
    raise FileRefused("empty_file")


def read_sheets(data: bytes) -> Iterator[list[Row]]:
    """Each sheet's non-empty rows in the workbook's order (a CSV is one sheet),
    sheets without any left out; one sheet is held at a time. Raises as
    :func:`read_rows`, and ``empty_file`` when no sheet has a row."""
    if len(data) > MAX_BYTES:
        raise FileRefused("too_large", limit=MAX_BYTES // (1024 * 1024))
    if not data.strip():
        raise FileRefused("empty_file")
    if data.startswith(XLSX_MAGIC):
        sheets = _xlsx_sheets(data)
    elif data.startswith(OLE_MAGIC) or b"\x00" in data[:4096] and not _utf16(data):
        raise FileRefused("not_a_spreadsheet")
    else:
        sheets = iter([_csv_rows(data)])
    found = False
    for sheet in sheets:
        if rows := _bounded(sheet):
            found = True
            yield rows
    if not found:
        raise FileRefused("empty_file")


def _bounded(rows: Iterator[Row]) -> list[Row]:
    kept: list[Row] = []
    for row in rows:
        # One more than the data bound: the header row.
        if len(kept) > MAX_ROWS:
            raise FileRefused("too_many_rows", limit=MAX_ROWS)
        kept.append(row)
    return kept


# What exports put before a text cell that would run as a formula (pdtracker's
# own result files among them): an apostrophe. Typed in Excel, the apostrophe is
# never part of the value, so one before these characters is that mark.
NEUTRALISED = re.compile(r"'(?=[=+\-@\t\r])")


def _cell(value: Any) -> Any:
    if not isinstance(value, str):
        return value
    if not value.strip():
        return None
    return value[1:] if NEUTRALISED.match(value) else value


def _trimmed(number: int, cells: tuple[Any, ...] | list[Any]) -> Row | None:
    values = [_cell(c) for c in cells]
    while values and values[-1] is None:
        values.pop()
    return Row(number, tuple(values)) if values else None


# --- XLSX -------------------------------------------------------------------


def check_zip(data: bytes) -> None:
    """Refuse a zip whose declared contents are too large, too compressed or too many."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as exc:
        raise FileRefused("not_a_spreadsheet") from exc
    members = archive.infolist()
    if len(members) > MAX_MEMBERS:
        raise FileRefused("unsafe_workbook", reason=f"{len(members)} parts")
    total = 0
    for info in members:
        total += info.file_size
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size > RATIO_FLOOR and ratio > MAX_RATIO:
            raise FileRefused(
                "unsafe_workbook", reason=f"{info.filename} ratio {ratio:.0f}"
            )
    if total > MAX_UNCOMPRESSED:
        raise FileRefused("unsafe_workbook", reason=f"{total} bytes uncompressed")
    for info in members:
        if info.filename.endswith((".xml", ".rels")):
            _check_prolog(archive, info)
    if not _is_workbook(archive):  # a .docx, .pptx or plain zip renamed .xlsx
        raise FileRefused("not_a_spreadsheet")


# The content type of a workbook's main part: .xlsx (spreadsheetml), .xlsm and
# templates (ms-excel); a Word or PowerPoint file declares neither.
_WORKBOOK_TYPES = (b"spreadsheetml.sheet.main", b"spreadsheetml.template.main",
                   b"application/vnd.ms-excel.")  # fmt: skip


def _is_workbook(archive: zipfile.ZipFile) -> bool:
    try:
        with archive.open("[Content_Types].xml") as member:
            types = member.read(16 * PROLOG_LIMIT)  # a real one is a few KiB
    except KeyError:
        return False
    return any(t in types for t in _WORKBOOK_TYPES)


def _check_prolog(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> None:
    """Refuse a part that declares a DTD (where entities live) before its root.

    openpyxl parses some parts with lxml (entities left unresolved) and sheets
    with defusedxml; refusing every DTD up front makes the rule one and explicit.
    """
    try:
        with archive.open(info) as member:
            head = member.read(PROLOG_LIMIT)
    except (zipfile.BadZipFile, EOFError, OSError, zlib.error) as exc:
        # A part that does not inflate to its declared size and CRC: forged.
        raise FileRefused("unreadable_workbook", reason=str(exc)) from exc
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        text = head.decode("utf-16", errors="replace")
    else:
        text = head.decode("utf-8", errors="replace")
    root = _ROOT_START.search(text)
    prolog = text[: root.start()] if root else text
    if "<!DOCTYPE" in prolog or "<!ENTITY" in prolog:
        raise FileRefused("unsafe_workbook", reason=f"DTDForbidden in {info.filename}")
    if root is None and len(head) == PROLOG_LIMIT:
        raise FileRefused("unsafe_workbook", reason=f"no root in {info.filename}")


def _xlsx_sheets(data: bytes) -> Iterator[Iterator[Row]]:
    if not openpyxl.DEFUSEDXML:  # OPENPYXL_DEFUSEDXML=False in the environment
        raise FileRefused("unsafe_workbook", reason="defusedxml is disabled")
    check_zip(data)
    try:
        book = openpyxl.load_workbook(
            io.BytesIO(data), read_only=True, data_only=True, keep_links=False
        )
    except Exception as exc:  # openpyxl raises many kinds on a broken file
        raise _refusal(exc) from exc
    try:
        # A template's first sheet is often its instructions (填写说明): the
        # caller reads on to the sheet whose header it finds.
        for sheet in book.worksheets:
            yield _xlsx_rows(sheet)
    finally:
        book.close()


def _xlsx_rows(sheet: Any) -> Iterator[Row]:
    try:
        sheet.reset_dimensions()  # trust the cells, not a stale <dimension>
        for number, cells in enumerate(sheet.iter_rows(values_only=True), start=1):
            if row := _trimmed(number, cells):
                yield row
    except FileRefused:
        raise
    except Exception as exc:
        raise _refusal(exc) from exc


def _refusal(exc: BaseException) -> FileRefused:
    """Unsafe when defusedxml refused a part (openpyxl may wrap that), else unreadable."""
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, DefusedXmlException):
            return FileRefused("unsafe_workbook", reason=type(cause).__name__)
        cause = cause.__cause__ or cause.__context__
    return FileRefused("unreadable_workbook", reason=type(exc).__name__)


# --- CSV --------------------------------------------------------------------


def _utf16(data: bytes) -> bool:
    return data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE))


def decode_csv(data: bytes) -> str:
    """The text of a CSV file: UTF-8 (with or without BOM), UTF-16 with BOM, else
    GB18030 (a superset of GBK, what Excel on a Chinese Windows saves)."""
    if data.startswith(codecs.BOM_UTF8):
        return data[len(codecs.BOM_UTF8) :].decode("utf-8", errors="strict")
    if _utf16(data):
        return data.decode("utf-16")
    for encoding in CSV_ENCODINGS:
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise FileRefused("unknown_encoding")


def sniff_delimiter(text: str) -> str:
    """Tab when the first lines hold more tabs than commas, else comma."""
    head = text[:8192]
    return "\t" if head.count("\t") > head.count(",") else ","


# ="00123": how exports keep a CSV cell text in Excel (leading zeros, all 18
# digits of an ID number); Excel shows 00123, and so it is read.
_EXCEL_TEXT = re.compile(r'="((?:[^"]|"")*)"')


def _excel_text(cell: str) -> str:
    match = _EXCEL_TEXT.fullmatch(cell.strip())
    return match.group(1).replace('""', '"') if match else cell


def _csv_rows(data: bytes) -> Iterator[Row]:
    try:
        text = decode_csv(data)
    except UnicodeDecodeError as exc:
        raise FileRefused("unknown_encoding") from exc
    if "\x00" in text:
        raise FileRefused("not_a_spreadsheet")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sniff_delimiter(text))
    try:
        # A record is a row as Excel shows it, even when a quoted cell spans lines.
        for number, cells in enumerate(reader, start=1):
            if row := _trimmed(number, [_excel_text(c) for c in cells]):
                yield row
    except csv.Error as exc:
        raise FileRefused("not_a_spreadsheet") from exc
