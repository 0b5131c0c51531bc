"""Association staff and the regional ruleset layer (issue 14).

Staff view, draft, preview and publish the regional layer, and nothing of a
college's layer (404). Their preview shows, per college the draft would reach,
how many teachers and how many of them are dual-qualified before and after,
never a teacher's name. Every other admin page stays closed to them (403).
"""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from pdtracker.auth.models import Role
from pdtracker.extensions import db
from pdtracker.org.queries import college_teachers
from pdtracker.progress import records, services
from pdtracker.progress.models import StoredRuleset
from tests.tenancy.conftest import build_two_colleges
from tests.tenancy.conftest import table_rows as table_rows  # the fixture

LAYER = """\
name = "{name}"
extends = "cn-vocational-default"

[[levels]]
code = "primary"

[[levels.requirements]]
code = "training_hours"
threshold = 400
"""
NAMES = ("teacher1", "teacher2", "head1", "head2", "north_teacher1", "north_head1")


@pytest.fixture
def two_colleges(app):
    """The cross-college cast of tests/tenancy/conftest.py."""
    return build_two_colleges(app)


def _upload(client, name: str) -> int:
    response = client.post(
        "/admin/rulesets/new", data={"document": LAYER.format(name=name)}
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return int(re.search(r"/admin/rulesets/(\d+)", response.location).group(1))


def _impact(page: str) -> dict[int, dict[str, int]]:
    rows = re.findall(
        r'data-college="(\d+)" data-teachers="(\d+)" data-professional="(\d+)" '
        r'data-before="(\d+)" data-after="(\d+)" data-changed="(\d+)"',
        page,
    )
    keys = ("teachers", "professional", "before", "after", "changed")
    return {int(r[0]): dict(zip(keys, map(int, r[1:]), strict=True)) for r in rows}


def test_staff_publish_the_regional_layer(app, client, auth, two_colleges):
    auth.login("staff1")
    listing = client.get("/admin/rulesets")
    assert listing.status_code == 200
    assert 'id="layer-regional"' in listing.get_data(as_text=True)
    regional = _upload(client, "regional-layer")
    with app.app_context():
        assert db.session.get(StoredRuleset, regional).institution_id is None
    preview = client.get(f"/admin/rulesets/{regional}")
    assert preview.status_code == 200
    assert "no-store" in preview.headers["Cache-Control"]
    assert f"/admin/rulesets/{regional}/publish" in preview.get_data(as_text=True)
    assert client.post(f"/admin/rulesets/{regional}/publish").status_code == 302
    with app.app_context():
        rec = db.session.get(StoredRuleset, regional)
        assert rec.is_published
        assert rec.is_active
        assert records.active_ruleset_for(two_colleges["north"].id).name == (
            "regional-layer"
        )


def test_staff_never_reach_a_colleges_layer(
    app, client, auth, two_colleges, table_rows
):
    auth.login("cadmin1")
    demo = _upload(client, "demo-layer")
    client.get(f"/admin/rulesets/{demo}")  # shows (and spends) the upload's flash
    auth.logout()
    auth.login("staff1")
    listing = client.get("/admin/rulesets").get_data(as_text=True)
    assert f'data-ruleset="{demo}"' not in listing
    assert "demo-layer" not in listing
    before = table_rows()
    assert client.get(f"/admin/rulesets/{demo}").status_code == 404
    assert client.get(f"/admin/rulesets/{demo}/edit").status_code == 404
    assert client.get(f"/admin/rulesets/new?from={demo}").status_code == 404
    assert client.post(f"/admin/rulesets/{demo}/publish").status_code == 404
    assert table_rows() == before


@pytest.mark.parametrize(
    "path", ["/admin/users", "/admin/departments", "/admin/institutions"]
)
def test_staff_keep_out_of_the_rest_of_admin(client, auth, two_colleges, path):
    auth.login("staff1")
    assert client.get(path).status_code == 403


def test_staff_preview_shows_colleges_not_names(app, client, auth, two_colleges):
    w = two_colleges
    auth.login("staff1")
    regional = _upload(client, "regional-layer")
    page = client.get(f"/admin/rulesets/{regional}").get_data(as_text=True)
    for name in NAMES:
        assert name not in page
    assert 'id="preview-levels"' not in page
    assert "北城职业技术学院" in page
    impact = _impact(page)
    assert set(impact) == {w["demo"].id, w["north"].id}
    with app.app_context():
        rec = db.session.get(StoredRuleset, regional)
        proposed = records.ActiveRuleset(
            records.parse_record(rec), rec.name, rec.version, rec.id, None
        )
        for college, figures in impact.items():
            teachers = college_teachers(college)
            active = records.active_ruleset_for(college)
            pairs = [
                (
                    services.evaluate_teacher(t, active=active),
                    services.evaluate_teacher(t, active=proposed),
                )
                for t in teachers
            ]
            professional = [p for p in pairs if p[0].professional_course]
            assert figures == {
                "teachers": len(teachers),
                "professional": len(professional),
                "before": sum(a.dual_qualified for a, _ in professional),
                "after": sum(b.dual_qualified for _, b in professional),
                "changed": sum(a.report.level != b.report.level for a, b in pairs),
            }
    assert impact[w["demo"].id]["teachers"] == 4


def test_staff_preview_leaves_out_colleges_with_their_own_layer(
    app, client, auth, two_colleges
):
    w = two_colleges
    auth.login("cadmin1")
    demo = _upload(client, "demo-layer")
    assert client.post(f"/admin/rulesets/{demo}/publish").status_code == 302
    auth.logout()
    auth.login("staff1")
    regional = _upload(client, "regional-layer")
    page = client.get(f"/admin/rulesets/{regional}").get_data(as_text=True)
    assert set(_impact(page)) == {w["north"].id}


def test_staff_preview_queries_do_not_grow_with_colleges(
    app, client, auth, two_colleges, make_department, make_user, count_queries
):
    auth.login("staff1")
    regional = _upload(client, "regional-layer")

    def count() -> int:
        client.get(f"/admin/rulesets/{regional}")
        with count_queries() as counter:
            page = client.get(f"/admin/rulesets/{regional}").get_data(as_text=True)
        return counter.count, len(_impact(page))

    few, colleges = count()
    for n in range(3):
        dept = make_department("AI", f"新系{n}", institution=f"NEW{n}")
        make_user(f"x{n}", department=dept)
    many, more = count()
    assert (more, many) == (colleges + 3, few)


def test_staff_see_the_rulesets_link(app, client, auth, two_colleges, make_user):
    for username in ("staff1", "cadmin1"):
        auth.login(username)
        page = client.get("/notifications/").get_data(as_text=True)
        assert 'href="/admin/rulesets"' in page
        auth.logout()
    make_user("mentor9", Role.MENTOR)
    auth.login("mentor9")
    assert client.get("/admin/rulesets").status_code == 403
    with app.app_context():
        assert db.session.scalar(select(StoredRuleset.id)) is None
