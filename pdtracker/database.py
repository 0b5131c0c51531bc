"""Database set-up: a pool that survives a database restart; SQLite tuned for concurrency."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from flask import Flask
from sqlalchemy import event
from sqlalchemy.dialects import postgresql, sqlite
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
    # Test each pooled connection (a cheap round trip) as it is checked out: after
    # a PostgreSQL restart or failover every pooled connection is dead, and without
    # the ping each of them would fail one user's request with a 500.
    # docs/deployment.md D12.
    options.setdefault("pool_pre_ping", True)
    if uri.startswith("sqlite"):
        connect_args = dict(options.get("connect_args", {}))
        connect_args.setdefault("timeout", 30)
        options["connect_args"] = connect_args
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = options
    db.init_app(app)
    if uri.startswith("sqlite"):
        with app.app_context():
            _configure_sqlite(db.engine)


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
