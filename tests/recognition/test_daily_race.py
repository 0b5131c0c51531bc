"""The daily tick and an administrator's revocation at the same moment: the tick
never writes a calendar state over the revocation it did not wait for."""

from __future__ import annotations

import threading
from datetime import timedelta

from pdtracker.extensions import db
from pdtracker.locking import lock_row
from pdtracker.recognition import lifecycle
from pdtracker.recognition.models import Recognition
from pdtracker.timeutil import local_today
from tests.recognition.conftest import NOW, qualify
from tests.recognition.flow import apply, open_round, publish, through_panel, user


def test_the_daily_tick_does_not_undo_a_revocation_committed_meanwhile(app, cast):
    qualify(app, cast["teacher1"], "primary")
    with app.app_context():
        rnd = open_round(NOW)
        application = apply(rnd, "teacher1", "primary", NOW)
        through_panel(application, NOW)
        [rec] = publish(rnd, NOW)
        # Thirty days before its end: today's tick moves it to review_due.
        rec.valid_until = local_today(NOW) + timedelta(days=30)
        db.session.commit()
        rec_id = rec.id
    locked, tick_started = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def admin_revokes() -> None:
        with app.app_context():
            try:
                row = db.session.get(Recognition, rec_id)
                assert row is not None
                lock_row(row)
                locked.set()
                tick_started.wait(10)
                threading.Event().wait(0.5)  # the tick is now reading or waiting
                lifecycle.revoke(user("cadmin"), row, reason="材料造假", now=NOW)
                db.session.commit()
            except BaseException as exc:  # noqa: BLE001 - reported to the test
                errors.append(exc)
                locked.set()

    thread = threading.Thread(target=admin_revokes)
    thread.start()
    assert locked.wait(10)
    with app.app_context():
        tick_started.set()
        lifecycle.daily(NOW)
    thread.join(30)
    assert errors == []
    with app.app_context():
        row = db.session.get(Recognition, rec_id)
        assert row is not None
        assert row.state == "revoked"
