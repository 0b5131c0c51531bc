"""Helpers for tests that need tools outside Python (browser, node parsers, libical)."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import create_engine, make_url, text


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
