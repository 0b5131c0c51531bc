"""Helpers for the onboarding tests: sample files and workbooks built in memory."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import Any

from openpyxl import Workbook

SAMPLES = Path(__file__).resolve().parents[2] / "pdtracker" / "onboarding" / "samples"


def sample(name: str) -> bytes:
    """The bytes of a committed sample file."""
    return (SAMPLES / name).read_bytes()


def xlsx(*rows: tuple[Any, ...], title_rows: int = 0) -> bytes:
    """An XLSX whose first sheet holds the rows (after some merged title rows)."""
    book = Workbook()
    sheet = book.active
    for i in range(title_rows):
        sheet.cell(row=i + 1, column=1, value=f"标题 {i + 1}")
        sheet.merge_cells(start_row=i + 1, start_column=1, end_row=i + 1, end_column=5)
    for number, row in enumerate(rows, start=title_rows + 1):
        for column, value in enumerate(row, start=1):
            cell = sheet.cell(row=number, column=column, value=value)
            if isinstance(value, str):
                cell.data_type = "s"  # text, even when it starts with "="
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def csv_bytes(text: str, encoding: str = "utf-8") -> bytes:
    """CSV text in an encoding (utf-8-sig for a BOM)."""
    return text.replace("\n", "\r\n").encode(encoding)


def replace_member(data: bytes, name: str, content: bytes) -> bytes:
    """The zip with one member's content replaced."""
    source = zipfile.ZipFile(io.BytesIO(data))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            body = content if info.filename == name else source.read(info.filename)
            target.writestr(info.filename, body)
    return buffer.getvalue()


import json  # noqa: E402

import pytest  # noqa: E402


@pytest.fixture
def college(make_department, make_user):
    """Two departments (as in the samples) and an admin."""
    from pdtracker.auth.models import Role

    return {
        "ai": make_department("AI", "人工智能技术应用系"),
        "me": make_department("ME", "机电工程系"),
        "admin": make_user("admin", Role.ADMIN),
    }


@pytest.fixture
def run_cli(app, runner, tmp_path):
    """Run ``flask import IMPORTER FILE --json …`` on bytes; (exit code, report)."""
    from pdtracker.onboarding.cli import import_cli

    if "import" not in app.cli.commands:  # until the factory registers it
        app.cli.add_command(import_cli)

    def run(importer: str, data: bytes, *options: str, name: str = "file.xlsx"):
        path = tmp_path / name
        path.write_bytes(data)
        result = runner.invoke(args=["import", importer, str(path), "--json", *options])
        if result.exit_code == 0:
            return 0, json.loads(result.output)
        return result.exit_code, result.output or repr(result.exception)

    return run
