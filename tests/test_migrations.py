"""The schema comes from Alembic: upgrade gives exactly the models, downgrade removes it."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, select

from pdtracker import create_app
from pdtracker.activities.models import DEFAULT_KINDS, ActivityKind
from pdtracker.extensions import db
from tests.conftest import PG_URL, requires_postgres
from tests.support import pg_database


def _check_round_trip(url: str, tmp_path) -> None:  # noqa: ANN001
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "SECRET_KEY": "x",
            "UPLOAD_FOLDER": str(tmp_path),
        }
    )
    with app.app_context():
        upgrade()
        with db.engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), db.metadata)
        assert diff == [], f"models and migrations differ: {diff}"
        kinds = set(db.session.scalars(select(ActivityKind.code)))
        assert kinds == {k["code"] for k in DEFAULT_KINDS}
        db.session.remove()
        downgrade(revision="base")
        remaining = set(inspect(db.engine).get_table_names()) - {"alembic_version"}
        assert remaining == set()
        db.engine.dispose()


def test_sqlite_upgrade_matches_models_and_downgrades(tmp_path) -> None:
    _check_round_trip(f"sqlite:///{tmp_path / 'migrated.sqlite'}", tmp_path)


@pytest.fixture
def empty_pg_database() -> Iterator[str]:
    """A throwaway PostgreSQL database on the test server."""
    with pg_database(PG_URL, f"pdtracker_migrations_{uuid.uuid4().hex[:8]}") as url:
        yield url


@requires_postgres
def test_postgres_upgrade_matches_models_and_downgrades(
    empty_pg_database, tmp_path
) -> None:
    _check_round_trip(empty_pg_database, tmp_path)
