"""Dispatchers running at the same time send each notification exactly once.

Runs on the test database: SQLite by default, PostgreSQL (FOR UPDATE SKIP LOCKED)
when PDTRACKER_TEST_DATABASE_URL is set.
"""

from __future__ import annotations

import threading
from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import select

from pdtracker.extensions import db
from pdtracker.notifications.dispatch import claim_due, dispatch_due
from pdtracker.notifications.models import Notification, NotificationKind
from pdtracker.notifications.outbox import Reminder, plan
from tests.conftest import requires_postgres
from tests.notifications.conftest import NOW, rows

# The reminders here are made by hand: no planner re-checks (and cancels) them.
pytestmark = pytest.mark.usefixtures("no_planners")

DISPATCHERS = 4
PER_USER = 12


def _plan_many(app, users) -> int:
    reminders = [
        Reminder(NotificationKind.EVENT_TOMORROW, user.id, "event", n, NOW,
                 NOW + timedelta(days=1), {"title": f"讲座 {n}", "event_id": n})
        for user in users
        for n in range(1, PER_USER + 1)
    ]  # fmt: skip
    with app.app_context():
        plan(reminders, NOW - timedelta(hours=1))
        db.session.commit()
    return len(reminders)


def test_concurrent_dispatchers_send_each_notification_once(app, world, smtp):
    users = [world[name] for name in ("teacher1", "teacher2", "head1", "head2")]
    total = _plan_many(app, users)
    start = threading.Barrier(DISPATCHERS)
    results: list[dict] = []
    errors: list[BaseException] = []

    def dispatcher() -> None:
        try:
            with app.app_context():
                start.wait()
                while True:
                    result = dispatch_due(NOW, limit=3)
                    results.append(result)
                    if not result["claimed"]:
                        return
        except BaseException as exc:  # reported below, in the test's thread
            errors.append(exc)

    threads = [threading.Thread(target=dispatcher) for _ in range(DISPATCHERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    messages = smtp.received()
    assert len(messages) == total
    ids = Counter(m["Message-ID"] for m in messages)
    assert max(ids.values()) == 1
    assert sum(r["sent"] for r in results) == total
    assert sum(r["lost"] for r in results) == 0
    assert {r.status for r in rows(app)} == {"sent"}
    # More than one dispatcher did some of the work (they really ran side by side).
    assert sum(1 for r in results if r["sent"]) > 1


def test_claims_by_two_dispatchers_never_overlap(app, world):
    total = _plan_many(app, [world["teacher1"], world["teacher2"]])
    claimed: dict[str, list[int]] = {}
    start = threading.Barrier(2)

    def claimer(token: str) -> None:
        with app.app_context():
            start.wait()
            mine: list[int] = []
            while batch := claim_due(
                NOW, limit=2, lease=timedelta(minutes=5), token=token
            ):
                mine += batch
            claimed[token] = mine

    threads = [threading.Thread(target=claimer, args=(t,)) for t in ("a", "b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert set(claimed["a"]).isdisjoint(claimed["b"])
    assert len(claimed["a"]) + len(claimed["b"]) == total
    with app.app_context():
        tokens = Counter(db.session.scalars(select(Notification.claim_token)))
    assert tokens == Counter({"a": len(claimed["a"]), "b": len(claimed["b"])})


@requires_postgres
def test_postgres_claims_with_skip_locked(app, world, count_queries):
    _plan_many(app, [world["teacher1"]])
    with count_queries() as counter, app.app_context():
        claim_due(NOW, limit=5, lease=timedelta(minutes=5), token="t")
    claim = next(s for s in counter.statements if "RETURNING" in s)
    assert "FOR UPDATE SKIP LOCKED" in claim
