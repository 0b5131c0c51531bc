"""The association dashboard across two colleges: every route × role.

Association staff and the deployment admin see every member college's aggregates
(DEMO's and NORTH's); teachers, heads and college admins are refused (403) on the
page and every export, and a refused request changes no row of any table. What
staff see is aggregate: no teacher's name, no evidence file, no activity title of
either college.
"""

from __future__ import annotations

import re

import pytest

from pdtracker.extensions import db
from pdtracker.progress import standings
from pdtracker.timeutil import utcnow
from tests.tenancy.conftest import ACTORS, ROLES, SIDES

ROUTES = {
    "dashboard": "/association/",
    "colleges_xlsx": "/association/colleges.xlsx",
    "enterprises_xlsx": "/association/enterprises.xlsx",
    "attendance_xlsx": "/association/attendance.xlsx",
    "demand_xlsx": "/association/demand.xlsx",
}
ALLOWED = {"staff", "admin"}


@pytest.fixture
def w(app, two_colleges):
    with app.app_context():
        standings.refresh(utcnow(), full=True)
        db.session.commit()
    return two_colleges


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize("role", ROLES)
def test_route_by_role(client, auth, table_rows, w, route, role):
    auth.login(ACTORS[role])
    before = table_rows()
    response = client.get(ROUTES[route])
    if role in ALLOWED:
        assert response.status_code == 200
    else:
        assert response.status_code == 403
        assert table_rows() == before
    assert response.headers["Cache-Control"] == "private, no-store"


@pytest.mark.parametrize("role", sorted(ALLOWED))
def test_both_colleges_in_aggregate_and_nothing_personal(client, auth, w, role):
    auth.login(ACTORS[role])
    html = client.get("/association/").get_data(as_text=True)
    rows = dict(re.findall(r'data-college="([^"]+)" data-teachers="(\d+)"', html))
    # Each college: two teachers and two heads who teach.
    assert rows == {"DEMO": "4", "NORTH": "4"}
    for side in SIDES:
        for secret in (
            w["teacher"][side].display_name, w["head"][side].display_name,
            w["activity"][side].title, w["evidence"][side].original_name,
            w["evidence"][side].stored_name,
        ):  # fmt: skip
            assert secret not in html
