"""Helpers for tests: tools outside Python (browser, node parsers, libical), databases."""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Generic, TypeVar

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import (
    Table,
    create_engine,
    exists,
    literal_column,
    make_url,
    select,
    text,
    union_all,
)
from sqlalchemy.engine import Connection

from pdtracker import fragments
from pdtracker.events import listing
from pdtracker.extensions import db

T = TypeVar("T")


def require_tool(available: bool, reason: str) -> None:
    """Skip when a tool is missing, but fail in CI (PDTRACKER_REQUIRE_INTEROP=1)."""
    if available:
        return
    if os.environ.get("PDTRACKER_REQUIRE_INTEROP") == "1":
        pytest.fail(f"required tool missing in CI: {reason}")
    pytest.skip(reason)


def sqlalchemy_pg_url(url: str) -> str:
    """A PostgreSQL URL for SQLAlchemy with psycopg 3."""
    return re.sub(r"^postgres(ql)?://", "postgresql+psycopg://", url)


@contextmanager
def pg_database(server_url: str, name: str) -> Iterator[str]:
    """Create an empty database `name` on the server of `server_url`; drop it afterwards."""
    server = make_url(sqlalchemy_pg_url(server_url))
    admin = create_engine(server.set(database="postgres"), isolation_level="AUTOCOMMIT")
    drop = text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    with admin.connect() as conn:
        conn.execute(drop)
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(drop)
        admin.dispose()


def filled_tables(conn: Connection) -> list[Table]:
    """The tables holding at least one row, in dependency order, asked in one query.

    A test fills a few of the schema's tables; one probe instead of a DELETE per table.
    """
    tables = db.metadata.sorted_tables
    probe = union_all(
        *(
            select(literal_column(str(number))).where(
                exists(select(literal_column("1")).select_from(table))
            )
            for number, table in enumerate(tables)
        )
    )
    return [tables[number] for number in sorted(conn.scalars(probe))]


class Prebuilt(Generic[T]):
    """What ``build(app)`` writes into a fresh test database, built once per process.

    The first call builds through the factories and keeps the rows of every table it
    left filled and the files of the app's upload folder. A later call, on a database
    holding what the first one's held before building (the tables the app fixture
    fills), gets those rows and files copied in: the same ids and columns, as building
    again would leave them, without the factories' work.
    """

    def __init__(self, build: Callable[[Flask], T]) -> None:
        self._build = build
        self._kept: dict[str, Any] | None = None

    def __call__(self, app: Flask, scratch: Callable[[], Path]) -> T:
        """``build(app)``'s result; ``scratch()`` gives a folder to keep files in."""
        with app.app_context(), db.engine.connect() as conn:
            before = [table.name for table in filled_tables(conn)]
        kept = self._kept
        if kept is not None and before == kept["before"]:
            self._restore(app, kept)
            return _copied(kept["result"])
        result = self._build(app)
        if kept is None:
            files = scratch()
            shutil.copytree(app.config["UPLOAD_FOLDER"], files, dirs_exist_ok=True)
            self._kept = {
                "before": before,
                "result": _copied(result),
                "rows": _rows(app),
                "files": files,
            }
        return result

    @staticmethod
    def _restore(app: Flask, kept: dict[str, Any]) -> None:
        with app.app_context(), db.engine.begin() as conn:
            for table in reversed(filled_tables(conn)):
                conn.execute(table.delete())
            for table in db.metadata.sorted_tables:
                if rows := kept["rows"].get(table.name):
                    conn.execute(table.insert(), rows)
        shutil.copytree(kept["files"], app.config["UPLOAD_FOLDER"], dirs_exist_ok=True)


def _copied(result: T) -> T:
    """A result's dicts (one level down) copied, so a test's changes stay its own."""
    if not isinstance(result, dict):
        return result
    return type(result)(  # type: ignore[return-value]
        {k: dict(v) if isinstance(v, dict) else v for k, v in result.items()}
    )


def _rows(app: Flask) -> dict[str, list[dict[str, Any]]]:
    with app.app_context(), db.engine.connect() as conn:
        return {
            table.name: [
                dict(row._mapping)
                for row in conn.execute(
                    select(table).order_by(*table.primary_key.columns)
                )
            ]
            for table in filled_tables(conn)
        }


# What a worker keeps between requests and draws pages from (app.extensions names):
# kept HTML (pdtracker.fragments' bodies and small parts, base.html's frame, the
# navigation's links) and what kept pages are drawn from (the navigation's items per
# role set, the event list's orders, the progress pages' caches and sentences).
KEEPS = (
    fragments._EXTENSION,
    fragments._SMALL_EXTENSION,
    "navigation_frames",
    "nav_links",
    "nav_visible",
    listing._EXTENSION,
    "progress_cache",
    "progress_sentences",
)
_CSRF = re.compile(r'(name="csrf_token"[^>]*value=")[^"]+|(csrf_token=)[^"&]+')


@contextmanager
def keeps_emptied(app: Flask) -> Iterator[None]:
    """Within: the app has kept nothing (a new worker); after: what it kept, as it was."""
    saved = {name: app.extensions.pop(name) for name in KEEPS if name in app.extensions}
    try:
        yield
    finally:
        for name in KEEPS:
            app.extensions.pop(name, None)
        app.extensions.update(saved)


def masked(html: str) -> str:
    """A page with its CSRF tokens masked (they are signed with the time)."""
    return _CSRF.sub(lambda m: (m.group(1) or m.group(2)) + "X", html)


def kept_and_fresh(app: Flask, client: FlaskClient, path: str) -> tuple[str, str]:
    """``path``'s page as served now (from what the app keeps) and as a new worker
    draws it, CSRF tokens masked: equal unless a keep outlived what it shows."""
    kept = client.get(path)
    with keeps_emptied(app):
        fresh = client.get(path)
    assert kept.status_code == fresh.status_code == 200, path
    return masked(kept.text), masked(fresh.text)
