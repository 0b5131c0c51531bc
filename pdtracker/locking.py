"""Row locks: serialise the writers of one row, then re-read it before deciding.

A workflow step that reads a row, checks its state and then writes (complete a
placement, verify an activity, edit an unverified one) must hold the row's lock from
the check to the commit, or two requests both pass the check. ``lock_row`` takes that
lock at the start of the step and reloads the instance, so the caller checks the
state as it is now, not as it was when the page loaded it. On SQLite this is how
a transaction takes the write lock at once (docs/deployment.md D13).
"""

from __future__ import annotations

from typing import Any

from flask import abort
from sqlalchemy import inspect, select, update
from sqlalchemy.engine import CursorResult

from pdtracker.extensions import db


def lock_row(instance: Any) -> bool:
    """Lock the instance's row until the transaction ends and reload it from the database.

    PostgreSQL locks the row (SELECT … FOR UPDATE on the primary key alone, so eager
    joins of the mapped class cannot make it lock other rows or fail on outer joins).
    SQLite has no row locks; a no-op UPDATE of the row makes the transaction take the
    database write lock now (pysqlite begins the transaction at its first write), so a
    concurrent writer waits here until this transaction ends.

    Returns False when the row is gone (deleted by a transaction that committed first).
    """
    mapper = inspect(instance).mapper
    table = mapper.local_table
    key = mapper.primary_key_from_instance(instance)
    where = [
        column == value for column, value in zip(mapper.primary_key, key, strict=True)
    ]
    session = db.session
    if session.get_bind().dialect.name == "postgresql":
        locked = (
            session.execute(
                select(*mapper.primary_key).where(*where).with_for_update()
            ).first()
            is not None
        )
    else:
        result = session.execute(
            update(table)
            .where(*where)
            .values(_unchanged(table))
            .execution_options(synchronize_session=False)
        )
        assert isinstance(result, CursorResult)  # an UPDATE's result counts rows
        locked = result.rowcount > 0
    if not locked:
        return False
    # Columns and loaded collections as last committed; nobody changes them now.
    session.refresh(instance)
    return True


def lock_or_404(instance: Any) -> None:
    """``lock_row``, answering 404 when the row is gone.

    Every change of an activity, a placement or an event starts here, so two
    simultaneous requests (two heads, or one head's double click) take turns and
    the second sees what the first did; a row deleted by a request that committed
    first is "not found".
    """
    if not lock_row(instance):
        abort(404)


def _unchanged(table: Any) -> dict:
    """SET values that leave the row as it is.

    Columns with an ``onupdate`` default are set to themselves too, else the UPDATE
    would stamp them (an ``updated_at`` must not move because a row was only locked).
    """
    columns = [c for c in table.columns if c.onupdate is not None]
    if not columns:
        columns = [
            c for c in table.columns if not c.primary_key and not c.foreign_keys
        ][:1] or list(table.primary_key)[:1]
    return {column: column for column in columns}
