"""The schedule table, tick runs and their records, catch-up, and the single-instance lock.

See docs/deployment.md D1–D4.
"""

from __future__ import annotations

import importlib
import inspect
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from pdtracker import ROOT
from pdtracker.extensions import db
from pdtracker.notifications import planners
from pdtracker.notifications.models import (
    Notification,
    SchedulerHeartbeat,
    SchedulerRun,
)
from pdtracker.notifications.outbox import Reminder
from pdtracker.notifications.runs import TickError, finish_run, start_run
from pdtracker.scheduler import (
    EXIT_ALREADY_RUNNING,
    EXIT_LOCK_LOST,
    SCHEDULE,
    AdvisoryLock,
    FileLock,
    InstanceLock,
    Tick,
    _needs_catch_up,
    build,
    guard_lock,
    instance_lock,
    lock_file_path,
    run,
    run_tick,
)
from tests.conftest import requires_postgres
from tests.notifications.conftest import NOW, FakePlanner

BY_ID = {tick.id: tick for tick in SCHEDULE}


def _clock(value: datetime):
    return lambda: value


def test_every_tick_is_a_module_level_function_of_now() -> None:
    assert len(BY_ID) == len(SCHEDULE)
    assert {"dispatch", "plan_reminders", "nightly", "refresh_feeds"} <= set(BY_ID)
    for tick in SCHEDULE:
        function = tick.job
        assert inspect.isfunction(function), tick.id
        # Module level, not nested or a lambda: the module's name leads back to it.
        module = importlib.import_module(function.__module__)
        assert getattr(module, function.__qualname__) is function, tick.id
        assert list(inspect.signature(function).parameters)[0] == "now"
        assert tick.func == f"{function.__module__}:{function.__qualname__}"


def test_create_app_never_starts_a_scheduler(tmp_path: Path) -> None:
    """Run in a fresh interpreter: APScheduler is not even imported, no thread started."""
    code = (
        "import sys, threading\n"
        "from pdtracker import create_app\n"
        "app = create_app({'SECRET_KEY': 'x', 'SQLALCHEMY_DATABASE_URI': "
        f"'sqlite:///{tmp_path}/x.sqlite'}})\n"
        "print(sorted(m for m in sys.modules if m.startswith('apscheduler')))\n"
        "print(threading.active_count())\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
        check=True,
    )  # fmt: skip
    modules, threads = result.stdout.splitlines()
    assert modules == "[]"
    assert threads == "1"


def test_a_tick_run_is_recorded_with_its_counts_and_a_heartbeat(app) -> None:
    run_id = run_tick(app, BY_ID["dispatch"], "host:42", NOW, clock=_clock(NOW))
    with app.app_context():
        run = db.session.get(SchedulerRun, run_id)
        beat = db.session.get(SchedulerHeartbeat, 1)
        assert (run.tick, run.scheduler_id, run.error) == ("dispatch", "host:42", None)
        assert run.counts["claimed"] == 0
        assert run.finished_at == NOW
        assert (beat.scheduler_id, beat.beat_at) == ("host:42", NOW)


def test_the_heartbeat_tick_beats_without_a_run_record(app) -> None:
    later = NOW + timedelta(minutes=3)
    assert run_tick(app, BY_ID["heartbeat"], "h:1", NOW, clock=_clock(later)) is None
    with app.app_context():
        assert db.session.scalar(select(func.count(SchedulerRun.id))) == 0
        assert db.session.get(SchedulerHeartbeat, 1).beat_at == later


def boom(now: datetime) -> dict:
    """A tick that fails."""
    raise RuntimeError("the feed server is down")


def partly(now: datetime) -> dict:
    """A tick that did some of its work."""
    raise TickError({"planned": 2}, ["events: bad data"])


def test_a_failing_tick_is_recorded_and_the_next_one_runs(app) -> None:
    failing = Tick("broken", boom, "interval", {"minutes": 1})
    first = run_tick(app, failing, "h:1", NOW, clock=_clock(NOW))
    second = run_tick(app, BY_ID["dispatch"], "h:1", NOW, clock=_clock(NOW))
    half = run_tick(
        app, Tick("half", partly, "interval"), "h:1", NOW,
        clock=_clock(NOW),
    )  # fmt: skip
    with app.app_context():
        failed = db.session.get(SchedulerRun, first)
        assert "RuntimeError: the feed server is down" in failed.error
        assert failed.finished_at == NOW
        assert db.session.get(SchedulerRun, second).error is None
        partial = db.session.get(SchedulerRun, half)
        assert (partial.counts, partial.error) == ({"planned": 2}, "events: bad data")


def test_ticks_are_idempotent(app, world, monkeypatch) -> None:
    """Run every tick twice at the same instant: the second run changes nothing."""
    fake = FakePlanner()
    fake.wanted = [
        Reminder("event_tomorrow", world["teacher1"].id, "event", 1, NOW,
                 NOW + timedelta(days=1), {"title": "讲座"}),
    ]  # fmt: skip
    monkeypatch.setattr(planners, "PLANNERS", (fake.planner,))

    def outbox() -> list[tuple]:
        with app.app_context():
            return db.session.execute(
                select(Notification.idempotency_key, Notification.status,
                       Notification.sent_at).order_by(Notification.id)
            ).all()  # fmt: skip

    # Planning first, so that dispatching has something to send.
    for tick in sorted(SCHEDULE, key=lambda t: t.id != "plan_reminders"):
        run_tick(app, tick, "h:1", NOW, clock=_clock(NOW))
        once = outbox()
        run_tick(app, tick, "h:1", NOW, clock=_clock(NOW))
        assert outbox() == once, tick.id
    statuses = {key.split(":")[0]: status for key, status, _ in outbox()}
    assert statuses["event_tomorrow"] == "sent"
    assert statuses["department_digest"] == "pending"  # planned by the nightly tick


def _record(app, tick: str, started: datetime, error: str | None = None) -> None:
    with app.app_context():
        finish_run(start_run(tick, "h:1", started), started, {}, error)
        db.session.commit()


def test_catch_up_runs_a_missed_tick_once_at_start(app) -> None:
    nightly = BY_ID["nightly"]
    assert _needs_catch_up(app, nightly, NOW)  # never ran
    _record(app, "nightly", NOW - timedelta(hours=2))
    assert not _needs_catch_up(app, nightly, NOW)
    assert _needs_catch_up(app, nightly, NOW + timedelta(days=3))  # down for days
    _record(app, "nightly", NOW + timedelta(days=3) - timedelta(hours=1), error="x")
    assert _needs_catch_up(
        app, nightly, NOW + timedelta(days=3)
    )  # failures don't count
    assert _needs_catch_up(app, BY_ID["dispatch"], NOW)  # always at start


def test_build_adds_every_tick_with_catch_up_only_where_missed(app) -> None:
    _record(app, "nightly", datetime.now(UTC) - timedelta(hours=1))
    scheduler = build(app)
    jobs = {job.id: job for job in scheduler.get_jobs()}
    assert set(jobs) == set(BY_ID)
    assert getattr(jobs["dispatch"], "next_run_time", None) is not None
    assert getattr(jobs["nightly"], "next_run_time", None) is None
    assert str(jobs["nightly"].trigger).startswith("cron")
    app.config["SCHEDULER_FAST"] = True
    fast = {job.id: job for job in build(app).get_jobs()}
    assert fast["nightly"].trigger.interval == timedelta(seconds=3)


def test_the_file_lock_admits_one_holder(tmp_path: Path) -> None:
    path = tmp_path / "scheduler.lock"
    first, second = FileLock(path), FileLock(path)
    assert first.acquire()
    assert not second.acquire()
    assert first.holder() == str(os.getpid())
    first.release()
    assert second.acquire()
    second.release()


def test_the_sqlite_lock_file_sits_beside_the_database(app) -> None:
    with app.app_context():
        if db.engine.dialect.name != "sqlite":
            pytest.skip("SQLite only")
        assert str(lock_file_path(app)) == db.engine.url.database + ".scheduler.lock"
        assert isinstance(instance_lock(app), FileLock)


@requires_postgres
def test_the_advisory_lock_admits_one_holder(app) -> None:
    with app.app_context():
        key = 0x5EED  # not the real key: a scheduler might be running on this server
        first, second = AdvisoryLock(db.engine, key), AdvisoryLock(db.engine, key)
        assert first.acquire()
        assert not second.acquire()
        first.release()
        assert second.acquire()
        second.release()
        assert isinstance(instance_lock(app), AdvisoryLock)


def test_a_second_scheduler_exits_with_a_clear_message(
    app, runner, monkeypatch
) -> None:
    def must_not_run(*args: object) -> None:
        raise AssertionError("a second scheduler started")

    monkeypatch.setattr("pdtracker.scheduler.run", must_not_run)
    with app.app_context():
        held = instance_lock(app)
        assert held.acquire()
    try:
        result = runner.invoke(args=["scheduler"])
    finally:
        held.release()
    assert result.exit_code == EXIT_ALREADY_RUNNING
    assert "Another pdtracker scheduler is already running" in result.output


def test_with_wait_a_second_scheduler_starts_once_the_first_stops(
    app, runner, monkeypatch
) -> None:
    started = []
    monkeypatch.setattr(
        "pdtracker.scheduler.run", lambda app, lock: started.append(app)
    )
    with app.app_context():
        held = instance_lock(app)
        assert held.acquire()
    sleeps = []

    def first_one_stops(seconds: float) -> None:
        sleeps.append(seconds)
        held.release()

    monkeypatch.setattr("time.sleep", first_one_stops)
    result = runner.invoke(args=["scheduler", "--wait"])
    assert result.exit_code == 0, result.output
    assert "Waiting for the running scheduler" in result.output
    assert len(sleeps) == 1
    assert len(started) == 1
    with app.app_context():  # the waiting scheduler released the lock when it ended
        again = instance_lock(app)
        assert again.acquire()
        again.release()


def _terminate(app, lock: AdvisoryLock) -> None:
    """Drop the lock's database connection, as a network failure or restart would."""
    pid = lock._conn.execute(text("SELECT pg_backend_pid()")).scalar_one()
    with app.app_context(), db.engine.begin() as conn:
        assert conn.execute(
            text("SELECT pg_terminate_backend(:pid)"), {"pid": pid}
        ).scalar_one()


@requires_postgres
def test_a_dropped_lock_connection_is_noticed_and_the_lock_taken_again(app) -> None:
    with app.app_context():
        lock = AdvisoryLock(db.engine, 0x5EEE)
        assert lock.acquire()
        assert lock.held()
        _terminate(app, lock)
        assert not lock.held()  # the server let go of it with the connection
        assert lock.ensure()  # nobody else took it: ours again
        assert lock.held()
        other = AdvisoryLock(db.engine, 0x5EEE)
        assert not other.acquire()
        lock.release()


@requires_postgres
def test_a_lock_taken_over_meanwhile_is_reported_lost(app) -> None:
    with app.app_context():
        lock = AdvisoryLock(db.engine, 0x5EEF)
        assert lock.acquire()
        _terminate(app, lock)
        other = AdvisoryLock(db.engine, 0x5EEF)
        assert other.acquire()  # a second scheduler started while we were cut off
        assert not lock.ensure()
        other.release()
        lock.release()  # harmless without a connection


class _Scheduler:
    def __init__(self) -> None:
        self.stopped = False

    def shutdown(self, wait: bool = True) -> None:
        self.stopped = True


class _Lock(InstanceLock):
    description = "test lock"

    def __init__(self, ours: bool) -> None:
        self.ours = ours

    def ensure(self) -> bool:
        return self.ours


def test_the_lock_guard_stops_the_scheduler_only_when_the_lock_is_gone() -> None:
    scheduler, lost = _Scheduler(), []
    guard_lock(_Lock(True), scheduler, lost)
    assert (scheduler.stopped, lost) == (False, [])
    guard_lock(_Lock(False), scheduler, lost)
    assert (scheduler.stopped, lost) == (True, [True])


def test_a_scheduler_that_lost_its_lock_exits_with_its_own_status(
    app, runner, monkeypatch
) -> None:
    monkeypatch.setattr("pdtracker.scheduler.run", lambda app, lock: True)
    result = runner.invoke(args=["scheduler"])
    assert result.exit_code == EXIT_LOCK_LOST
    with app.app_context():  # released on the way out
        again = instance_lock(app)
        assert again.acquire()
        again.release()


def test_the_running_scheduler_checks_its_lock(app, monkeypatch) -> None:
    """run() schedules the guard beside the ticks (and returns once stopped)."""
    jobs = {}

    class Recorder:
        def add_job(self, func, trigger, **kwargs) -> None:
            jobs[kwargs["id"]] = (func, trigger, kwargs)

        def start(self) -> None:
            func, _trigger, kwargs = jobs["instance_lock"]
            func(*kwargs["args"])  # one check, with a lock that is gone

        def shutdown(self, wait: bool = True) -> None:
            pass

    monkeypatch.setattr("pdtracker.scheduler.build", lambda app: Recorder())
    monkeypatch.setattr("signal.signal", lambda *args: None)
    assert run(app, _Lock(False)) is True
    assert jobs["instance_lock"][1] == "interval"
