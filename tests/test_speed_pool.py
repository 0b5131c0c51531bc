"""A pooled connection the server closed is replaced at checkout without a ping per request.

pool_pre_ping cost a round trip on every request. On PostgreSQL the pool now polls
the connection's socket at checkout instead: an idle connection receives nothing
unless its server ended it (a restart, pg_terminate_backend, an idle-session
timeout), so a readable socket means a dead connection, replaced before any user
sees it. docs/deployment.md D12.
"""

from __future__ import annotations

import time
from pathlib import Path

import psycopg
from flask import Flask
from sqlalchemy import create_engine, event, make_url, text

from pdtracker import create_app
from pdtracker.auth.models import Role
from pdtracker.database import _has_pending_input
from pdtracker.extensions import db
from tests.conftest import PG_URL, requires_postgres
from tests.support import sqlalchemy_pg_url


def _admin():
    return create_engine(
        make_url(sqlalchemy_pg_url(PG_URL)).set(database="postgres"),
        isolation_level="AUTOCOMMIT",
    )


def terminate_and_wait(database: str) -> int:
    """Kill every backend of `database`, and wait until they have exited (a restarted
    server accepts connections only once its old backends are gone)."""
    admin = _admin()
    try:
        with admin.connect() as conn:
            pids = (
                conn.execute(
                    text(
                        "SELECT pid FROM pg_stat_activity"
                        " WHERE datname = :name AND pid <> pg_backend_pid()"
                    ),
                    {"name": database},
                )
                .scalars()
                .all()
            )
            for pid in pids:
                conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                left = conn.execute(
                    text(
                        "SELECT count(*) FROM pg_stat_activity WHERE pid = ANY(:pids)"
                    ),
                    {"pids": list(pids)},
                ).scalar_one()
                if not left:
                    break
                time.sleep(0.02)
            return len(pids)
    finally:
        admin.dispose()


@requires_postgres
def test_a_connection_ended_by_the_server_is_seen_without_a_round_trip() -> None:
    conn = psycopg.connect(PG_URL, application_name="speed2-pending")
    try:
        conn.execute("SELECT 1")
        conn.commit()
        assert _has_pending_input(conn) is False  # alive and idle
        assert _has_pending_input(conn) is False  # the poll consumed nothing
        pid = conn.info.backend_pid
        admin = _admin()
        try:
            with admin.connect() as a:
                a.execute(text("SELECT pg_terminate_backend(:p)"), {"p": pid})
                for _ in range(500):
                    gone = not a.execute(
                        text("SELECT count(*) FROM pg_stat_activity WHERE pid = :p"),
                        {"p": pid},
                    ).scalar_one()
                    if gone:
                        break
                    time.sleep(0.02)
        finally:
            admin.dispose()
        assert _has_pending_input(conn) is True
    finally:
        conn.close()
    assert _has_pending_input(conn) is True  # closed on our side


@requires_postgres
def test_a_restarted_postgresql_costs_no_500_and_no_ping(
    app: Flask, client, auth, make_user
) -> None:
    app.config["PROPAGATE_EXCEPTIONS"] = False  # what a user gets: the error page
    make_user("teacher1", Role.TEACHER)
    assert auth.login("teacher1").status_code == 302
    with app.app_context():
        engine = db.engine
        database = engine.url.database
    assert engine.pool._pre_ping is False
    checkouts: list[int] = []
    event.listen(engine, "checkout", lambda *_: checkouts.append(1))
    for _ in range(2):
        assert client.get("/notifications/").status_code == 200
    assert checkouts  # the pool is in use, and no ping runs
    for _round in range(2):  # a second restart is handled as the first
        assert terminate_and_wait(database) >= 1
        for _ in range(3):  # every pooled connection is dead, not only the first
            response = client.get("/notifications/")
            assert response.status_code == 200
        assert "teacher1" in response.get_data(as_text=True)


def test_the_operators_choice_wins(database_url: str, tmp_path: Path) -> None:
    base = {"SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": database_url}
    default = create_app(base)
    pinged = create_app({**base, "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True}})
    unpinged = create_app(
        {**base, "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": False}}
    )
    for app, ping in ((default, False), (pinged, True), (unpinged, False)):
        with app.app_context():
            assert db.engine.pool._pre_ping is ping
            with db.engine.connect() as conn:  # the checkout check runs harmlessly
                assert conn.execute(text("SELECT 1")).scalar_one() == 1
            db.engine.dispose()
