"""Progress pages and ruleset layers across two colleges: route × role × own/other.

The department page: a head sees their department, a college admin any of their
college's, the deployment admin any; the college view: a college admin their
college, the deployment admin any; a teacher's page: the teacher, the heads of
their department, their college admin and the deployment admin. Ruleset versions:
a college admin sees and changes their college's layer only; the deployment admin
views every college's and changes none (the regional layer is theirs, and the
association staff's, who reach nothing else of the admin area). Everything
else is 404 (403 for a role the area is closed to), and a refused request changes
no row. docs/status-rules.md S22.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from pdtracker.auth.models import Role, User
from pdtracker.extensions import db
from pdtracker.progress import records
from tests import factories
from tests.tenancy.conftest import ACTORS, ROLES, SIDES

NOW = datetime(2026, 12, 7, 2, 0, tzinfo=UTC)


def _layer(name: str, threshold: int) -> str:
    return (
        f'name = "{name}"\nextends = "cn-vocational-default"\n\n'
        '[[levels]]\ncode = "primary"\n\n'
        f'[[levels.requirements]]\ncode = "training_hours"\nthreshold = {threshold}\n'
    )


@pytest.fixture
def layered(app, two_colleges) -> dict[str, Any]:
    """A published layer and a draft per college, and a regional draft."""
    w = two_colleges
    out: dict[str, Any] = {"ruleset": {}, "draft": {}, "document": {}}
    factories.make_user(app, "mentor1", Role.MENTOR)
    with app.app_context():
        for side, admin, name in (("own", "cadmin1", "demo-layer"),
                                  ("other", "cadmin2", "north-layer")):  # fmt: skip
            actor = db.session.scalar(db.select(User).filter_by(username=admin))
            scope = w["department"][side].institution_id
            rec = records.create_draft(
                _layer(name, 400), "toml", actor=actor, now=NOW, institution_id=scope
            )
            records.publish(rec, actor=actor, now=NOW)
            draft = records.create_draft(
                _layer(name, 420), "toml", actor=actor, now=NOW, institution_id=scope
            )
            out["ruleset"][side], out["draft"][side] = rec.id, draft.id
            out["document"][side] = _layer(name, 430)
        admin = db.session.scalar(db.select(User).filter_by(username="admin"))
        regional = records.create_draft(
            _layer("regional-layer", 380), "toml", actor=admin, now=NOW
        )
        out["regional"] = regional.id
        db.session.commit()
    return {**w, **out}


# route → (method, path, body); {teacher}, {dept}, {college}, {ruleset}, {draft}.
ROUTES: dict[str, tuple[str, str, Any]] = {
    "dashboard": ("GET", "/progress/", None),
    "teacher": ("GET", "/progress/teachers/{teacher}", None),
    "department": ("GET", "/progress/department?department={dept}", None),
    "department_csv": ("GET", "/progress/department.csv?department={dept}", None),
    "department_xlsx": ("GET", "/progress/department.xlsx?department={dept}", None),
    "college": ("GET", "/progress/college?college={college}", None),
    "rulesets": ("GET", "/admin/rulesets", None),
    "ruleset_new_form": ("GET", "/admin/rulesets/new", None),
    "ruleset_new_from": ("GET", "/admin/rulesets/new?from={ruleset}", None),
    "ruleset_preview": ("GET", "/admin/rulesets/{ruleset}", None),
    "draft_preview": ("GET", "/admin/rulesets/{draft}", None),
    "regional_preview": ("GET", "/admin/rulesets/{regional}", None),
    "draft_edit_form": ("GET", "/admin/rulesets/{draft}/edit", None),
    "draft_edit": (
        "POST",
        "/admin/rulesets/{draft}/edit",
        lambda w, side: {"document": w["document"][side]},
    ),
    "publish": ("POST", "/admin/rulesets/{draft}/publish", None),
    "republish": ("POST", "/admin/rulesets/{ruleset}/republish", None),
    # The regional layer (one object for both sides): its staff and the admin.
    "regional_edit_form": ("GET", "/admin/rulesets/{regional}/edit", None),
    "regional_edit": (
        "POST",
        "/admin/rulesets/{regional}/edit",
        lambda w, side: {"document": _layer("regional-layer", 390)},
    ),
    "regional_publish": ("POST", "/admin/rulesets/{regional}/publish", None),
}
REGIONAL = {"regional_preview", "regional_edit_form", "regional_edit",
            "regional_publish"}  # fmt: skip
MATRIX_ACTORS = {**ACTORS, "mentor": "mentor1"}
MATRIX_ROLES = (*ROLES, "mentor")
PROGRESS_MANAGERS = {"head", "college_admin", "admin"}
# Versions a college admin may change (their own college's) and nobody else may.
CHANGES = {"draft_edit_form", "draft_edit", "publish", "republish"}
OWN_SCOPE_VIEWS = {"ruleset_new_from", "ruleset_preview", "draft_preview"}


def _expected(route: str, role: str, side: str) -> int:
    method = ROUTES[route][0]
    success = 302 if method == "POST" else 200
    own = side == "own"
    if route == "dashboard":
        return 200 if role in {"teacher", "head"} else 403
    if route == "teacher":
        # teacher1 (own) is the teacher themselves and in head1's department.
        if role == "admin" or (own and role not in {"staff", "mentor"}):
            return 200
        return 404
    if route.startswith("department"):
        if role not in PROGRESS_MANAGERS:
            return 403
        return 200 if own or role == "admin" else 404
    if route == "college":
        if role not in {"college_admin", "admin"}:
            return 403
        return 200 if own or role == "admin" else 404
    # The admin area: teachers, heads and mentors are refused the whole of it;
    # staff reach the rulesets, and in them the regional layer only.
    if role not in {"college_admin", "admin", "staff"}:
        return 403
    if route in {"rulesets", "ruleset_new_form"}:
        return 200
    if route in REGIONAL:
        return success if role in {"admin", "staff"} else 404
    if role == "staff":
        return 404
    if route in OWN_SCOPE_VIEWS:
        return 200 if own or role == "admin" else 404
    assert route in CHANGES
    return success if own and role == "college_admin" else 404


CASES = [
    pytest.param(route, role, side, id=f"{route}-{role}-{side}")
    for route in ROUTES
    for role in MATRIX_ROLES
    for side in SIDES
]


@pytest.mark.parametrize(("route", "role", "side"), CASES)
def test_progress_matrix(client, auth, layered, table_rows, route, role, side):
    w = layered
    method, template, body = ROUTES[route]
    path = template.format(
        teacher=w["teacher"][side].id,
        dept=w["department"][side].id,
        college=w["department"][side].institution_id,
        ruleset=w["ruleset"][side],
        draft=w["draft"][side],
        regional=w["regional"],
    )
    data = body(w, side) if callable(body) else body
    auth.login(MATRIX_ACTORS[role])
    before = table_rows()

    response = client.open(path, method=method, data=data)

    expected = _expected(route, role, side)
    assert response.status_code == expected, response.get_data(as_text=True)[:300]
    if expected in {403, 404} or method == "GET":
        after = table_rows()
        if expected == 200:  # a page shown may store its rows: a cache, not data
            before.pop("teacher_page_rows", None)
            after.pop("teacher_page_rows", None)
        assert after == before
    if response.mimetype == "text/html" and expected == 200:
        assert "no-store" in response.headers.get("Cache-Control", "")
        page = response.get_data(as_text=True)
        if role in {"college_admin", "head", "teacher"}:
            assert "north_teacher" not in page
            assert "北城" not in page
            assert "north-layer" not in page
        if role in {"staff", "mentor"}:  # counts per college, never a name
            assert "teacher1" not in page
            assert "north_teacher" not in page
