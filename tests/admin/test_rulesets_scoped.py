"""Ruleset pages per scope, through the client (docs/status-rules.md S22).

A college admin uploads, previews and publishes their college's layer; their
college's teachers are then evaluated under it and the pages say so, while the
other college keeps the regional rules. The deployment admin publishes the
regional layer and may look at each college's, without changing them.
"""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from pdtracker.audit import AuditEntry
from pdtracker.extensions import db
from pdtracker.progress.models import StoredRuleset
from tests.tenancy.conftest import build_two_colleges
from tests.tenancy.conftest import table_rows as table_rows  # the fixture

LAYER = """\
name = "demo-layer"
extends = "cn-vocational-default"
title = { zh = "示范学院细则", en = "Demo college rules" }

[[levels]]
code = "primary"

[[levels.requirements]]
code = "training_hours"
threshold = 400
"""


@pytest.fixture
def two_colleges(app):
    """The cross-college cast of tests/tenancy/conftest.py."""
    return build_two_colleges(app)


def _english(client) -> None:
    client.post("/language", data={"locale": "en"})


def _upload(client, text: str) -> int:
    response = client.post("/admin/rulesets/new", data={"document": text})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return int(re.search(r"/admin/rulesets/(\d+)", response.location).group(1))


def _applied(page: str) -> tuple[str, str, str]:
    found = re.search(
        r'id="ruleset-applied" data-ruleset-name="([^"]+)" '
        r'data-ruleset-version="(\d+)" data-layer="(\w+)"',
        page,
    )
    assert found, page[:300]
    return found.group(1), found.group(2), found.group(3)


def test_a_college_admin_publishes_their_colleges_layer(
    app, client, auth, two_colleges
):
    w = two_colleges
    auth.login("cadmin1")
    _english(client)
    ruleset_id = _upload(client, LAYER)
    with app.app_context():
        rec = db.session.get(StoredRuleset, ruleset_id)
        assert (rec.institution_id, rec.status) == (w["demo"].id, "draft")
    preview = client.get(f"/admin/rulesets/{ruleset_id}").get_data(as_text=True)
    assert "College layer: 示范职业技术学院" in preview
    assert "北城" not in preview  # only DEMO's departments to try it on
    response = client.post(f"/admin/rulesets/{ruleset_id}/publish")
    assert response.status_code == 302
    # The college's pages say which version applied, and whose layer it is.
    page = client.get(f"/progress/department?department={w['demo_ai'].id}").get_data(
        as_text=True
    )
    assert _applied(page) == ("demo-layer", "1", "college")
    college = client.get("/progress/college").get_data(as_text=True)
    assert _applied(college) == ("demo-layer", "1", "college")
    assert str(w["demo_me"].id) in college
    auth.logout()
    auth.login("teacher1")
    assert _applied(client.get("/progress/").get_data(as_text=True))[2] == "college"
    auth.logout()
    # NORTH is untouched: the regional rules (the shipped default, recorded as
    # the regional layer when DEMO's layer named it as its parent).
    auth.login("north_teacher1")
    mine = _applied(client.get("/progress/").get_data(as_text=True))
    assert mine == ("cn-vocational-default", "1", "regional")
    with app.app_context():
        entries = db.session.scalars(
            select(AuditEntry).where(AuditEntry.action == "ruleset.publish")
        ).all()
        assert [e.details["institution_id"] for e in entries] == [w["demo"].id]


def test_lists_show_each_actor_their_scopes(app, client, auth, two_colleges):
    w = two_colleges
    auth.login("cadmin2")
    north = _upload(client, LAYER.replace("demo-layer", "north-layer"))
    auth.logout()
    auth.login("cadmin1")
    demo = _upload(client, LAYER)
    listing = client.get("/admin/rulesets").get_data(as_text=True)
    assert f'data-ruleset="{demo}"' in listing
    assert f'data-ruleset="{north}"' not in listing
    assert f'id="layer-college-{w["north"].id}"' not in listing
    auth.logout()
    auth.login("admin")
    listing = client.get("/admin/rulesets").get_data(as_text=True)
    assert f'data-ruleset="{demo}"' in listing
    assert f'data-ruleset="{north}"' in listing
    assert 'id="layer-regional"' in listing
    # The admin views a college's draft but is offered no way to change it.
    preview = client.get(f"/admin/rulesets/{demo}").get_data(as_text=True)
    assert f"/admin/rulesets/{demo}/publish" not in preview
    assert f"/admin/rulesets/{demo}/edit" not in preview
    # The admin's own uploads go to the regional layer.
    regional = _upload(client, LAYER.replace("demo-layer", "regional-layer"))
    with app.app_context():
        assert db.session.get(StoredRuleset, regional).institution_id is None


def test_a_college_layer_must_build_on_the_regional_one(
    app, client, auth, two_colleges, table_rows
):
    auth.login("cadmin1")
    _english(client)
    before = table_rows()
    wrong = LAYER.replace("cn-vocational-default", "cn-province-example")
    page = client.post("/admin/rulesets/new", data={"document": wrong})
    assert page.status_code == 200
    assert "not part of the regional layer" in page.get_data(as_text=True)
    # A shipped regional name stays the regional layer's, published or not.
    taken = LAYER.replace("demo-layer", "cn-province-example")
    page = client.post("/admin/rulesets/new", data={"document": taken})
    assert "belongs to another layer" in page.get_data(as_text=True)
    assert table_rows() == before


@pytest.mark.parametrize("role", ["cadmin1", "admin"])
def test_college_page_queries_do_not_grow_with_departments(
    app, client, auth, two_colleges, make_department, make_user, count_queries, role
):
    def warm_count() -> int:
        client.get("/progress/college")
        with count_queries() as counter:
            assert client.get("/progress/college").status_code == 200
        return counter.count

    auth.login(role)
    few = warm_count()
    for n in range(3):
        dept = make_department(f"X{n}", f"新系{n}", institution="DEMO")
        make_user(f"x{n}", department=dept)
    assert warm_count() == few


def test_a_layer_on_an_older_regional_version_says_so(app, client, auth, two_colleges):
    auth.login("cadmin1")
    demo = _upload(client, LAYER)
    assert client.post(f"/admin/rulesets/{demo}/publish").status_code == 302
    listing = client.get("/admin/rulesets").get_data(as_text=True)
    assert "data-stale-parent" not in listing
    auth.logout()
    auth.login("admin")
    # The regional layer publishes the default's document again: version 2.
    with app.app_context():
        default_id = db.session.scalar(
            select(StoredRuleset.id).where(
                StoredRuleset.name == "cn-vocational-default"
            )
        )
    assert client.post(f"/admin/rulesets/{default_id}/republish").status_code == 302
    auth.logout()
    auth.login("cadmin1")
    listing = client.get("/admin/rulesets").get_data(as_text=True)
    assert "data-stale-parent" in listing


def test_a_regional_draft_is_tried_on_colleges_it_would_reach(
    app, client, auth, two_colleges
):
    w = two_colleges
    auth.login("cadmin1")
    demo = _upload(client, LAYER)
    assert client.post(f"/admin/rulesets/{demo}/publish").status_code == 302
    auth.logout()
    auth.login("admin")
    regional = _upload(client, LAYER.replace("demo-layer", "regional-layer"))
    page = client.get(f"/admin/rulesets/{regional}").get_data(as_text=True)
    # DEMO has its own layer: the regional draft would not reach its teachers.
    offered = set(re.findall(r'<option[^>]* value="(\d+)"', page))
    assert str(w["north_ai"].id) in offered
    assert str(w["demo_ai"].id) not in offered
