"""Capacity holds when many teachers register at the same moment."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

from sqlalchemy import select

from pdtracker.auth.models import User
from pdtracker.events.models import Event, Registration
from pdtracker.events.registrations import cancel_registration, register
from pdtracker.extensions import db
from tests.conftest import requires_postgres

NOW = datetime(2020, 1, 2, tzinfo=UTC)


def _run_at_once(app, jobs) -> list[BaseException]:
    """Run each job in its own thread, app context and session, released together."""
    barrier = threading.Barrier(len(jobs))
    errors: list[BaseException] = []

    def worker(job) -> None:
        with app.app_context():
            try:
                barrier.wait(timeout=30)
                job()
                db.session.commit()
            except BaseException as exc:  # noqa: BLE001 - reported to the test
                db.session.rollback()
                errors.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=worker, args=(job,)) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return errors


def _registrar(teacher_id: int, event_id: int):
    def job() -> None:
        register(db.session.get(User, teacher_id), db.session.get(Event, event_id), NOW)

    return job


def _statuses(app, event_id: int) -> list[str]:
    with app.app_context():
        return list(
            db.session.scalars(
                select(Registration.status).where(Registration.event_id == event_id)
            )
        )


def _concurrent_registrations(app, make_user, make_event) -> None:
    try:
        _race(app, make_user, make_event)
    finally:
        # The threads opened several pooled connections; close them now, not at GC.
        with app.app_context():
            db.engine.dispose()


def _race(app, make_user, make_event) -> None:
    teachers = [make_user(f"c{i:02d}") for i in range(20)]
    event = make_event(capacity=5)
    errors = _run_at_once(app, [_registrar(t.id, event.id) for t in teachers])
    assert errors == []
    statuses = _statuses(app, event.id)
    assert statuses.count("registered") == 5
    assert statuses.count("waitlisted") == 15

    # Five cancel at once: exactly five move up from the waitlist.
    def canceller(teacher_id: int):
        def job() -> None:
            user = db.session.get(User, teacher_id)
            cancel_registration(user, db.session.get(Event, event.id), NOW)

        return job

    with app.app_context():
        seated = db.session.scalars(
            select(Registration.teacher_id).where(
                Registration.event_id == event.id, Registration.status == "registered"
            )
        ).all()
    assert _run_at_once(app, [canceller(t) for t in seated]) == []
    statuses = _statuses(app, event.id)
    assert statuses.count("registered") == 5
    assert statuses.count("cancelled") == 5
    assert statuses.count("waitlisted") == 10


@requires_postgres
def test_concurrent_registrations_on_postgresql(app, make_user, make_event) -> None:
    assert app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql")
    _concurrent_registrations(app, make_user, make_event)


def test_concurrent_registrations_on_the_configured_database(
    app, make_user, make_event
) -> None:
    """The same race on SQLite (the default database), where the write lock serialises."""
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        return  # covered above
    _concurrent_registrations(app, make_user, make_event)
