"""The connection pool survives a restarted database: users never see the dropped link.

A PostgreSQL restart (or a failover, or an idle-connection reaper) kills every
pooled connection. Without a check at checkout, the next request on each dead
connection fails with a 500; the pool's pre-ping notices and reconnects instead.
See docs/deployment.md D12.
"""

from __future__ import annotations

from pathlib import Path

from flask import Flask
from sqlalchemy import create_engine, make_url, text

from pdtracker import create_app
from pdtracker.auth.models import Role
from pdtracker.extensions import db
from tests.conftest import PG_URL, requires_postgres
from tests.support import sqlalchemy_pg_url


def _terminate_every_connection_to(database: str) -> int:
    """From an admin connection to another database, kill every backend of `database`."""
    admin = create_engine(
        make_url(sqlalchemy_pg_url(PG_URL)).set(database="postgres"),
        isolation_level="AUTOCOMMIT",
    )
    try:
        with admin.connect() as conn:
            return len(
                conn.execute(
                    text(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                        " WHERE datname = :name AND pid <> pg_backend_pid()"
                    ),
                    {"name": database},
                ).all()
            )
    finally:
        admin.dispose()


@requires_postgres
def test_a_restarted_postgresql_costs_the_user_no_500(
    app: Flask, client, auth, make_user
) -> None:
    app.config["PROPAGATE_EXCEPTIONS"] = False  # what a user gets: the error page
    make_user("teacher1", Role.TEACHER)
    assert auth.login("teacher1").status_code == 302
    assert client.get("/notifications/").status_code == 200
    with app.app_context():
        database = db.engine.url.database
    assert _terminate_every_connection_to(database) >= 1
    for _ in range(3):  # every pooled connection is dead, not only the first
        response = client.get("/notifications/")
        assert response.status_code == 200
    assert "teacher1" in response.get_data(as_text=True)


def test_the_pool_pings_connections_unless_the_operator_chose_otherwise(
    database_url: str, tmp_path: Path
) -> None:
    base = {"SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": database_url}
    default = create_app(base)
    chosen = create_app({**base, "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": False}})
    with default.app_context():
        assert db.engine.pool._pre_ping is True
        db.engine.dispose()
    with chosen.app_context():
        assert db.engine.pool._pre_ping is False
        db.engine.dispose()
