"""Activities across two colleges: every route × role × own/other college.

The objects are a DEMO teacher's and a NORTH teacher's completed activity with
evidence (and, for review, each college's head's own activity). A teacher, a head
or a college admin of DEMO never sees NORTH's (404); the college admin reviews
their college's heads; the deployment admin reviews heads everywhere; association
staff see no activity at all. Refused requests leave every row as it was.
"""

from __future__ import annotations

import io

import pytest

from tests.tenancy.conftest import ACTORS, PDF, ROLES, SIDES


def _form(w, side):
    return {
        "kind_code": "expert_lecture", "title": "matrix lecture", "status": "completed",
        "role": "attendee", "starts_on": "2026-03-10", "ends_on": "2026-03-10",
        "hours": "3", "location": "报告厅",
    }  # fmt: skip


def _file(w, side):
    return {"evidence": (io.BytesIO(PDF), "证明.pdf")}


def _reason(w, side):
    return {"reason": "材料不全"}


def _row(text: str) -> dict[str, tuple[int, int]]:
    """'own/other' statuses per role, in the order of ROLES."""
    pairs = [tuple(int(x) for x in cell.split("/")) for cell in text.split()]
    return dict(zip(ROLES, pairs, strict=True))


# route → (method, path, body, object); {a} is the object's id, {e} its evidence.
ROUTES = {
    "index": ("GET", "/activities/", None, "activity"),
    "create": ("POST", "/activities/new", _form, "activity"),
    "detail": ("GET", "/activities/{a}", None, "activity"),
    "edit_form": ("GET", "/activities/{a}/edit", None, "activity"),
    "edit": ("POST", "/activities/{a}/edit", _form, "activity"),
    "delete": ("POST", "/activities/{a}/delete", None, "activity"),
    "upload": ("POST", "/activities/{a}/evidence", _file, "activity"),
    "download": ("GET", "/activities/{a}/evidence/{e}", None, "activity"),
    "delete_file": ("POST", "/activities/{a}/evidence/{e}/delete", None, "activity"),
    "queue": ("GET", "/activities/review", None, "activity"),
    "verify": ("POST", "/activities/{a}/verify", None, "activity"),
    "reject": ("POST", "/activities/{a}/reject", _reason, "activity"),
    "detail_head": ("GET", "/activities/{a}", None, "head_activity"),
    "verify_head": ("POST", "/activities/{a}/verify", None, "head_activity"),
    "reject_head": ("POST", "/activities/{a}/reject", _reason, "head_activity"),
}
# Expected own/other per role: teacher, head, college_admin, staff, admin.
# A head may not review their own activity (403, conflict of interest).
MATRIX = {
    "index":       "200/200 200/200 403/403 403/403 403/403",
    "create":      "302/302 302/302 403/403 403/403 403/403",
    "detail":      "200/404 200/404 200/404 404/404 200/200",
    "edit_form":   "200/404 403/404 403/403 403/403 403/403",
    "edit":        "302/404 403/404 403/403 403/403 403/403",
    "delete":      "302/404 403/404 403/403 403/403 403/403",
    "upload":      "302/404 403/404 403/403 403/403 403/403",
    "download":    "200/404 200/404 200/404 404/404 200/200",
    "delete_file": "302/404 403/404 403/403 403/403 403/403",
    "queue":       "403/403 200/200 200/200 403/403 200/200",
    "verify":      "403/403 302/404 404/404 403/403 404/404",
    "reject":      "403/403 302/404 404/404 403/403 404/404",
    "detail_head": "404/404 200/404 200/404 404/404 200/200",
    "verify_head": "403/403 403/404 302/404 403/403 302/302",
    "reject_head": "403/403 403/404 302/404 403/403 302/302",
}  # fmt: skip


CASES = [
    pytest.param(route, role, side, id=f"{route}-{role}-{side}")
    for route in MATRIX
    for role in ROLES
    for side in SIDES
]


@pytest.mark.parametrize(("route", "role", "side"), CASES)
def test_activities_matrix(client, auth, two_colleges, table_rows, route, role, side):
    w = two_colleges
    method, template, body, obj = ROUTES[route]
    expected = _row(MATRIX[route])[role][SIDES.index(side)]
    activity = w[obj][side]
    path = template.format(a=activity.id, e=w["evidence"][side].id)
    auth.login(ACTORS[role])
    before = table_rows()

    with client.open(path, method=method, data=body(w, side) if body else None) as r:
        content = r.get_data()

    assert r.status_code == expected, content[:300]
    if expected >= 400:
        assert table_rows() == before
    if expected == 404:
        assert activity.title.encode() not in content
    if expected == 200 and role != "admin" and route in {"queue", "index"}:
        assert b"other-college" not in content


def test_college_admins_queue_lists_their_heads_only(client, auth, two_colleges):
    auth.login("cadmin1")
    page = client.get("/activities/review").get_data(as_text=True)
    assert "own-college head lecture" in page
    assert "other-college" not in page
    assert "own-college lecture" not in page  # a teacher's: their head reviews it


def test_deployment_admins_queue_spans_the_colleges(client, auth, two_colleges):
    auth.login("admin")
    page = client.get("/activities/review").get_data(as_text=True)
    assert "own-college head lecture" in page
    assert "other-college head lecture" in page
