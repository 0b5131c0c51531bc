"""The cross-college cast every ``tests/tenancy/test_matrix_<area>.py`` uses.

``two_colleges`` builds one deployment with two member colleges and returns a
dict (rows are detached; read their ids and columns, not relationships):

Colleges and departments
    ``demo``, ``north``: the two ``Institution`` rows (codes DEMO and NORTH).
    ``demo_ai``, ``demo_me``: DEMO's departments (AI, ME).
    ``north_ai``, ``north_me``: NORTH's departments (AI, ME).

People (password ``pdtracker-demo``; log in with ``auth.login(username)``)
    ``teacher1``, ``teacher2``: teachers of DEMO/AI.
    ``head1``: head (and teacher) of DEMO/AI; ``head2``: head of DEMO/ME.
    ``north_teacher1``, ``north_teacher2``: teachers of NORTH/AI.
    ``north_head1``: head of NORTH/AI; ``north_head2``: head of NORTH/ME.
    ``cadmin1``: college admin of DEMO; ``cadmin2``: college admin of NORTH.
    ``staff1``: association staff (no college); ``admin``: the deployment admin.

Objects, one per college side (``"own"`` is DEMO, ``"other"`` is NORTH)
    ``activity``: ``{"own": …, "other": …}``: a completed lecture of teacher1 /
        north_teacher1, each with one evidence file (``evidence``, same keys).
    ``head_activity``: ``{"own": …, "other": …}``: a completed lecture of head1 /
        north_head1 (what a college admin reviews).
    ``teacher``, ``head``, ``department``: ``{"own": …, "other": …}`` shortcuts
        to teacher1 / north_teacher1, head1 / north_head1, demo_ai / north_ai.

The acting cast is always DEMO's: ``ACTORS`` maps each role to its username
(teacher → teacher1, head → head1, college_admin → cadmin1, staff → staff1,
admin → admin), so "own" objects are the actor's college and "other" ones are
NORTH's. ``SIDES`` is ``("own", "other")``.

``table_rows`` snapshots every row of every table (or of the tables named), so a
matrix can assert that a refused request changed nothing at all, not just counts.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from pdtracker.activities.models import EvidenceFile
from pdtracker.auth.models import Role
from pdtracker.extensions import db
from tests import factories
from tests.support import Prebuilt

ACTORS = {
    "teacher": "teacher1",
    "head": "head1",
    "college_admin": "cadmin1",
    "staff": "staff1",
    "admin": "admin",
}
ROLES = tuple(ACTORS)
SIDES = ("own", "other")

PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<<>>\n%%EOF\n"


def _evidence(app: Flask, activity_id: int) -> EvidenceFile:
    from pdtracker.activities.evidence import save_upload

    with app.app_context():
        stored = save_upload(
            io.BytesIO(PDF), "证明.pdf", app.config["UPLOAD_FOLDER"], 10 * 1024 * 1024
        )
        evidence = EvidenceFile(
            activity_id=activity_id,
            original_name=stored.original_name,
            stored_name=stored.stored_name,
            content_type=stored.content_type,
            size_bytes=stored.size_bytes,
            sha256=stored.sha256,
        )
        db.session.add(evidence)
        db.session.commit()
        return factories.detached(evidence)


def build_two_colleges(app: Flask) -> dict[str, Any]:
    """The cast described in the module docstring (callable without pytest)."""
    user = factories.make_user
    dept = factories.make_department
    w: dict[str, Any] = {
        "demo_ai": dept(app, "AI", "人工智能技术应用系", institution="DEMO"),
        "demo_me": dept(app, "ME", "机电工程系", institution="DEMO"),
        "north_ai": dept(app, "AI", "北城人工智能系", institution="NORTH"),
        "north_me": dept(app, "ME", "北城机电系", institution="NORTH"),
    }
    w["demo"] = factories.make_institution(app, "DEMO")
    w["north"] = factories.make_institution(app, "NORTH")
    t, h = Role.TEACHER, Role.HEAD
    for name, roles, department in (
        ("teacher1", (t,), "demo_ai"),
        ("teacher2", (t,), "demo_ai"),
        ("head1", (h, t), "demo_ai"),
        ("head2", (h, t), "demo_me"),
        ("north_teacher1", (t,), "north_ai"),
        ("north_teacher2", (t,), "north_ai"),
        ("north_head1", (h, t), "north_ai"),
        ("north_head2", (h, t), "north_me"),
    ):
        w[name] = user(app, name, *roles, department=w[department])
    w["cadmin1"] = user(app, "cadmin1", Role.COLLEGE_ADMIN, institution_id=w["demo"].id)
    w["cadmin2"] = user(
        app, "cadmin2", Role.COLLEGE_ADMIN, institution_id=w["north"].id
    )
    w["staff1"] = user(app, "staff1", Role.STAFF)
    w["admin"] = user(app, "admin", Role.ADMIN)
    w["teacher"] = {"own": w["teacher1"], "other": w["north_teacher1"]}
    w["head"] = {"own": w["head1"], "other": w["north_head1"]}
    w["department"] = {"own": w["demo_ai"], "other": w["north_ai"]}
    w["activity"], w["evidence"], w["head_activity"] = {}, {}, {}
    for side in SIDES:
        activity = factories.make_activity(
            app, w["teacher"][side], title=f"{side}-college lecture"
        )
        w["activity"][side] = activity
        w["evidence"][side] = _evidence(app, activity.id)
        w["head_activity"][side] = factories.make_activity(
            app, w["head"][side], title=f"{side}-college head lecture"
        )
    return w


_PREBUILT = Prebuilt(build_two_colleges)


@pytest.fixture
def two_colleges(
    app: Flask, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Any]:
    """Two member colleges, DEMO and NORTH, with their people and objects (see above).

    Built through the factories by the first test of a process; later tests get the
    rows and evidence files that wrote (tests.support.Prebuilt).
    """
    return _PREBUILT(app, lambda: tmp_path_factory.mktemp("two_colleges"))


@pytest.fixture
def table_rows(app: Flask) -> Callable[..., dict[str, list[tuple]]]:
    """Every row of every table (or of ``tables``), sorted, for before/after checks."""

    def snapshot(tables: Iterable[str] | None = None) -> dict[str, list[tuple]]:
        wanted = set(tables) if tables is not None else None
        out: dict[str, list[tuple]] = {}
        with app.app_context(), db.engine.connect() as conn:
            for table in db.metadata.sorted_tables:
                if wanted is not None and table.name not in wanted:
                    continue
                rows = conn.execute(select(table)).all()
                out[table.name] = sorted((tuple(r) for r in rows), key=repr)
        return out

    return snapshot
