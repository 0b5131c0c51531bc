"""Database set-up: a pool that survives a database restart; SQLite tuned for concurrency."""

from __future__ import annotations

import select
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from flask import Flask
from sqlalchemy import Integer, any_, bindparam, event, exc
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.engine import Engine

from pdtracker.extensions import db

if TYPE_CHECKING:
    # mypy cannot take an attribute (``db.Model``) as a base class (python/mypy#8603);
    # db.Model is built from Base, so the checker reads models as Base subclasses.
    from pdtracker.extensions import Base as Model
else:
    Model = db.Model


def init_database(app: Flask) -> None:
    """Bind Flask-SQLAlchemy with our engine defaults, and configure SQLite connections.

    Defaults only: an option the operator set in SQLALCHEMY_ENGINE_OPTIONS wins.
    """
    uri = app.config["SQLALCHEMY_DATABASE_URI"]
    options = dict(app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
    # After a PostgreSQL restart or failover every pooled connection is dead, and
    # each would fail one user's request with a 500. Instead of a ping per
    # checkout (a round trip on every request), a connection whose server closed
    # it is recognised without one (_drop_closed_connections); an operator may
    # still choose the ping (pool_pre_ping). docs/deployment.md D12.
    check_sockets = uri.startswith("postgres") and "pool_pre_ping" not in options
    if uri.startswith("sqlite"):
        connect_args = dict(options.get("connect_args", {}))
        connect_args.setdefault("timeout", 30)
        options["connect_args"] = connect_args
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = options
    db.init_app(app)
    if uri.startswith("sqlite"):
        with app.app_context():
            _configure_sqlite(db.engine)
    elif check_sockets:
        with app.app_context():
            _drop_closed_connections(db.engine)


def _drop_closed_connections(engine: Engine) -> None:
    """Replace, at checkout, a pooled connection the server has spoken on while idle.

    An idle PostgreSQL connection receives nothing until it sends a query, unless
    its server ended it: a restart, pg_terminate_backend or an idle-session timeout
    sends a FATAL message and closes the socket. So a readable socket at checkout
    (a poll, no round trip) means the connection is gone, or at worst one that is
    replaced needlessly; the pool then opens a fresh one. A connection that dies
    silently (a host lost without a TCP reset) is found by the first statement, and
    SQLAlchemy then discards every connection of the pool older than that moment.
    """

    @event.listens_for(engine, "checkout")
    def _on_checkout(dbapi_connection, _record, _proxy) -> None:
        if _has_pending_input(dbapi_connection):
            raise exc.DisconnectionError("the server closed an idle pooled connection")


def _has_pending_input(dbapi_connection: Any) -> bool:
    try:
        fd = dbapi_connection.fileno()
    except Exception:  # psycopg raises once the connection is closed
        return True
    poller = select.poll()
    poller.register(fd, select.POLLIN | select.POLLPRI)
    return bool(poller.poll(0))


def _configure_sqlite(engine: Engine) -> None:
    """WAL, a busy timeout and foreign keys on every connection.

    docs/deployment.md D13.
    """

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        if engine.url.database not in (None, "", ":memory:"):
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()


def dialect_insert(dialect: str) -> Any:
    """The INSERT construct with ON CONFLICT for the dialect (PostgreSQL or SQLite).

    Upserts are single statements on both databases, so concurrent writers of the
    same key never race between a read and an insert.
    """
    if dialect == "postgresql":
        return postgresql.insert
    if dialect == "sqlite":
        return sqlite.insert
    raise NotImplementedError(dialect)  # only SQLite and PostgreSQL are supported


def among(column: Any, ids: Sequence[int]) -> Any:
    """``column IN ids``; on PostgreSQL one array parameter (``= ANY``).

    An ``IN`` list is expanded into one parameter per id, and psycopg parses the
    expanded statement on the client: for a department's 300 teachers that cost
    more than the query itself, and 0.2 s for a batch of 1,000.
    """
    if db.session.get_bind().dialect.name != "postgresql":
        return column.in_(ids)
    return column == any_(
        bindparam("ids", list(ids), type_=ARRAY(Integer), unique=True)
    )
