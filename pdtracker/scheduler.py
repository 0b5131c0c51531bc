"""What runs when: the one scheduler process (`flask --app pdtracker scheduler`).

`create_app` never starts a scheduler, so gunicorn workers run none. This process
holds a lock for its lifetime (a PostgreSQL advisory lock, or a file lock beside a
SQLite database), so a second one started by mistake exits (status 3) or waits.
The advisory lock lives as long as its database connection: the scheduler checks it
every few seconds, takes it again if the connection dropped, and exits (status 4,
for its supervisor to restart it) if meanwhile another scheduler took it.
APScheduler only holds the fixed ticks below; the work itself lives in the
database, and each tick is a plain function of `now` that tests call directly.
Why: docs/deployment.md D1–D4.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import signal
import socket
import sys
import time
import traceback
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import click
from flask import Flask, current_app
from flask.cli import with_appcontext
from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError

from pdtracker.extensions import db
from pdtracker.notifications.dispatch import dispatch_due
from pdtracker.notifications.feeds import refresh_feeds
from pdtracker.notifications.models import SchedulerRun
from pdtracker.notifications.outbox import begin_write
from pdtracker.notifications.planners import nightly_lapse_check, plan_reminders
from pdtracker.notifications.runs import (
    TickError,
    beat,
    finish_run,
    last_success,
    start_run,
)
from pdtracker.progress.standings import refresh_tick as refresh_standings
from pdtracker.recognition.lifecycle import daily as recognition_daily
from pdtracker.timeutil import utcnow

logger = logging.getLogger(__name__)

EXIT_ALREADY_RUNNING = 3
EXIT_LOCK_LOST = 4
LOCK_CHECK_SECONDS = 15  # how long two schedulers may overlap after a lost connection
# The PostgreSQL advisory lock key: any constant shared by every scheduler process.
ADVISORY_LOCK_KEY = zlib.crc32(b"pdtracker-scheduler")


# A tick's body: a module-level function of `now` returning the counts to record.
Job = Callable[[datetime], dict[str, Any]]


@dataclass(frozen=True)
class Tick:
    """One fixed scheduler job: a module-level function of `now` and its trigger."""

    # Stable: stored in scheduler_runs.tick and shown on /admin/scheduler.
    id: str
    job: Job
    trigger: str  # APScheduler trigger name: "interval" or "cron"
    trigger_args: dict[str, Any] = field(default_factory=dict)
    # Interval in seconds under SCHEDULER_FAST (tests, demos).
    fast_seconds: int = 2
    # At start-up, run at once if the last successful run is older than this
    # (timedelta(0): always; None: never) — one catch-up run, never a backlog.
    catch_up: timedelta | None = None
    record: bool = True  # write a scheduler_runs row (not for the heartbeat)

    @property
    def func(self) -> str:
        """Where the job lives, "package.module:function" (shown on /admin/scheduler)."""
        return f"{self.job.__module__}:{self.job.__qualname__}"


def heartbeat(now: datetime) -> dict[str, Any]:
    """The heartbeat tick's body: nothing; its runner writes the heartbeat row."""
    return {}


SCHEDULE: tuple[Tick, ...] = (
    Tick("dispatch", dispatch_due, "interval", {"minutes": 1}, fast_seconds=1,
         catch_up=timedelta(0)),
    Tick("plan_reminders", plan_reminders, "interval", {"minutes": 10},
         fast_seconds=2, catch_up=timedelta(0)),
    Tick("nightly", nightly_lapse_check, "cron", {"hour": 2, "minute": 30},
         fast_seconds=3, catch_up=timedelta(hours=24)),
    Tick("refresh_feeds", refresh_feeds, "interval", {"hours": 1}, fast_seconds=3,
         catch_up=timedelta(hours=1)),
    # Stored standings (the association dashboard): only teachers whose status can
    # have changed are evaluated, so a quiet run costs one query.
    Tick("standings", refresh_standings, "interval", {"minutes": 15}, fast_seconds=3,
         catch_up=timedelta(0)),
    # Recognitions: review due 90 days before expiry, expired, certificates that
    # lapsed suspend what rests on them; only changed rows are touched.
    Tick("recognition", recognition_daily, "cron", {"hour": 2, "minute": 40},
         fast_seconds=3, catch_up=timedelta(hours=24)),
    Tick("heartbeat", heartbeat, "interval", {"seconds": 30}, fast_seconds=1,
         catch_up=timedelta(0), record=False),
)  # fmt: skip


def scheduler_identity() -> str:
    """host:pid, recorded on every run so a second scheduler would show."""
    return f"{socket.gethostname()}:{os.getpid()}"


def run_tick(
    app: Flask,
    tick: Tick,
    scheduler_id: str,
    started_at: datetime,
    clock: Callable[[], datetime] = utcnow,
) -> int | None:
    """Run one tick in an app context; record the run and a heartbeat; return the run id."""
    with app.app_context():
        now = clock()
        run_id = None
        begin_write()
        if tick.record:
            run_id = start_run(tick.id, scheduler_id, now).id
        beat(scheduler_id, started_at, now)
        db.session.commit()
        counts: dict[str, Any] = {}
        error = None
        try:
            counts = tick.job(now) or {}
        except TickError as exc:
            counts, error = exc.counts, str(exc)
        except Exception:
            logger.exception("tick %s failed", tick.id)
            error = traceback.format_exc(limit=8)[-4000:]
        db.session.rollback()  # whatever the tick left uncommitted is not ours
        begin_write()
        if run_id is not None and (run := db.session.get(SchedulerRun, run_id)):
            finish_run(run, clock(), counts, error)
        beat(scheduler_id, started_at, clock())
        db.session.commit()
        db.session.remove()
        return run_id


def _trigger(tick: Tick, fast: bool) -> tuple[str, dict[str, Any]]:
    if fast:
        return "interval", {"seconds": tick.fast_seconds}
    return tick.trigger, dict(tick.trigger_args)


def _needs_catch_up(app: Flask, tick: Tick, now: datetime) -> bool:
    """Whether to run the tick once at start-up (it missed its time while we were down)."""
    if tick.catch_up is None:
        return False
    if not tick.catch_up:
        return True
    with app.app_context():
        last = last_success(tick.id)
        db.session.remove()
    return last is None or now - last >= tick.catch_up


def build(app: Flask, schedule: tuple[Tick, ...] = SCHEDULE) -> Any:
    """A BlockingScheduler with every tick, each wrapped in an app context."""
    # Imported here, not at the top: create_app imports this module for its CLI
    # command, and web workers must not even load APScheduler.
    from apscheduler.schedulers.blocking import BlockingScheduler

    zone = ZoneInfo(app.config["TIMEZONE"])
    scheduler = BlockingScheduler(
        timezone=zone,
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 60},
    )
    fast = bool(app.config.get("SCHEDULER_FAST"))
    identity, started_at = scheduler_identity(), utcnow()
    for tick in schedule:
        trigger, args = _trigger(tick, fast)
        extra = {}
        if _needs_catch_up(app, tick, started_at):
            extra["next_run_time"] = datetime.now(zone)
        scheduler.add_job(
            run_tick,
            trigger,
            args=(app, tick, identity, started_at),
            id=tick.id,
            name=tick.id,
            **args,
            **extra,
        )
    return scheduler


def run(app: Flask, lock: InstanceLock | None = None) -> bool:
    """Run the scheduler in the foreground until SIGTERM or SIGINT.

    Returns True when it stopped because its instance lock was lost.
    """
    scheduler = build(app)
    lost: list[bool] = []

    def stop(signum: int, _frame: object) -> None:
        logger.info("scheduler stopping (signal %s)", signum)
        scheduler.shutdown(wait=False)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    if lock is not None:
        seconds = 1 if app.config.get("SCHEDULER_FAST") else LOCK_CHECK_SECONDS
        scheduler.add_job(guard_lock, "interval", args=(lock, scheduler, lost),
                          seconds=seconds, id="instance_lock", name="instance_lock")  # fmt: skip
    logger.info("scheduler %s started: %s", scheduler_identity(),
                ", ".join(t.id for t in SCHEDULE))  # fmt: skip
    scheduler.start()
    return bool(lost)


def guard_lock(lock: InstanceLock, scheduler: Any, lost: list[bool]) -> None:
    """Stop the scheduler if its lock is gone and cannot be taken back."""
    if lock.ensure():
        return
    logger.error(
        "scheduler %s lost its instance lock (%s) to another scheduler; stopping",
        scheduler_identity(),
        lock.description,
    )
    lost.append(True)
    scheduler.shutdown(wait=False)


# The single-instance lock.


class InstanceLock:
    """Held by the one scheduler process for its whole life."""

    description = ""

    def acquire(self) -> bool:
        """Take the lock if free; False if another scheduler holds it."""
        raise NotImplementedError

    def release(self) -> None:
        """Give the lock back."""
        raise NotImplementedError

    def ensure(self) -> bool:
        """Still ours (taken again if it was lost)? False if another holds it now."""
        return True


class AdvisoryLock(InstanceLock):
    """pg_try_advisory_lock on a dedicated connection; PostgreSQL frees it if we die."""

    def __init__(self, engine: Engine, key: int = ADVISORY_LOCK_KEY) -> None:
        self.engine = engine
        self.key = key
        self.description = f"PostgreSQL advisory lock {key}"
        self._conn: Connection | None = None

    def acquire(self) -> bool:
        """Try the lock on a connection we then keep (in autocommit: no idle transaction)."""
        conn = self.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        got = conn.execute(
            text("SELECT pg_try_advisory_lock(:key)"), {"key": self.key}
        ).scalar_one()
        if got:
            self._conn = conn
        else:
            conn.close()
        return bool(got)

    def release(self) -> None:
        """Unlock and close the connection."""
        if self._conn is None:
            return
        # A dropped connection has already released the lock.
        with contextlib.suppress(SQLAlchemyError):
            self._conn.execute(
                text("SELECT pg_advisory_unlock(:key)"), {"key": self.key}
            )
        self._discard()

    def held(self) -> bool:
        """Whether our connection is alive and still holds the lock."""
        if self._conn is None:
            return False
        try:
            return bool(
                self._conn.execute(
                    text(
                        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'"
                        " AND granted AND pid = pg_backend_pid() AND objsubid = 1"
                        " AND (classid::bigint << 32) + objid::bigint = :key"
                    ),
                    {"key": self.key},
                ).scalar_one()
            )
        except SQLAlchemyError:
            return False

    def ensure(self) -> bool:
        """Take the lock again on a new connection if the old one dropped."""
        if self.held():
            return True
        logger.warning("scheduler: %s was lost; taking it again", self.description)
        self._discard()
        try:
            return self.acquire()
        except SQLAlchemyError as exc:
            logger.warning("scheduler: cannot take %s: %s", self.description, exc)
            return False

    def _discard(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(SQLAlchemyError):
                self._conn.close()
            self._conn = None


class FileLock(InstanceLock):
    """An exclusive flock on a file; the kernel frees it if we die."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.description = f"lock file {path}"
        self._fd: int | None = None

    def acquire(self) -> bool:
        """Try the lock without blocking; write our pid into the file when we get it."""
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd = fd
        return True

    def release(self) -> None:
        """Unlock and close the file (it stays, empty of meaning)."""
        if self._fd is None:
            return
        fcntl.flock(self._fd, fcntl.LOCK_UN)
        os.close(self._fd)
        self._fd = None

    def holder(self) -> str:
        """The pid written by the holder, if readable."""
        try:
            return self.path.read_text().strip()
        except OSError:
            return ""


def lock_file_path(app: Flask) -> Path:
    """SCHEDULER_LOCK_FILE, else beside the SQLite database, else in the instance folder."""
    if configured := app.config.get("SCHEDULER_LOCK_FILE"):
        return Path(configured)
    database = db.engine.url.database
    if database and database != ":memory:":
        return Path(f"{database}.scheduler.lock")
    return Path(app.instance_path) / "scheduler.lock"


def instance_lock(app: Flask) -> InstanceLock:
    """The lock that fits the app's database."""
    if db.engine.dialect.name == "postgresql":
        return AdvisoryLock(db.engine)
    return FileLock(lock_file_path(app))


@click.command("scheduler")
@click.option(
    "--wait",
    is_flag=True,
    help="If another scheduler is running, wait for it to stop instead of exiting.",
)
@with_appcontext
def scheduler_command(wait: bool) -> None:
    """Run the scheduler (reminders, digests, feed refresh) in the foreground."""
    # create_app already sends pdtracker's logs to stderr; APScheduler's own INFO
    # lines ("Running job…") would repeat every tick.
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    lock = instance_lock(app)
    if not _take(lock, wait):
        click.echo(
            f"Another pdtracker scheduler is already running ({lock.description}"
            f"{_holder(lock)}); not starting a second one. Use --wait to wait for it.",
            err=True,
        )
        sys.exit(EXIT_ALREADY_RUNNING)
    try:
        lost = run(app, lock)
    finally:
        lock.release()
    if lost:
        sys.exit(EXIT_LOCK_LOST)


def _take(lock: InstanceLock, wait: bool) -> bool:
    announced = False
    while not lock.acquire():
        if not wait:
            return False
        if not announced:
            click.echo(f"Waiting for the running scheduler ({lock.description}).")
            announced = True
        time.sleep(5)
    return True


def _holder(lock: InstanceLock) -> str:
    holder = lock.holder() if isinstance(lock, FileLock) else ""
    return f", held by pid {holder}" if holder else ""
