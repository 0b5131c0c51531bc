"""The scheduler's very first start, on an empty database, runs every job cleanly.

At start-up every tick due for a catch-up runs at once, side by side in
APScheduler's thread pool. On a fresh install there is no heartbeat row yet, so
all of them want to create it at the same moment. The real `flask scheduler`
process runs here (fast mode) against the test database, SQLite or PostgreSQL.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func, select

from pdtracker import ROOT
from pdtracker.extensions import db
from pdtracker.notifications.models import SchedulerHeartbeat, SchedulerRun
from pdtracker.scheduler import SCHEDULE

DEADLINE = 90  # seconds: an upper bound so a broken run fails instead of hanging
RECORDED = {tick.id for tick in SCHEDULE if tick.record}


def _finished_ticks(app: Flask) -> set[str]:
    with app.app_context():
        ticks = set(
            db.session.scalars(
                select(SchedulerRun.tick).where(SchedulerRun.finished_at.is_not(None))
            )
        )
        db.session.remove()
        return ticks


def _run_scheduler_until_every_tick_ran(
    app: Flask, database_url: str, tmp_path: Path
) -> tuple[subprocess.Popen, str]:
    """Start `flask scheduler` (fast), wait for a finished run of every tick, stop it."""
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "PDTRACKER_SECRET_KEY": "first-start",
        "PDTRACKER_SCHEDULER_FAST": "true",
        "PDTRACKER_SCHEDULER_LOCK_FILE": str(tmp_path / "scheduler.lock"),
    }
    log = tmp_path / "scheduler.log"
    with log.open("wb") as handle:
        process = subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "pdtracker", "scheduler"],
            cwd=ROOT, env=env, stdout=handle, stderr=handle,
        )  # fmt: skip
    try:
        end = time.monotonic() + DEADLINE
        while _finished_ticks(app) < RECORDED:
            if process.poll() is not None or time.monotonic() > end:
                pytest.fail(f"the scheduler did not run every tick:\n{log.read_text()}")
            time.sleep(0.2)
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=DEADLINE)
    return process, log.read_text()


def test_first_start_on_an_empty_database_runs_every_job_without_error(
    app: Flask, database_url: str, tmp_path: Path
) -> None:
    with app.app_context():
        assert db.session.get(SchedulerHeartbeat, 1) is None
        assert db.session.scalar(select(func.count(SchedulerRun.id))) == 0
        db.session.remove()
        db.engine.dispose()
    process, output = _run_scheduler_until_every_tick_ran(app, database_url, tmp_path)
    assert process.returncode == 0, output
    # Nothing failed, not even a job whose failure left no run row behind.
    assert "raised an exception" not in output
    assert "Traceback" not in output
    with app.app_context():
        runs = db.session.scalars(select(SchedulerRun).order_by(SchedulerRun.id)).all()
        heartbeat = db.session.get(SchedulerHeartbeat, 1)
        assert [(r.tick, r.error) for r in runs if r.error] == []
        assert {r.tick for r in runs} == RECORDED
        assert heartbeat is not None
        assert heartbeat.scheduler_id.endswith(f":{process.pid}")
        db.session.remove()
