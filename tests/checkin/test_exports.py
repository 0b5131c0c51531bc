"""Attendance exports per session and per series (issue 15), and the staff pages.

Files are read back (csv, openpyxl); a formula-like name stays text. The staff
pages and exports issue a bounded number of queries whatever the attendance.
"""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import openpyxl
import pytest

from pdtracker.auth.models import Role
from tests.checkin.conftest import code_for, register, session_keys
from tests.concurrency import signed_in
from tests.factories import COLLEGES

RRULE = "FREQ=DAILY;COUNT=3"


def _rows(response) -> list[list[str]]:
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert response.headers["Cache-Control"] == "private, no-store"
    return list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))


@pytest.fixture
def series(app, cast, make_user, make_department, make_event):
    """A daily series of 3; teacher1 came to the first session by check-in.

    teacher2 holds seats and a formula-like name; the head registered for the
    third session only.
    """
    event = make_event(rrule=RRULE, title='=HYPERLINK("http://x")研讨')
    keys = session_keys(app, event)
    register(app, cast.teacher1, event)
    register(app, cast.teacher2, event)
    register(app, cast.head, event, keys[2:])
    signed_in(app, "teacher1").post(f"/checkin/{code_for(event, keys[0])}")
    with app.app_context():
        from pdtracker.auth.models import User
        from pdtracker.extensions import db

        db.session.get_one(User, cast.teacher2.id).display_name = "=cmd|' /C calc'!A0"
        db.session.commit()
    return event, keys


def test_session_csv_lists_each_place_with_how_it_was_recorded(
    app, client, auth, cast, series
) -> None:
    event, keys = series
    _english(app, "staff1")
    auth.login("staff1")
    rows = _rows(
        client.get(f"/checkin/events/{event.id}/sessions/{keys[0]}/attendance.csv")
    )
    assert rows[0] == [
        "No.", "Name", "Username", "Staff number", "Department", "College",
        "Status", "Registered at", "Attended at", "Recorded as",
    ]  # fmt: skip
    by_user = {r[2]: r for r in rows[1:]}
    assert set(by_user) == {"teacher1", "teacher2"}
    assert by_user["teacher1"][5] == COLLEGES["DEMO"]  # 工号 are per college
    assert by_user["teacher1"][6] == "Attended"
    assert by_user["teacher1"][8] != ""
    assert by_user["teacher1"][9] == "QR check-in"
    assert by_user["teacher2"][1] == "'=cmd|' /C calc'!A0"  # neutralised
    assert by_user["teacher2"][6:10:3] == ["Registered", ""]


def test_series_csv_has_a_column_per_session(app, client, auth, cast, series) -> None:
    event, keys = series
    _english(app, "staff1")
    auth.login("staff1")
    rows = _rows(client.get(f"/checkin/events/{event.id}/attendance.csv"))
    assert len(rows[0]) == 6 + 3 + 1
    assert rows[0][-1] == "Sessions attended"
    by_user = {r[2]: r for r in rows[1:]}
    assert by_user["teacher1"][6:] == ["Attended", "Registered", "Registered", "1"]
    assert by_user["head1"][6:] == ["", "", "Registered", "0"]
    assert by_user["head1"][5] == COLLEGES["DEMO"]


def test_xlsx_exports_keep_formulas_as_text(app, client, auth, series) -> None:
    event, keys = series
    auth.login("staff1")
    for path in (
        f"/checkin/events/{event.id}/attendance.xlsx",
        f"/checkin/events/{event.id}/sessions/{keys[0]}/attendance.xlsx",
    ):
        response = client.get(path)
        assert response.status_code == 200
        sheet = openpyxl.load_workbook(io.BytesIO(response.data)).active
        cells = [c for row in sheet.iter_rows() for c in row if c.value is not None]
        assert sheet["A1"].value.startswith("'=HYPERLINK")
        assert all(c.data_type != "f" for c in cells)
        assert "'=cmd|' /C calc'!A0" in {c.value for c in cells}


def test_staff_pages_issue_bounded_queries(
    app, client, auth, cast, make_user, make_department, make_event, count_queries
) -> None:
    event = make_event(rrule=RRULE)
    keys = session_keys(app, event)
    dept = make_department("ME", "机电工程系")
    teachers = [make_user(f"many{n}", Role.TEACHER, department=dept) for n in range(9)]

    def come(teacher) -> None:
        register(app, teacher, event)
        signed_in(app, teacher.username).post(f"/checkin/{code_for(event, keys[0])}")

    come(teachers[0])  # one teacher, one attendance
    auth.login("staff1")
    paths = [
        f"/checkin/events/{event.id}",
        f"/checkin/events/{event.id}/sessions/{keys[0]}/screen",
        f"/checkin/events/{event.id}/attendance.csv",
        f"/checkin/events/{event.id}/sessions/{keys[0]}/attendance.csv",
    ]

    def counts() -> list[int]:
        found = []
        for path in paths:
            with count_queries() as counter:
                assert client.get(path).status_code == 200
            found.append(counter.count)
        return found

    few = counts()
    for teacher in teachers[1:5]:
        come(teacher)
    for teacher in teachers[5:]:
        register(app, teacher, event)
    assert counts() == few


def test_the_screen_shows_a_code_only_while_check_in_is_open(
    app, client, auth, cast, make_event
) -> None:
    auth.login("staff1")
    soon = make_event(timedelta(minutes=20))
    later = make_event(timedelta(hours=2))
    over = make_event(timedelta(hours=-3))
    for event, has_code in ((soon, True), (later, False), (over, False)):
        key = session_keys(app, event)[0]
        page = client.get(f"/checkin/events/{event.id}/sessions/{key}/screen")
        assert page.status_code == 200
        assert ('id="checkin-code"' in page.text) is has_code
        assert '<meta http-equiv="refresh" content="' in page.text


def _english(app, username: str) -> None:
    from sqlalchemy import update

    from pdtracker.auth.models import User
    from pdtracker.extensions import db

    with app.app_context():
        db.session.execute(
            update(User).where(User.username == username).values(locale="en")
        )
        db.session.commit()
