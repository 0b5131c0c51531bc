"""gunicorn with 3 workers beside one scheduler process: every tick's effect happens once.

A real deployment in miniature: a SQLite file, `gunicorn -w 3 wsgi:app`, and
`flask --app pdtracker scheduler` in fast mode (ticks every second or two), an SMTP
server in the test. A second scheduler started by mistake refuses to run.
See docs/deployment.md D1, D2 and D5.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from pdtracker import ROOT, create_app
from pdtracker.auth.models import Role, User
from pdtracker.events.registrations import register
from pdtracker.events.services import EventData, create_event, publish_event
from pdtracker.extensions import db
from pdtracker.notifications.models import Notification, NotificationKind, SchedulerRun
from pdtracker.notifications.outbox import Reminder, plan
from pdtracker.reference import ensure_activity_kinds
from pdtracker.scheduler import EXIT_ALREADY_RUNNING
from pdtracker.timeutil import utcnow
from tests.notifications.smtp import SmtpSink, free_port

REMINDERS = 6
# Seconds: an upper bound so a broken run fails instead of hanging, never a timing
# assertion (a loaded CI machine may need many seconds just to import the app).
DEADLINE = 90


def _wait_for(condition: Callable[[], bool], what: str) -> None:
    """Poll until the condition holds; fail (not hang) after DEADLINE seconds."""
    end = time.monotonic() + DEADLINE
    while not condition():
        if time.monotonic() > end:
            pytest.fail(f"gave up waiting for {what}")
        time.sleep(0.2)


def _seed(app) -> None:
    with app.app_context():
        db.create_all()
        users = []
        for n in range(REMINDERS):
            user = User(username=f"t{n}", display_name=f"教师{n}",
                        email=f"t{n}@example.edu.cn", password_hash="x")  # fmt: skip
            user.set_roles({Role.TEACHER})
            users.append(user)
        db.session.add_all(users)
        db.session.flush()
        now = utcnow()
        # Rows of a kind no planner owns (as services plan directly), due now.
        plan(
            [Reminder(NotificationKind.FEED_FAILED, u.id, "import_source", 1, now,
                      now + timedelta(hours=1), {"source": "协会日历"})
             for u in users],
            now,
        )  # fmt: skip
        # An event starting soon with one registered teacher: the planning tick
        # (run many times) must produce exactly one reminder, sent once.
        ensure_activity_kinds()
        starts = now + timedelta(hours=2)
        data = EventData(kind_code="seminar", title="产教融合座谈会", starts_at=starts,
                         ends_at=starts + timedelta(hours=2))  # fmt: skip
        event = create_event(data, None, now)
        publish_event(event, None, now)
        register(users[0], event, now)
        db.session.commit()


@pytest.fixture
def deployment(tmp_path: Path) -> Iterator[dict]:
    """A seeded SQLite file, an SMTP server, and the environment both processes share."""
    database = tmp_path / "pdtracker.sqlite"
    url = f"sqlite:///{database}"
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "x"})
    _seed(app)
    smtp = SmtpSink().start()
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "PDTRACKER_SECRET_KEY": "process-test",
        "PDTRACKER_SCHEDULER_FAST": "true",
        "PDTRACKER_MAIL_SERVER": "127.0.0.1",
        "PDTRACKER_MAIL_PORT": str(smtp.port),
        "PDTRACKER_SCHEDULER_HEARTBEAT_MAX_AGE": "30",
    }
    yield {"app": app, "env": env, "smtp": smtp}
    smtp.stop()
    with app.app_context():
        db.engine.dispose()


def _start(args: list[str], env: dict, log: Path) -> subprocess.Popen:
    with log.open("wb") as handle:  # the child keeps its own copy of the descriptor
        return subprocess.Popen(args, cwd=ROOT, env=env, stdout=handle, stderr=handle)


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _no_control_socket() -> list[str]:
    """Newer gunicorn opens a control socket in ~/.gunicorn; parallel runs would share it."""
    import gunicorn.config

    names = {setting.name for setting in gunicorn.config.KNOWN_SETTINGS}
    return ["--no-control-socket"] if "control_socket_disable" in names else []


def _health(port: int) -> dict | None:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as r:
            return json.load(r)
    except OSError:
        return None


def test_gunicorn_workers_run_no_ticks_and_one_scheduler_sends_each_once(
    deployment: dict, tmp_path: Path
) -> None:
    app, env, smtp = deployment["app"], deployment["env"], deployment["smtp"]
    port = free_port()
    flask = [sys.executable, "-m", "flask", "--app", "pdtracker", "scheduler"]
    gunicorn = [sys.executable, "-m", "gunicorn", "-w", "3", "-b",
                f"127.0.0.1:{port}", *_no_control_socket(), "wsgi:app"]  # fmt: skip
    web = _start(gunicorn, env, tmp_path / "gunicorn.log")
    scheduler = _start(flask, env, tmp_path / "scheduler.log")
    try:
        _wait_for(lambda: (_health(port) or {}).get("status") == "ok",
                  "a fresh heartbeat seen through gunicorn")  # fmt: skip
        second = subprocess.run(
            flask, cwd=ROOT, env=env, capture_output=True, text=True, timeout=DEADLINE
        )
        _wait_for(lambda: len(smtp.received()) >= REMINDERS + 1, "the reminders")

        def dispatch_runs() -> int:
            with app.app_context():
                return db.session.scalar(
                    select(func.count()).where(SchedulerRun.tick == "dispatch")
                )

        def plan_runs() -> int:
            with app.app_context():
                return db.session.scalar(
                    select(func.count()).where(SchedulerRun.tick == "plan_reminders")
                )

        seen, planned = dispatch_runs(), plan_runs()
        _wait_for(lambda: dispatch_runs() >= seen + 2 and plan_runs() >= planned + 2,
                  "more dispatch and planning ticks")  # fmt: skip
    finally:
        _stop(scheduler)
        _stop(web)
    assert second.returncode == EXIT_ALREADY_RUNNING, second.stderr
    assert "Another pdtracker scheduler is already running" in second.stderr
    messages = smtp.received()
    assert len(messages) == REMINDERS + 1
    assert len({m["Message-ID"] for m in messages}) == REMINDERS + 1
    to = Counter(m["To"].addresses[0].addr_spec for m in messages)
    assert to["t0@example.edu.cn"] == 2  # the seeded reminder and the planned one
    assert max(to.values()) == 2
    with app.app_context():
        statuses = db.session.scalars(select(Notification.status)).all()
        runners = set(db.session.scalars(select(SchedulerRun.scheduler_id)))
        ticks = set(db.session.scalars(select(SchedulerRun.tick)))
    assert statuses == ["sent"] * (REMINDERS + 1)
    # Every recorded run came from the one scheduler process, none from a web worker.
    assert len(runners) == 1
    assert runners.pop().endswith(f":{scheduler.pid}")
    assert {"dispatch", "plan_reminders", "nightly", "refresh_feeds"} <= ticks
    assert scheduler.returncode == 0
