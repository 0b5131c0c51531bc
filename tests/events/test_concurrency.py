"""Capacity holds when many teachers register at the same moment."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from pdtracker.auth.models import User
from pdtracker.events.models import Event, EventSession, Registration
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


# --- per session ------------------------------------------------------------------


def _session_race(app, make_user, make_event) -> None:
    """The last seat of one session: exactly one of the teachers racing for it wins,
    also against a teacher taking the whole series and one walking in."""
    from pdtracker.events.attendance import register_walk_in
    from pdtracker.events.models import SessionRegistration
    from pdtracker.events.sessions import list_sessions

    teachers = [make_user(f"s{i:02d}") for i in range(8)]
    first = NOW + timedelta(days=7)
    event = make_event(
        capacity=1, starts_at=first, ends_at=first + timedelta(hours=1),
        rrule="FREQ=WEEKLY;COUNT=4", allow_walk_ins=True,
    )  # fmt: skip
    with app.app_context():
        keys = [s.key for s in list_sessions(db.session.get_one(Event, event.id))]

    def chooser(teacher_id: int):
        def job() -> None:
            user = db.session.get_one(User, teacher_id)
            register(user, db.session.get_one(Event, event.id), NOW, keys=[keys[2]])

        return job

    def whole(teacher_id: int):
        def job() -> None:
            user = db.session.get_one(User, teacher_id)
            register(user, db.session.get_one(Event, event.id), NOW)

        return job

    def walk_in(teacher_id: int):
        def job() -> None:
            row = db.session.get_one(Event, event.id)
            at_door = row.starts_at + timedelta(weeks=2, minutes=5)
            user = db.session.get_one(User, teacher_id)
            register_walk_in(None, row, keys[2], user, at_door)

        return job

    jobs = [chooser(t.id) for t in teachers[:6]]
    jobs += [whole(teachers[6].id), walk_in(teachers[7].id)]
    errors = _run_at_once(app, jobs)
    # A walk-in that found the seat taken is refused ("full"); nothing else fails.
    assert all(getattr(e, "code", None) == "full" for e in errors), errors
    with app.app_context():
        rows = db.session.execute(
            select(SessionRegistration.status, func.count())
            .join(EventSession, EventSession.id == SessionRegistration.session_id)
            .where(EventSession.event_id == event.id, EventSession.key == keys[2])
            .group_by(SessionRegistration.status)
        ).all()
        by_status = dict(rows)
        other = db.session.scalar(
            select(func.count())
            .select_from(SessionRegistration)
            .join(EventSession, EventSession.id == SessionRegistration.session_id)
            .where(
                EventSession.event_id == event.id,
                EventSession.key == keys[0],
                SessionRegistration.status == "registered",
            )
        )
    assert by_status.get("registered", 0) == 1
    assert by_status.get("registered", 0) + by_status.get("waitlisted", 0) == 8 - len(
        errors
    )
    assert other == 1  # the whole-series teacher holds the first session alone


@requires_postgres
def test_last_seat_of_a_session_on_postgresql(app, make_user, make_event) -> None:
    assert app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql")
    try:
        _session_race(app, make_user, make_event)
    finally:
        with app.app_context():
            db.engine.dispose()


def test_last_seat_of_a_session_on_the_configured_database(
    app, make_user, make_event
) -> None:
    """The same race on SQLite, where the write lock serialises."""
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        return  # covered above
    try:
        _session_race(app, make_user, make_event)
    finally:
        with app.app_context():
            db.engine.dispose()
