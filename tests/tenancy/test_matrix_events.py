"""Events across two colleges: every route × role × own/other event.

Association events belong to no college. Teachers and heads of every member
college see published events and register; staff (and the admin) manage them and
see the registrations of every college by name and department, never evidence.
College admins have no event pages (403). "own" is a series teacher1 (DEMO) holds
a place in, "other" one only north_teacher1 (NORTH) holds a place in. Every refused
request leaves every row as it was.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from pdtracker.auth.models import User
from pdtracker.events.models import Event
from pdtracker.events.registrations import register
from pdtracker.events.sessions import list_sessions
from pdtracker.extensions import db
from tests import factories
from tests.tenancy.conftest import ACTORS, ROLES, SIDES

READ = {
    "index": ("GET", "/events/"),
    "detail": ("GET", "/events/{event}"),
}
TEACHER = {
    "register": ("POST", "/events/{event}/register"),
    "unregister_session": ("POST", "/events/{event}/sessions/{key}/unregister"),
}
STAFF = {
    "manage": ("GET", "/events/manage"),
    "edit": ("GET", "/events/{event}/edit"),
    "registrations": ("GET", "/events/{event}/registrations?session={key}"),
    "export_csv": ("GET", "/events/{event}/registrations.csv"),
    "export_xlsx": ("GET", "/events/{event}/registrations.xlsx"),
    "move": ("GET", "/events/{event}/sessions/{key}/move"),
    "cancel_session": ("POST", "/events/{event}/sessions/{key}/cancel"),
}
ROUTES = {**READ, **TEACHER, **STAFF}
FIRST = datetime.now(UTC).replace(microsecond=0) + timedelta(days=10)


def _expected(route: str, role: str, side: str) -> int:
    if route in READ:
        return 403 if role == "college_admin" else 200
    if route in TEACHER:
        if role not in {"teacher", "head"}:
            return 403
        return 302  # a refusal (not registered) is a flash and a redirect too
    if role not in {"staff", "admin"}:
        return 403
    return 302 if STAFF[route][0] == "POST" else 200


@pytest.fixture
def events(app, two_colleges) -> dict[str, tuple[int, str]]:
    """A weekly series per side, each with its college's teacher registered."""
    out = {}
    for side in SIDES:
        event = factories.make_event(
            app, created=FIRST - timedelta(days=20), kind_code="seminar",
            title=f"{side} 研讨", starts_at=FIRST, ends_at=FIRST + timedelta(hours=1),
            rrule="FREQ=WEEKLY;COUNT=3",
        )  # fmt: skip
        with app.app_context():
            row = db.session.get_one(Event, event.id)
            teacher = db.session.get_one(User, two_colleges["teacher"][side].id)
            register(teacher, row, FIRST - timedelta(days=5))
            key = list_sessions(row)[0].key
            db.session.commit()
        out[side] = (event.id, key)
    return out


CASES = [
    pytest.param(route, role, side, id=f"{route}-{role}-{side}")
    for route in ROUTES
    for role in ROLES
    for side in SIDES
]


@pytest.mark.parametrize(("route", "role", "side"), CASES)
def test_event_routes(
    client, auth, events, table_rows, route: str, role: str, side: str
) -> None:
    method, path = ROUTES[route]
    event_id, key = events[side]
    auth.login(ACTORS[role])
    before = table_rows()
    response = client.open(path.format(event=event_id, key=key), method=method, data={})
    expected = _expected(route, role, side)
    assert response.status_code == expected
    if expected >= 400:
        assert table_rows() == before
    if response.status_code == 200 and method == "GET":
        assert "no-store" in response.headers.get("Cache-Control", "")


def test_teachers_of_every_college_see_and_register(
    client, auth, events, two_colleges
) -> None:
    event_id, _key = events["own"]
    auth.login("north_teacher2")
    assert "own 研讨" in client.get("/events/").text
    assert client.get(f"/events/{event_id}").status_code == 200
    assert client.post(f"/events/{event_id}/register").status_code == 302
    assert "north_teacher2" in _staff_list(client, auth, event_id)


def _staff_list(client, auth, event_id: int) -> str:
    auth.logout()
    auth.login("staff1")
    return client.get(f"/events/{event_id}/registrations").text


def test_staff_see_names_and_departments_but_no_evidence(
    client, auth, events, two_colleges
) -> None:
    event_id, _key = events["other"]
    auth.login("staff1")
    page = client.get(f"/events/{event_id}/registrations").text
    assert "north_teacher1" in page
    assert "北城人工智能系" in page
    assert "/evidence" not in page
    assert "证明.pdf" not in page
    csv = client.get(f"/events/{event_id}/registrations.csv").data.decode("utf-8-sig")
    assert "北城人工智能系" in csv
    assert "证明" not in csv
