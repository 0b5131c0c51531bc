"""Reading files: encodings, separators, bounds, and crafted workbooks refused."""

from __future__ import annotations

import io
import tracemalloc
import zipfile
from datetime import datetime

import pytest

from pdtracker.onboarding import reading
from pdtracker.onboarding.errors import FileRefused
from pdtracker.onboarding.headers import find_header
from pdtracker.onboarding.reading import read_rows
from tests.onboarding.conftest import csv_bytes, replace_member, sample, xlsx

LEDGER = (
    "工号,项目名称,类型,开始日期,学时\n00123,校本研修：项目化教学,研修,2022-09-01,24\n"
)
EXPECTED = [("工号", "项目名称", "类型", "开始日期", "学时"),
            ("00123", "校本研修：项目化教学", "研修", "2022-09-01", "24")]  # fmt: skip


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030", "gbk", "utf-16"])
def test_csv_in_every_encoding(encoding):
    rows = read_rows(csv_bytes(LEDGER, encoding))
    assert [r.cells for r in rows] == EXPECTED


def test_tab_separated():
    rows = read_rows(csv_bytes(LEDGER.replace(",", "\t"), "gb18030"))
    assert [r.cells for r in rows] == EXPECTED


def test_the_committed_gb18030_sample():
    data = sample("records_ledger_gb18030.csv")
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    rows = read_rows(data)
    assert rows[0].cells[:3] == ("工号", "项目名称", "类型")
    assert rows[1].cells[0] == "00123"


def test_header_on_row_four_under_merged_title_cells():
    rows = read_rows(sample("records_platform.xlsx"))
    header, data = find_header(rows, "records")
    assert header.number == 4
    assert header.columns[3] == "title"  # 培训项目
    assert {header.columns[i] for i in (5, 6, 7, 8, 9, 10)} == {
        "starts_on", "ends_on", "content", "organizer", "location", "hours"
    }  # fmt: skip
    assert [r.number for r in data] == [5, 6, 7, 8, 9]
    assert data[0].cells[5] == datetime(2023, 7, 10)  # an Excel date cell


def test_row_numbers_are_excels_and_empty_rows_and_columns_are_ignored():
    data = xlsx(("工号", "项目名称", None, None), (None,), ("001", "x", "", None),
                (None, None), (None,), title_rows=2)  # fmt: skip
    rows = read_rows(data)
    assert [(r.number, r.cells) for r in rows] == [
        (1, ("标题 1",)), (2, ("标题 2",)), (3, ("工号", "项目名称")), (5, ("001", "x")),
    ]  # fmt: skip


def test_a_cell_starting_with_equals_is_text():
    rows = read_rows(xlsx(("工号", "项目名称"), ("=1+2", '=HYPERLINK("http://x")')))
    assert rows[1].cells == ("=1+2", '=HYPERLINK("http://x")')
    rows = read_rows(csv_bytes("工号,项目名称\n=1+2,@SUM(A1)\n"))
    assert rows[1].cells == ("=1+2", "@SUM(A1)")


def test_too_large_a_file_is_refused(monkeypatch):
    monkeypatch.setattr(reading, "MAX_BYTES", 1000)
    with pytest.raises(FileRefused) as info:
        read_rows(csv_bytes(LEDGER * 20))
    assert info.value.code == "too_large"
    assert read_rows(csv_bytes(LEDGER))  # under the bound: read


def test_more_than_the_row_bound_is_refused(monkeypatch):
    monkeypatch.setattr(reading, "MAX_ROWS", 5)
    ok = "工号\n" + "1\n" * 5
    assert len(read_rows(csv_bytes(ok))) == 6  # header + 5 data rows
    with pytest.raises(FileRefused) as info:
        read_rows(csv_bytes(ok + "1\n"))
    assert info.value.code == "too_many_rows"


def test_default_bounds_are_those_of_the_issue():
    assert reading.MAX_BYTES == 20 * 1024 * 1024
    assert reading.MAX_ROWS == 100_000


@pytest.mark.parametrize(
    ("data", "code"),
    [(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, "not_a_spreadsheet"),
     (b"PK\x03\x04 not really a zip", "not_a_spreadsheet"),
     (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "not_a_spreadsheet"),
     (b"\xff\xfe\xfd\x81\x30", "unknown_encoding"), (b"   \n", "empty_file")],
)  # fmt: skip
def test_not_a_spreadsheet(data, code):
    with pytest.raises(FileRefused) as info:
        read_rows(data)
    assert info.value.code == code


def test_a_zip_bomb_is_refused_quickly_without_inflating_it():
    # 200 MiB of zeros deflate to ~200 KiB: its declared size gives it away.
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as bomb:
        bomb.writestr("[Content_Types].xml", "<Types/>")
        with bomb.open("xl/worksheets/sheet1.xml", "w") as member:
            chunk = b"\x00" * (1024 * 1024)
            for _ in range(200):
                member.write(chunk)
    data = buffer.getvalue()
    assert len(data) < 1024 * 1024
    tracemalloc.start()
    try:
        with pytest.raises(FileRefused) as info:
            read_rows(data)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert info.value.code == "unsafe_workbook"
    assert peak < 10 * 1024 * 1024  # refused before anything was inflated


def test_a_member_whose_declared_size_lies_is_not_inflated_past_it():
    data = xlsx(("工号", "项目名称"), ("001", "x"))
    # Declare a small size for a member that inflates to 50 MiB.
    sheet = "xl/worksheets/sheet1.xml"
    real = zipfile.ZipFile(io.BytesIO(data)).read(sheet)
    padded = real.replace(
        b"</worksheet>", b"<!--" + b" " * 50_000_000 + b"--></worksheet>"
    )
    forged = bytearray(replace_member(data, sheet, padded))
    archive = zipfile.ZipFile(io.BytesIO(bytes(forged)))
    info = archive.getinfo(sheet)
    for offset in (info.header_offset + 22, _central_offset(forged, sheet) + 24):
        forged[offset : offset + 4] = len(real).to_bytes(4, "little")
    tracemalloc.start()
    try:
        with pytest.raises(FileRefused):
            read_rows(bytes(forged))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 20 * 1024 * 1024


def _central_offset(data: bytearray, name: str) -> int:
    """Where the central-directory record of ``name`` starts."""
    return data.rindex(b"PK\x01\x02", 0, data.rindex(name.encode()))


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
<!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">]>
<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">
<sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>&lol4;</t></is></c></row>
</sheetData></worksheet>"""
EXTERNAL = b"""<?xml version="1.0"?>
<!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">
<sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>&xxe;</t></is></c></row>
</sheetData></worksheet>"""


@pytest.mark.parametrize("payload", [BILLION_LAUGHS, EXTERNAL], ids=["laughs", "xxe"])
@pytest.mark.parametrize("member", ["xl/worksheets/sheet1.xml", "xl/workbook.xml"])
def test_entity_declarations_are_refused(payload, member):
    base = xlsx(("工号", "项目名称"), ("001", "x"))
    if member == "xl/workbook.xml":
        original = zipfile.ZipFile(io.BytesIO(base)).read(member)
        doctype = payload[payload.index(b"<!DOCTYPE") : payload.index(b"]>") + 2]
        payload = doctype + original
    with pytest.raises(FileRefused) as info:
        read_rows(replace_member(base, member, payload))
    assert info.value.code == "unsafe_workbook"
    assert "Forbidden" in info.value.params["reason"]
