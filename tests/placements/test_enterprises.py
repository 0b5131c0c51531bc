"""The enterprise list for association staff and admins."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from pdtracker.audit import AuditEntry
from pdtracker.extensions import db
from pdtracker.placements.models import Enterprise


def _data(**extra) -> dict:
    data = {
        "name": "格力电器",
        "sector": "智能制造",
        "city": "珠海",
        "contact_name": "李经理",
        "contact_phone": "0756-0000000",
        "placement_capacity": "3",
    }
    data.update(extra)
    return data


@pytest.mark.parametrize(("user", "code"), [("staff1", 200), ("admin", 200)])
def test_staff_and_admin_see_the_list(
    client, auth, world, make_enterprise, user, code
) -> None:
    make_enterprise("华为技术有限公司")
    auth.login(user)
    response = client.get("/placements/enterprises")
    assert response.status_code == code
    assert "华为技术有限公司" in response.text


@pytest.mark.parametrize("user", ["teacher1", "head1"])
def test_teachers_and_heads_cannot_edit_enterprises(
    client,
    auth,
    world,
    make_enterprise,
    table_counts,
    user,
) -> None:
    enterprise = make_enterprise()
    auth.login(user)
    before = table_counts()
    assert client.get("/placements/enterprises").status_code == 403
    assert client.post("/placements/enterprises/new", data=_data()).status_code == 403
    url = f"/placements/enterprises/{enterprise.id}/edit"
    assert client.post(url, data=_data()).status_code == 403
    assert table_counts() == before


def test_create_and_edit(client, auth, app, world) -> None:
    auth.login("staff1")
    response = client.post("/placements/enterprises/new", data=_data(sector=""))
    assert response.status_code == 302
    with app.app_context():
        enterprise = db.session.scalar(select(Enterprise))
        assert (enterprise.name, enterprise.placement_capacity) == ("格力电器", 3)
        assert enterprise.sector is None
        enterprise_id = enterprise.id
    url = f"/placements/enterprises/{enterprise_id}/edit"
    assert client.get(url).status_code == 200
    # Keeping its own name is not a duplicate.
    response = client.post(url, data=_data(placement_capacity="0"))
    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(Enterprise, enterprise_id).placement_capacity == 0
        actions = db.session.scalars(
            select(AuditEntry.action).where(AuditEntry.object_type == "enterprise")
        ).all()
        assert sorted(actions) == ["enterprise.create", "enterprise.update"]
    assert client.get("/placements/enterprises/9999/edit").status_code == 404


@pytest.mark.parametrize(
    "extra",
    [
        {"name": ""},
        {"name": " 华为技术有限公司 "},
        {"placement_capacity": "-1"},
        {"placement_capacity": ""},
        {"placement_capacity": "many"},
        {"name": "长" * 201},
    ],
)
def test_invalid_enterprise_is_refused(
    client,
    auth,
    world,
    make_enterprise,
    table_counts,
    extra,
) -> None:
    make_enterprise("华为技术有限公司")
    auth.login("admin")
    before = table_counts()
    response = client.post("/placements/enterprises/new", data=_data(**extra))
    assert response.status_code == 200
    assert "is-invalid" in response.text
    assert table_counts() == before


def test_renaming_onto_another_name_is_refused(
    client,
    auth,
    app,
    world,
    make_enterprise,
) -> None:
    make_enterprise("甲公司")
    other = make_enterprise("乙公司")
    auth.login("staff1")
    response = client.post(
        f"/placements/enterprises/{other.id}/edit", data=_data(name="甲公司")
    )
    assert response.status_code == 200
    assert "is-invalid" in response.text
    with app.app_context():
        assert db.session.get(Enterprise, other.id).name == "乙公司"
