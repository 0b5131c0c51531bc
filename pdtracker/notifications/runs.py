"""Scheduler records: one row per tick run, the heartbeat, and partial failures.

The scheduler process writes these (see :mod:`pdtracker.scheduler`); the admin
page and ``/healthz`` read them.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any, cast

from flask import current_app
from sqlalchemy import CursorResult, delete, func, select

from pdtracker.database import dialect_insert
from pdtracker.extensions import db
from pdtracker.notifications.models import SchedulerHeartbeat, SchedulerRun


class TickError(Exception):
    """Some parts of a tick failed; the others ran. Carries the counts."""

    def __init__(self, counts: dict[str, Any], errors: list[str]) -> None:
        super().__init__("; ".join(errors))
        self.counts = counts


def start_run(tick: str, scheduler_id: str, now: datetime) -> SchedulerRun:
    """Record that a tick started (the caller commits)."""
    run = SchedulerRun(tick=tick, scheduler_id=scheduler_id, started_at=now, counts={})
    db.session.add(run)
    db.session.flush()
    return run


def finish_run(
    run: SchedulerRun, now: datetime, counts: Mapping[str, Any], error: str | None
) -> None:
    """Record how a tick ended (the caller commits)."""
    run.finished_at = now
    run.counts = dict(counts)
    run.error = error
    db.session.flush()


def beat(scheduler_id: str, started_at: datetime, now: datetime) -> None:
    """Upsert the single heartbeat row in one statement (the caller commits).

    INSERT … ON CONFLICT DO UPDATE, not read-then-insert: on a first start every
    catch-up tick beats at the same moment, and with no row yet all of them would
    insert it; on PostgreSQL all but one would then fail on the primary key.
    """
    values = {"scheduler_id": scheduler_id, "started_at": started_at, "beat_at": now}
    insert = dialect_insert(db.session.connection().dialect.name)
    statement = insert(SchedulerHeartbeat).values(id=1, **values)
    db.session.execute(
        statement.on_conflict_do_update(
            index_elements=["id"],
            set_={name: statement.excluded[name] for name in values},
        )
    )


def last_heartbeat() -> SchedulerHeartbeat | None:
    """The scheduler's heartbeat row, if it ever ran."""
    return db.session.get(SchedulerHeartbeat, 1)


def heartbeat_is_fresh(heartbeat: SchedulerHeartbeat | None, now: datetime) -> bool:
    """Whether the scheduler beat recently enough (SCHEDULER_HEARTBEAT_MAX_AGE)."""
    max_age = timedelta(seconds=current_app.config["SCHEDULER_HEARTBEAT_MAX_AGE"])
    return heartbeat is not None and now - heartbeat.beat_at <= max_age


def last_success(tick: str) -> datetime | None:
    """When the tick last finished without error."""
    return db.session.scalar(
        select(func.max(SchedulerRun.started_at)).where(
            SchedulerRun.tick == tick,
            SchedulerRun.finished_at.is_not(None),
            SchedulerRun.error.is_(None),
        )
    )


def recent_runs(per_tick: int = 10) -> dict[str, list[SchedulerRun]]:
    """The last runs of every tick (one query, whatever the history's size)."""
    rank = (
        func.row_number()
        .over(partition_by=SchedulerRun.tick, order_by=SchedulerRun.started_at.desc())
        .label("rank")
    )
    ranked = select(SchedulerRun.id, rank).subquery()
    runs = db.session.scalars(
        select(SchedulerRun)
        .join(ranked, ranked.c.id == SchedulerRun.id)
        .where(ranked.c.rank <= per_tick)
        .order_by(SchedulerRun.tick, SchedulerRun.started_at.desc())
    )
    grouped: dict[str, list[SchedulerRun]] = {}
    for run in runs:
        grouped.setdefault(run.tick, []).append(run)
    return grouped


def prune(now: datetime) -> dict[str, int]:
    """Delete run records older than SCHEDULER_RUNS_KEEP_DAYS (the caller commits)."""
    keep = timedelta(days=current_app.config["SCHEDULER_RUNS_KEEP_DAYS"])
    statement = (
        delete(SchedulerRun)
        .where(SchedulerRun.started_at < now - keep)
        .execution_options(synchronize_session=False)
    )
    result = cast(CursorResult[Any], db.session.execute(statement))
    return {"runs_pruned": result.rowcount}
