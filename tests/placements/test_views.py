"""Placement pages: access matrix, planning with warnings, lifecycle over HTTP."""

from __future__ import annotations

import io
from datetime import date, datetime

import pytest
from sqlalchemy import func, select

from pdtracker.activities.models import Activity
from pdtracker.audit import AuditEntry
from pdtracker.extensions import db
from pdtracker.placements.models import Placement
from tests.placements.conftest import PDF


@pytest.fixture
def placement(world, make_enterprise, make_placement):
    """teacher1's proposed placement, with private notes."""
    return make_placement(
        world["teacher1"], make_enterprise(), notes="仅供系内参考", tasks="产线调试"
    )


def _form(teacher_id: int, enterprise_id: int, **extra) -> dict:
    data = {
        "teacher_id": str(teacher_id),
        "enterprise_id": str(enterprise_id),
        "starts_on": "2026-07-06",
        "ends_on": "2026-07-31",
        "working_days": "",
        "mentor_name": "张工",
        "mentor_contact": "13800000000",
        "tasks": "参与智能产线运维",
        "notes": "",
    }
    data.update(extra)
    return data


def _count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


@pytest.mark.parametrize(
    ("user", "code"),
    [("teacher1", 200), ("head1", 200), ("teacher2", 404), ("head2", 404)],
)
def test_who_sees_a_placement(client, auth, placement, user, code) -> None:
    auth.login(user)
    response = client.get(f"/placements/{placement.id}")
    assert response.status_code == code
    if code == 200:
        assert "仅供系内参考" in response.text


@pytest.mark.parametrize(
    ("user", "code"),
    [("teacher1", 403), ("teacher2", 403), ("head2", 404), ("staff1", 403)],
)
def test_who_cannot_move_a_placement(client, auth, app, placement, user, code) -> None:
    auth.login(user)
    for action in ("approve", "start", "cancel", "complete"):
        response = client.post(
            f"/placements/{placement.id}/{action}", data={"reason": "x"}
        )
        assert response.status_code == code
    assert client.get(f"/placements/{placement.id}/edit").status_code == code
    with app.app_context():
        assert db.session.get(Placement, placement.id).status == "proposed"


@pytest.mark.parametrize("user", ["staff1", "admin"])
def test_staff_and_admins_cannot_plan(client, auth, world, user) -> None:
    auth.login(user)
    # The deployment admin reads every placement (tenancy); staff read none.
    assert client.get("/placements/").status_code == (200 if user == "admin" else 403)
    assert client.get("/placements/new").status_code == 403
    assert client.get("/placements/timeline").status_code == 403


def test_anonymous_is_sent_to_login(client) -> None:
    response = client.get("/placements/")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_teacher_lists_own_placements_read_only(
    client,
    auth,
    world,
    make_enterprise,
    make_placement,
) -> None:
    mine = make_placement(world["teacher1"], make_enterprise("甲公司"))
    make_placement(world["teacher2"], make_enterprise("乙公司"))
    auth.login("teacher1")
    page = client.get("/placements/").text
    assert "甲公司" in page
    assert "乙公司" not in page
    assert "/placements/new" not in page
    detail = client.get(f"/placements/{mine.id}").text
    assert f"/placements/{mine.id}/approve" not in detail
    assert f"/placements/{mine.id}/edit" not in detail


def test_head_lists_department_with_status_filter(
    client,
    auth,
    world,
    make_enterprise,
    make_placement,
) -> None:
    make_placement(world["teacher1"], make_enterprise("甲公司"), status="approved")
    make_placement(world["teacher2"], make_enterprise("乙公司"))
    make_placement(world["head2"], make_enterprise("丙公司"))
    auth.login("head1")
    page = client.get("/placements/").text
    assert "甲公司" in page
    assert "乙公司" in page
    assert "丙公司" not in page
    filtered = client.get("/placements/?status=approved").text
    assert "甲公司" in filtered
    assert "乙公司" not in filtered
    assert "乙公司" in client.get("/placements/?status=bogus").text


def test_teacher_select_is_limited_to_the_department(
    client,
    auth,
    app,
    world,
    make_enterprise,
    table_counts,
) -> None:
    enterprise = make_enterprise()
    auth.login("head1")
    page = client.get("/placements/new").text
    assert f'value="{world["teacher2"].id}"' in page
    assert f'value="{world["head2"].id}"' not in page
    before = table_counts()
    response = client.post(
        "/placements/new", data=_form(world["head2"].id, enterprise.id)
    )
    assert response.status_code == 200
    assert "is-invalid" in response.text
    assert table_counts() == before


def test_plan_without_conflicts_saves_and_audits(
    client,
    auth,
    app,
    world,
    make_enterprise,
) -> None:
    enterprise = make_enterprise()
    auth.login("head1")
    response = client.post(
        "/placements/new", data=_form(world["teacher1"].id, enterprise.id)
    )
    assert response.status_code == 302
    with app.app_context():
        placement = db.session.scalar(select(Placement))
        assert placement.teacher_id == world["teacher1"].id
        assert placement.planned_by_id == world["head1"].id
        assert placement.working_days == 20
        assert placement.notes is None
        assert placement.mentor_name == "张工"
        assert db.session.scalar(
            select(AuditEntry).where(AuditEntry.action == "placement.create")
        )


def test_plan_form_validates_dates(client, auth, app, world, make_enterprise) -> None:
    enterprise = make_enterprise()
    auth.login("head1")
    for extra in (
        {"ends_on": "2026-07-01"},
        {"working_days": "40"},
        {"working_days": "-1"},
    ):
        response = client.post(
            "/placements/new", data=_form(world["teacher1"].id, enterprise.id, **extra)
        )
        assert response.status_code == 200
        assert "is-invalid" in response.text
    assert _count(app, Placement) == 0


def test_conflicts_warn_and_need_confirmation(
    client,
    auth,
    app,
    world,
    make_enterprise,
    make_placement,
) -> None:
    enterprise = make_enterprise("小企业", placement_capacity=1)
    make_placement(
        world["teacher2"], enterprise,
        starts_on=date(2026, 7, 1), ends_on=date(2026, 7, 10),
    )  # fmt: skip
    make_placement(
        world["teacher1"], make_enterprise("甲公司"),
        starts_on=date(2026, 7, 20), ends_on=date(2026, 8, 10),
    )  # fmt: skip
    auth.login("head1")
    data = _form(world["teacher1"].id, enterprise.id)
    response = client.post("/placements/new", data=data)
    assert response.status_code == 200
    assert "alert-warning" in response.text
    assert "甲公司" in response.text  # the teacher's overlapping placement
    assert "2026-07" in response.text  # the month over capacity
    assert 'name="confirm_conflicts"' in response.text
    assert _count(app, Placement) == 2
    response = client.post("/placements/new", data={**data, "confirm_conflicts": "y"})
    assert response.status_code == 302
    assert _count(app, Placement) == 3


def test_registration_warning(client, auth, world, make_enterprise, make_event) -> None:
    enterprise = make_enterprise()
    make_event(world["teacher1"], datetime(2026, 7, 8, 9), datetime(2026, 7, 8, 11))
    auth.login("head1")
    response = client.post(
        "/placements/new", data=_form(world["teacher1"].id, enterprise.id)
    )
    assert "alert-warning" in response.text
    assert "智能制造专家讲座" in response.text
    assert "2026-07-08" in response.text


def test_plain_form_offers_no_confirmation(
    client, auth, world, make_enterprise
) -> None:
    make_enterprise()
    auth.login("head1")
    assert 'name="confirm_conflicts"' not in client.get("/placements/new").text


def test_edit_excludes_the_placement_itself_from_conflicts(
    client,
    auth,
    app,
    world,
    placement,
) -> None:
    auth.login("head1")
    page = client.get(f"/placements/{placement.id}/edit")
    assert page.status_code == 200
    data = _form(
        world["teacher1"].id,
        placement.enterprise_id,
        starts_on="2026-03-02",
        ends_on="2026-03-20",
        working_days="15",
        notes="更新",
    )
    response = client.post(f"/placements/{placement.id}/edit", data=data)
    assert response.status_code == 302
    with app.app_context():
        saved = db.session.get(Placement, placement.id)
        assert (saved.ends_on, saved.working_days, saved.notes) == (
            date(2026, 3, 20),
            15,
            "更新",
        )
        assert saved.sequence == 1


def _download(client, url: str) -> bytes:
    response = client.get(url)
    try:
        assert response.status_code == 200
        assert response.headers["Content-Disposition"].startswith("attachment")
        return response.data
    finally:
        response.close()  # send_file streams from an open file


def test_lifecycle_over_http(client, auth, app, world, placement) -> None:
    auth.login("head1")
    url = f"/placements/{placement.id}"
    client.post(f"{url}/start")  # illegal from proposed: refused with a message
    with app.app_context():
        assert db.session.get(Placement, placement.id).status == "proposed"
    assert client.post(f"{url}/approve").status_code == 302
    assert client.post(f"{url}/start").status_code == 302
    response = client.post(f"{url}/complete", data={}, follow_redirects=True)
    assert "alert-danger" in response.text
    response = client.post(
        f"{url}/complete",
        data={"report": (io.BytesIO(b"plain text"), "report.txt")},
        content_type="multipart/form-data",
        follow_redirects=True,
    )
    assert "alert-danger" in response.text
    with app.app_context():
        assert db.session.get(Placement, placement.id).status == "in_progress"
    for _ in range(2):
        client.post(
            f"{url}/complete",
            data={"report": (io.BytesIO(PDF), "实践总结.pdf")},
            content_type="multipart/form-data",
        )
    with app.app_context():
        saved = db.session.get(Placement, placement.id)
        assert saved.status == "completed"
        activities = db.session.scalars(select(Activity)).all()
        assert [a.id for a in activities] == [saved.activity_id]
    assert client.get(f"{url}/edit").status_code == 302
    assert _download(client, f"{url}/report") == PDF
    auth.logout()
    auth.login("teacher1")
    assert _download(client, f"{url}/report") == PDF
    auth.logout()
    auth.login("teacher2")
    assert client.get(f"{url}/report").status_code == 404


def test_cancel_over_http_needs_reason(client, auth, app, placement) -> None:
    auth.login("head1")
    url = f"/placements/{placement.id}/cancel"
    client.post(url, data={"reason": ""})
    with app.app_context():
        assert db.session.get(Placement, placement.id).status == "proposed"
    client.post(url, data={"reason": "教师借调"})
    with app.app_context():
        saved = db.session.get(Placement, placement.id)
        assert (saved.status, saved.cancel_reason) == ("cancelled", "教师借调")


def test_actions_need_csrf(client, auth, app, placement) -> None:
    auth.login("head1")
    app.config["WTF_CSRF_ENABLED"] = True
    assert client.get(f"/placements/{placement.id}").status_code == 200
    response = client.post(f"/placements/{placement.id}/approve")
    assert response.status_code == 400
    with app.app_context():
        assert db.session.get(Placement, placement.id).status == "proposed"


def test_list_query_count_does_not_grow(
    client, auth, world, make_enterprise, make_placement, count_queries
) -> None:
    enterprises = [make_enterprise(f"企业{n}") for n in range(6)]
    auth.login("head1")

    def measure() -> int:
        with count_queries() as counter:
            assert client.get("/placements/").status_code == 200
        return counter.count

    for enterprise in enterprises[:2]:
        make_placement(world["teacher1"], enterprise)
    few = measure()
    for enterprise in enterprises[2:]:
        make_placement(world["teacher2"], enterprise)
        make_placement(world["head1"], enterprise)
    assert measure() == few
