"""Simultaneous lifecycle requests on one placement: each transition happens once."""

from __future__ import annotations

import io
import threading
from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from pdtracker.activities.models import Activity
from pdtracker.audit import AuditEntry
from pdtracker.auth.models import Role
from pdtracker.extensions import db
from pdtracker.placements.models import Placement
from tests.conftest import DEMO_PASSWORD, requires_postgres
from tests.placements.conftest import PDF

REQUESTS = 10


def _signed_in(app: Flask, username: str) -> FlaskClient:
    client = app.test_client()
    response = client.post(
        "/login", data={"username": username, "password": DEMO_PASSWORD}
    )
    assert response.status_code == 302
    return client


def _post_at_once(clients: list[FlaskClient], url: str, make_data) -> list:  # noqa: ANN001
    """POST from every client in its own thread, released together; the final pages."""
    barrier = threading.Barrier(len(clients))
    pages: list = [None] * len(clients)

    def worker(i: int) -> None:
        try:
            barrier.wait(timeout=30)
            response = clients[i].post(
                url,
                data=make_data(),
                content_type="multipart/form-data",
                follow_redirects=True,
            )
            pages[i] = (response.status_code, response.text)
        except BaseException as exc:  # noqa: BLE001 - reported to the test
            pages[i] = exc

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(len(clients))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return pages


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


def _race(app, make_department, make_user, make_enterprise, make_placement) -> None:  # noqa: ANN001
    dept = make_department()
    teacher = make_user("t-race", Role.TEACHER, department=dept)
    make_user("h-race", Role.HEAD, Role.TEACHER, department=dept, locale="en")
    placement = make_placement(teacher, make_enterprise(), status="in_progress")
    clients = [_signed_in(app, "h-race") for _ in range(REQUESTS)]

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


def _completion_race(*fixtures) -> None:  # noqa: ANN002
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
) -> None:  # noqa: ANN001
    assert app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql")
    _completion_race(app, make_department, make_user, make_enterprise, make_placement)


def test_simultaneous_completions_credit_once_on_the_configured_database(
    app, make_department, make_user, make_enterprise, make_placement
) -> None:  # noqa: ANN001
    """The same race on SQLite (the default database), where the write lock serialises."""
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        return  # covered above
    _completion_race(app, make_department, make_user, make_enterprise, make_placement)


def _steps_race(
    app, make_department, make_user, make_enterprise, make_placement
) -> None:  # noqa: ANN001
    dept = make_department()
    teacher = make_user("t-steps", Role.TEACHER, department=dept)
    make_user("h-steps", Role.HEAD, Role.TEACHER, department=dept, locale="en")
    placement = make_placement(teacher, make_enterprise())
    clients = [_signed_in(app, "h-steps") for _ in range(5)]
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


def _steps(*fixtures) -> None:  # noqa: ANN002
    app = fixtures[0]
    try:
        _steps_race(*fixtures)
    finally:
        with app.app_context():
            db.engine.dispose()


@requires_postgres
def test_simultaneous_steps_happen_once_on_postgresql(
    app, make_department, make_user, make_enterprise, make_placement
) -> None:  # noqa: ANN001
    """Approve, start and cancel: five heads at once, one transition each."""
    _steps(app, make_department, make_user, make_enterprise, make_placement)


def test_simultaneous_steps_happen_once_on_the_configured_database(
    app, make_department, make_user, make_enterprise, make_placement
) -> None:  # noqa: ANN001
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        return  # covered above
    _steps(app, make_department, make_user, make_enterprise, make_placement)
