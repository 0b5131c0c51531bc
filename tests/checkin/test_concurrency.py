"""The same teacher scanning twice at once is credited once (issue 15).

Two phones (or a double tap) post the same code at the same moment: the events
area locks the event while it marks, so one request credits the session and the
other answers "already checked in". On PostgreSQL the requests really overlap.
"""

from __future__ import annotations

from sqlalchemy import func, select

from pdtracker.activities.models import Activity
from pdtracker.audit import AuditEntry
from pdtracker.extensions import db
from tests.checkin.conftest import code_for, places, register, session_keys
from tests.concurrency import at_once, signed_in
from tests.conftest import requires_postgres


def _scan_twice_at_once(app, cast, make_event, *, walk_in: bool) -> None:
    event = make_event(allow_walk_ins=walk_in)
    if not walk_in:
        register(app, cast.teacher1, event)
    code = code_for(event, session_keys(app, event)[0])
    phones = [signed_in(app, "teacher1") for _ in range(2)]
    responses = at_once(*(lambda c=c: c.post(f"/checkin/{code}") for c in phones))
    assert [getattr(r, "status_code", r) for r in responses] == [302, 302]
    assert places(app, event) == [("attended", "checkin")]
    with app.app_context():
        activities = db.session.scalar(select(func.count()).select_from(Activity))
        marks = db.session.scalar(
            select(func.count())
            .select_from(AuditEntry)
            .where(AuditEntry.action == "registration.attend")
        )
    assert (activities, marks) == (1, 1)


@requires_postgres
def test_two_scans_at_once_credit_once_on_postgresql(app, cast, make_event) -> None:
    _scan_twice_at_once(app, cast, make_event, walk_in=False)


@requires_postgres
def test_two_walk_in_scans_at_once_register_and_credit_once_on_postgresql(
    app, cast, make_event
) -> None:
    _scan_twice_at_once(app, cast, make_event, walk_in=True)


def test_two_scans_at_once_credit_once_on_the_configured_database(
    app, cast, make_event
) -> None:
    _scan_twice_at_once(app, cast, make_event, walk_in=False)
