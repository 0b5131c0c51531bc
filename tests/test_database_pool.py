"""The connection pool survives a restarted database: users never see the dropped link.

A PostgreSQL restart (or a failover, or an idle-connection reaper) kills every
pooled connection. Without a check at checkout, the next request on each dead
connection fails with a 500; the pool notices at checkout and reconnects instead
(pdtracker.database: a poll of the socket; the operator may choose pool_pre_ping).
See docs/deployment.md D12 and tests/test_speed_pool.py.
"""

from __future__ import annotations

from pathlib import Path

from flask import Flask

from pdtracker import create_app
from pdtracker.auth.models import Role
from pdtracker.extensions import db
from tests.conftest import requires_postgres
from tests.test_speed_pool import terminate_and_wait


def _terminate_every_connection_to(database: str) -> int:
    """Kill every backend of `database` and wait until they are gone (as a restart)."""
    return terminate_and_wait(database)


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


def test_the_pool_pings_connections_only_if_the_operator_chose_to(
    database_url: str, tmp_path: Path
) -> None:
    base = {"SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": database_url}
    default = create_app(base)
    chosen = create_app({**base, "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True}})
    with default.app_context():
        assert db.engine.pool._pre_ping is False
        db.engine.dispose()
    with chosen.app_context():
        assert db.engine.pool._pre_ping is True
        db.engine.dispose()
