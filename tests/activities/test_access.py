"""Who gets what on every activity route: the access matrix."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from tests.activities.conftest import PNG, file_field, lecture_data

ROLES = ("anonymous", "teacher1", "teacher2", "head1", "head2", "staff1", "admin")


def _row(expected: str) -> dict[str, int]:
    """Expected status per role, in the order of ROLES (anonymous always 302 to login)."""
    return dict(zip(ROLES, (302, *(int(c) for c in expected.split())), strict=True))


# route → (method, path template, body builder, expected per role)
# teacher1 owns the activity; teacher2 is in the same department; head1 heads it;
# head2 heads another department. Success of a POST is a 302 redirect.
MATRIX = {
    "index": ("GET", "/activities/", None, "200 200 200 200 403 403"),
    "new": ("GET", "/activities/new", None, "200 200 200 200 403 403"),
    "create": ("POST", "/activities/new", "form", "302 302 302 302 403 403"),
    "detail": ("GET", "/activities/{a}", None, "200 404 200 404 404 200"),
    "edit_form": ("GET", "/activities/{a}/edit", None, "200 404 403 404 403 403"),
    "edit": ("POST", "/activities/{a}/edit", "form", "302 404 403 404 403 403"),
    "delete": ("POST", "/activities/{a}/delete", None, "302 404 403 404 403 403"),
    "upload": ("POST", "/activities/{a}/evidence", "file", "302 404 403 404 403 403"),
    "download": (
        "GET",
        "/activities/{a}/evidence/{e}",
        None,
        "200 404 200 404 404 200",
    ),
    "delete_file": (
        "POST",
        "/activities/{a}/evidence/{e}/delete",
        None,
        "302 404 403 404 403 403",
    ),
    "queue": ("GET", "/activities/review", None, "403 403 200 200 403 200"),
    "verify": ("POST", "/activities/{a}/verify", None, "403 403 302 404 403 404"),
    "reject": ("POST", "/activities/{a}/reject", "reason", "403 403 302 404 403 404"),
}
CHANGES = {"create", "edit", "delete", "upload", "delete_file", "verify", "reject"}


def _body(kind: str | None) -> dict | None:
    if kind == "form":
        return lecture_data(title="矩阵测试")
    if kind == "file":
        return {"evidence": file_field(PNG, "照片.png")}
    if kind == "reason":
        return {"reason": "材料不全"}
    return None


CASES = [
    pytest.param(route, role, status, id=f"{route}-{role}")
    for route, (_, _, _, expected) in MATRIX.items()
    for role, status in _row(expected).items()
]


@pytest.mark.parametrize(("route", "role", "expected"), CASES)
def test_access_matrix(
    app,
    client,
    auth,
    world,
    make_activity,
    make_evidence,
    table_counts,
    load_activity,
    route,
    role,
    expected,
) -> None:
    activity = make_activity(world["teacher1"], title="教师一的讲座")
    evidence = make_evidence(activity)
    method, template, body, _ = MATRIX[route]
    path = template.format(a=activity.id, e=evidence.id)
    if role != "anonymous":
        auth.login(role)
    before = table_counts()

    with client.open(path, method=method, data=_body(body)) as response:
        text = response.get_data(as_text=False)  # reads and closes a sent file

    assert response.status_code == expected, text[:500]
    if role == "anonymous":
        assert urlsplit(response.headers["Location"]).path == "/login"
    refused = expected >= 400 or role == "anonymous"
    if route in CHANGES and refused:
        assert table_counts() == before
        after = load_activity(activity.id)
        assert (after.title, after.status) == ("教师一的讲座", "completed")
    if route == "download" and expected == 200:
        assert text.startswith(b"%PDF")
    if refused and expected == 404:
        assert "教师一的讲座".encode() not in text


def test_teacher_cannot_reach_another_teachers_activity_through_any_id(
    client, auth, world, make_activity, make_evidence
) -> None:
    mine = make_activity(world["teacher2"], title="教师二的讲座")
    theirs = make_activity(world["teacher1"], title="教师一的讲座")
    theirs_file = make_evidence(theirs)
    auth.login("teacher2")
    # Evidence of someone else's activity, asked for under one's own activity's id.
    assert (
        client.get(f"/activities/{mine.id}/evidence/{theirs_file.id}").status_code
        == 404
    )
    assert client.get(f"/activities/{theirs.id + 1000}").status_code == 404


def test_head_cannot_review_own_activity(
    client, auth, world, make_activity, table_counts, load_activity
) -> None:
    own = make_activity(world["head1"], title="系主任自己的讲座")
    auth.login("head1")
    queue = client.get("/activities/review").get_data(as_text=True)
    assert "系主任自己的讲座" not in queue
    before = table_counts()
    assert client.post(f"/activities/{own.id}/verify").status_code == 403
    assert (
        client.post(f"/activities/{own.id}/reject", data={"reason": "x"}).status_code
        == 403
    )
    assert table_counts() == before
    assert load_activity(own.id).status == "completed"
    page = client.get(f"/activities/{own.id}").get_data(as_text=True)
    assert f"/activities/{own.id}/verify" not in page


def test_head_sees_department_activity_read_only(
    client, auth, world, make_activity
) -> None:
    activity = make_activity(world["teacher1"], title="教师一的讲座")
    auth.login("head1")
    page = client.get(f"/activities/{activity.id}").get_data(as_text=True)
    assert "教师一的讲座" in page
    assert f"/activities/{activity.id}/verify" in page
    assert f"/activities/{activity.id}/reject" in page
    assert f"/activities/{activity.id}/edit" not in page
    assert f"/activities/{activity.id}/delete" not in page
