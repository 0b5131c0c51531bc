"""A dispatcher killed while handing an e-mail to SMTP never causes a second copy.

Once the mail server has the message, only the "sent" commit is left; a process
killed in between leaves the row claimed. Its lease runs out, and a blind retry
would mail the same reminder (same Message-ID) twice. The row records that its
e-mail was being handed over, so after the crash it is settled as "in doubt":
shown in-app, not mailed again. Real processes (`flask scheduler`, SIGKILL) and
a real SMTP server (aiosmtpd) that holds its reply to DATA, so the kill lands
after the server received the message and before the dispatcher heard back.
See docs/deployment.md D11.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask

from pdtracker import ROOT
from pdtracker.extensions import db
from pdtracker.notifications.delivery import message_id
from pdtracker.notifications.models import Notification, NotificationKind
from pdtracker.notifications.outbox import Reminder, plan
from pdtracker.timeutil import utcnow
from tests.notifications.smtp import SmtpSink

DEADLINE = 90  # seconds: an upper bound so a broken run fails instead of hanging
LEASE = 2  # seconds: the killed dispatcher's claim runs out soon


def _wait_for(condition: Callable[[], bool], what: str, log: Path) -> None:
    end = time.monotonic() + DEADLINE
    while not condition():
        if time.monotonic() > end:
            pytest.fail(f"gave up waiting for {what}:\n{log.read_text()}")
        time.sleep(0.1)


def _scheduler(env: dict, log: Path) -> subprocess.Popen:
    with log.open("wb") as handle:
        return subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "pdtracker", "scheduler"],
            cwd=ROOT, env=env, stdout=handle, stderr=handle,
        )  # fmt: skip


def _row(app: Flask, row_id: int) -> Notification:
    with app.app_context():
        row = db.session.get(Notification, row_id)
        db.session.expunge(row)
        db.session.remove()
        return row


def test_a_dispatcher_killed_after_smtp_got_the_mail_never_sends_it_twice(
    app: Flask, database_url: str, make_user, smtp: SmtpSink, tmp_path: Path
) -> None:
    teacher = make_user("teacher1")
    now = utcnow()
    with app.app_context():
        # A kind no planner owns (as services plan directly): re-checking keeps it.
        plan([Reminder(NotificationKind.FEED_FAILED, teacher.id, "import_source", 1,
                       now, now + timedelta(hours=1), {"source": "协会日历"})], now)  # fmt: skip
        db.session.commit()
        row_id = db.session.scalar(db.select(Notification.id))
        expected_id = message_id(db.session.get(Notification, row_id))
        db.session.remove()
        db.engine.dispose()
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "PDTRACKER_SECRET_KEY": "in-doubt",
        "PDTRACKER_SCHEDULER_FAST": "true",
        "PDTRACKER_SCHEDULER_LOCK_FILE": str(tmp_path / "scheduler.lock"),
        "PDTRACKER_NOTIFICATION_LEASE": str(LEASE),
        "PDTRACKER_MAIL_SERVER": "127.0.0.1",
        "PDTRACKER_MAIL_PORT": str(smtp.port),
    }

    smtp.hold_replies()
    first_log = tmp_path / "first.log"
    first = _scheduler(env, first_log)
    try:
        _wait_for(smtp.arrived.is_set, "the e-mail at the SMTP server", first_log)
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=DEADLINE)
    smtp.release_replies()
    assert len(smtp.received()) == 1
    assert _row(app, row_id).status == "claimed"  # its "sent" was never committed

    second_log = tmp_path / "second.log"
    second = _scheduler(env, second_log)
    try:
        _wait_for(lambda: _row(app, row_id).status != "claimed",
                  "the restarted dispatcher to settle the row", second_log)  # fmt: skip
    finally:
        second.send_signal(signal.SIGTERM)
        second.wait(timeout=DEADLINE)

    ids = Counter(m["Message-ID"] for m in smtp.received())
    assert ids == Counter({expected_id: 1})  # the server got it once, never twice
    row = _row(app, row_id)
    assert (row.status, row.reason, row.emailed_at) == ("sent", "in_doubt", None)
    assert row.claim_token is None
    assert row.sent_at is not None  # in-app it shows: nothing is lost there
    output = second_log.read_text()
    assert f"notification {row_id}" in output
    assert "in doubt" in output
    assert "Traceback" not in output
    assert second.returncode == 0, output
