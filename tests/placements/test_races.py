"""Simultaneous lifecycle requests on one placement: each transition happens once."""

from __future__ import annotations

import io
from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from pdtracker.activities.models import Activity
from pdtracker.audit import AuditEntry
from pdtracker.auth.models import Role
from pdtracker.extensions import db
from pdtracker.placements.models import Placement
from tests.concurrency import at_once, signed_in
from tests.conftest import requires_postgres
from tests.placements.conftest import PDF

REQUESTS = 10


def _post_at_once(clients: list[FlaskClient], url: str, make_data) -> list:
    """POST from every client at once; the final pages as (status, text) or errors."""

    def post(client: FlaskClient) -> tuple[int, str]:
        response = client.post(
            url,
            data=make_data(),
            content_type="multipart/form-data",
            follow_redirects=True,
        )
        return response.status_code, response.text

    return at_once(*(lambda c=client: post(c) for client in clients))


def _reports_on_disk(app: Flask) -> list[Path]:
    root = Path(app.config["UPLOAD_FOLDER"])
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def _audit_count(app: Flask, action: str) -> int:
    with app.app_context():
        return db.session.scalar(
            select(func.count())
            .select_from(AuditEntry)
            .where(AuditEntry.action == action)
        )


def _race(app, make_department, make_user, make_enterprise, make_placement) -> None:
    dept = make_department()
    teacher = make_user("t-race", Role.TEACHER, department=dept)
    make_user("h-race", Role.HEAD, Role.TEACHER, department=dept, locale="en")
    placement = make_placement(teacher, make_enterprise(), status="in_progress")
    clients = [signed_in(app, "h-race") for _ in range(REQUESTS)]

    pages = _post_at_once(
        clients,
        f"/placements/{placement.id}/complete",
        lambda: {"report": (io.BytesIO(PDF), "实践总结.pdf")},
    )

    assert [p for p in pages if not isinstance(p, tuple)] == []
    assert {status for status, _ in pages} == {200}
    with app.app_context():
        saved = db.session.get(Placement, placement.id)
        assert saved.status == "completed"
        activities = db.session.scalars(select(Activity.id)).all()
        assert activities == [saved.activity_id]
        assert saved.sequence == 1
    assert _audit_count(app, "placement.completed") == 1
    assert _audit_count(app, "activity.create") == 1
    on_disk = _reports_on_disk(app)
    assert [p.name for p in on_disk] == [saved.report_stored_name]
    assert on_disk[0].read_bytes() == PDF
    # One head is told of the credit, the others that it was done already.
    won = [text for _, text in pages if "credited to the teacher" in text]
    lost = [text for _, text in pages if "already been completed" in text]
    assert (len(won), len(lost)) == (1, REQUESTS - 1)


def _completion_race(*fixtures) -> None:
    app = fixtures[0]
    try:
        _race(*fixtures)
    finally:
        # The threads opened several pooled connections; close them now, not at GC.
        with app.app_context():
            db.engine.dispose()


@requires_postgres
def test_simultaneous_completions_credit_once_on_postgresql(
    app, make_department, make_user, make_enterprise, make_placement
) -> None:
    assert app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql")
    _completion_race(app, make_department, make_user, make_enterprise, make_placement)


def test_simultaneous_completions_credit_once_on_the_configured_database(
    app, make_department, make_user, make_enterprise, make_placement
) -> None:
    """The same race on SQLite (the default database), where the write lock serialises."""
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        return  # covered above
    _completion_race(app, make_department, make_user, make_enterprise, make_placement)


def _steps_race(
    app, make_department, make_user, make_enterprise, make_placement
) -> None:
    dept = make_department()
    teacher = make_user("t-steps", Role.TEACHER, department=dept)
    make_user("h-steps", Role.HEAD, Role.TEACHER, department=dept, locale="en")
    placement = make_placement(teacher, make_enterprise())
    clients = [signed_in(app, "h-steps") for _ in range(5)]
    url = f"/placements/{placement.id}"
    steps = [
        ("approve", {}, "placement.approved", "approved", "already been approved"),
        ("start", {}, "placement.in_progress", "in_progress", "already in progress"),
        ("cancel", {"reason": "企业停产"}, "placement.cancelled", "cancelled",
         "already been cancelled"),
    ]  # fmt: skip
    for sequence, (step, data, action, status, refusal) in enumerate(steps, 1):
        pages = _post_at_once(clients, f"{url}/{step}", lambda data=data: dict(data))
        assert [p for p in pages if not isinstance(p, tuple)] == []
        with app.app_context():
            saved = db.session.get(Placement, placement.id)
            assert (saved.status, saved.sequence) == (status, sequence)
        assert _audit_count(app, action) == 1
        assert sum(refusal in text for _, text in pages) == len(clients) - 1


def _steps(*fixtures) -> None:
    app = fixtures[0]
    try:
        _steps_race(*fixtures)
    finally:
        with app.app_context():
            db.engine.dispose()


@requires_postgres
def test_simultaneous_steps_happen_once_on_postgresql(
    app, make_department, make_user, make_enterprise, make_placement
) -> None:
    """Approve, start and cancel: five heads at once, one transition each."""
    _steps(app, make_department, make_user, make_enterprise, make_placement)


def test_simultaneous_steps_happen_once_on_the_configured_database(
    app, make_department, make_user, make_enterprise, make_placement
) -> None:
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        return  # covered above
    _steps(app, make_department, make_user, make_enterprise, make_placement)


def _edit_form(placement: Placement, tasks: str) -> dict:
    return {
        "teacher_id": str(placement.teacher_id),
        "enterprise_id": str(placement.enterprise_id),
        "starts_on": placement.starts_on.isoformat(),
        "ends_on": placement.ends_on.isoformat(),
        "working_days": str(placement.working_days),
        "tasks": tasks,
        "confirm_conflicts": "y",  # earlier rounds' placements overlap this one
    }


def _edit_race(
    app, make_department, make_user, make_enterprise, make_placement
) -> None:
    dept = make_department()
    teacher = make_user("t-edit", Role.TEACHER, department=dept)
    make_user("h-edit", Role.HEAD, Role.TEACHER, department=dept, locale="en")
    enterprise = make_enterprise(placement_capacity=100)
    editor, completer = signed_in(app, "h-edit"), signed_in(app, "h-edit")
    for _ in range(8):
        placement = make_placement(teacher, enterprise, status="in_progress")
        url = f"/placements/{placement.id}"
        edit_data = _edit_form(placement, "改后")
        report = {"report": (io.BytesIO(PDF), "实践总结.pdf")}
        pages = at_once(
            lambda u=url, d=edit_data: editor.post(f"{u}/edit", data=d),
            lambda u=url, d=report: completer.post(f"{u}/complete", data=d),
        )
        assert [getattr(p, "status_code", p) for p in pages] == [302, 302]
        with app.app_context():
            saved = db.session.get(Placement, placement.id)
            actions = db.session.scalars(
                select(AuditEntry.action)
                .where(
                    AuditEntry.object_type == "placement",
                    AuditEntry.object_id == placement.id,
                )
                .order_by(AuditEntry.id)
            ).all()
        assert saved.status == "completed"
        # The edit came first, or it was refused: a completed plan never changes.
        assert actions in (
            ["placement.update", "placement.completed"],
            ["placement.completed"],
        )
        assert saved.tasks == ("改后" if len(actions) == 2 else None)


def test_an_edit_racing_completion_never_changes_a_completed_placement(
    app, make_department, make_user, make_enterprise, make_placement
) -> None:
    try:
        _edit_race(app, make_department, make_user, make_enterprise, make_placement)
    finally:
        with app.app_context():
            db.engine.dispose()
