"""Check-in across two colleges: every route × role × own/other event.

Association events belong to no college: staff (and the admin) run check-in for
every event and export every college's attendance; teachers, heads and college
admins are refused those pages (403). A teacher checks in only where they hold a
place: "own" is an event teacher1 (DEMO) registered for, "other" one that only
north_teacher1 (NORTH) registered for. The done page of a session one holds no
place in is not found (404). Every refused request leaves every row as it was.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.checkin.conftest import code_for, new_event, register, session_keys
from tests.tenancy.conftest import ACTORS, ROLES, SIDES

STAFF_ROUTES = {
    "sessions": ("GET", "/checkin/events/{event}"),
    "screen": ("GET", "/checkin/events/{event}/sessions/{key}/screen"),
    "session_csv": ("GET", "/checkin/events/{event}/sessions/{key}/attendance.csv"),
    "session_xlsx": ("GET", "/checkin/events/{event}/sessions/{key}/attendance.xlsx"),
    "series_csv": ("GET", "/checkin/events/{event}/attendance.csv"),
    "series_xlsx": ("GET", "/checkin/events/{event}/attendance.xlsx"),
    "attendance": ("GET", "/checkin/events/{event}/sessions/{key}/attendance"),
    "attend": ("POST", "/checkin/events/{event}/sessions/{key}/attend/{teacher}"),
    "attend_list": ("POST", "/checkin/events/{event}/sessions/{key}/attend-list"),
}
TEACHER_ROUTES = {
    "scan": ("GET", "/checkin/{code}"),
    "confirm": ("POST", "/checkin/{code}"),
    "done": ("GET", "/checkin/events/{event}/sessions/{key}/done"),
}
ROUTES = {**STAFF_ROUTES, **TEACHER_ROUTES}


def _expected(route: str, role: str, side: str) -> int:
    if route in STAFF_ROUTES:
        if role not in {"staff", "admin"}:
            return 403
        return 302 if STAFF_ROUTES[route][0] == "POST" else 200
    registered = role == "teacher" and side == "own"
    if route == "done":
        if role in {"teacher", "head"}:
            return 200 if registered else 404
        return 403
    if route == "confirm" and role not in {"teacher", "head"}:
        return 403  # only teachers post a check-in
    if registered:
        return 302 if route == "confirm" else 200
    return 409  # a teacher without a place, or someone who is not a teacher


CASES = [
    pytest.param(route, role, side, id=f"{route}-{role}-{side}")
    for route in ROUTES
    for role in ROLES
    for side in SIDES
]


@pytest.mark.parametrize(("route", "role", "side"), CASES)
def test_checkin_matrix(app, client, auth, two_colleges, table_rows, route, role, side):
    w = two_colleges
    # Started ten minutes ago: staff may mark, teachers may still check in.
    events = {
        s: new_event(app, timedelta(minutes=-10), title=f"{s}-side seminar")
        for s in SIDES
    }
    register(app, w["teacher1"], events["own"])
    register(app, w["north_teacher1"], events["other"])
    event = events[side]
    key = session_keys(app, event)[0]
    method, template = ROUTES[route]
    teacher = w["teacher"][side]
    path = template.format(
        event=event.id, key=key, code=code_for(event, key), teacher=teacher.id
    )
    data = {"entries": teacher.username} if route == "attend_list" else None
    auth.login(ACTORS[role])
    before = table_rows()

    response = client.open(path, method=method, data=data)

    expected = _expected(route, role, side)
    assert response.status_code == expected, response.get_data(as_text=True)[:300]
    if expected in {403, 404, 409} or method == "GET":
        assert table_rows() == before
    if expected == 200 and route in {"sessions", "screen"}:
        assert response.headers["Cache-Control"] == "private, no-store"


@pytest.mark.parametrize("path", ["/checkin/events/{missing}",
                                  "/checkin/events/{event}/sessions/20000101T000000Z/screen",
                                  "/checkin/events/{missing}/attendance.csv"])  # fmt: skip
def test_unknown_events_and_sessions_are_not_found(
    app, client, auth, two_colleges, path
) -> None:
    event = new_event(app)
    auth.login("staff1")
    response = client.get(path.format(event=event.id, missing=event.id + 1000))
    assert response.status_code == 404


def test_staff_exports_name_every_college(app, client, auth, two_colleges) -> None:
    """Association staff take attendance for all colleges' teachers at their events."""
    w = two_colleges
    event = new_event(app)
    register(app, w["teacher1"], event)
    register(app, w["north_teacher1"], event)
    auth.login("staff1")
    text = client.get(f"/checkin/events/{event.id}/attendance.csv").text
    assert "teacher1" in text
    assert "north_teacher1" in text
