"""The schema comes from Alembic: upgrade gives exactly the models, downgrade removes it."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask import Flask
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, select

from pdtracker import create_app
from pdtracker.activities.models import DEFAULT_KINDS, ActivityKind
from pdtracker.extensions import db
from tests.conftest import PG_URL, requires_postgres
from tests.support import pg_database


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=requires_postgres)])
def empty_database(request, tmp_path) -> Iterator[str]:
    """An empty database: a SQLite file, then a throwaway PostgreSQL one."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'migrated.sqlite'}"
        return
    with pg_database(PG_URL, f"pdtracker_migrations_{uuid.uuid4().hex[:8]}") as url:
        yield url


def _app(url: str, tmp_path) -> Flask:
    """An app on the database at ``url`` (its schema left to the test)."""
    return create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "SECRET_KEY": "x",
            "UPLOAD_FOLDER": str(tmp_path),
        }
    )


@contextmanager
def _migrating(url: str, tmp_path) -> Iterator[None]:
    """Within: an app context on ``url``; after: its schema downgraded to nothing."""
    with _app(url, tmp_path).app_context():
        yield
        db.session.remove()
        downgrade(revision="base")
        db.engine.dispose()


def test_upgrade_matches_models_and_downgrades(empty_database: str, tmp_path) -> None:
    with _app(empty_database, tmp_path).app_context():
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


NOW = "'2026-01-01 00:00:00'"


def test_activity_sequence_upgrade_keeps_rows(empty_database: str, tmp_path) -> None:
    """0001 → 0002 keeps existing activities (sequence 0) and enforces the CHECK."""
    from sqlalchemy import text
    from sqlalchemy.exc import IntegrityError

    with _migrating(empty_database, tmp_path):
        upgrade(revision="0001")
        with db.engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO users (id, username, display_name, password_hash, is_active,"
                    " session_version, locale, timezone, created_at, updated_at) VALUES"
                    " (1, 'zhang', '张老师', 'x', true, 0, 'zh_Hans_CN', 'Asia/Shanghai',"
                    f" {NOW}, {NOW})"
                )
            )
            conn.execute(
                text(
                    "INSERT INTO activities (id, teacher_id, kind_code, title, starts_on,"
                    " role, status, source, created_at, updated_at) VALUES (7, 1,"
                    " 'expert_lecture', '专家讲座', '2026-03-01', 'attendee', 'planned',"
                    f" 'self', {NOW}, {NOW})"
                )
            )
        upgrade()
        with db.engine.connect() as conn:
            row = conn.execute(text("SELECT title, sequence FROM activities")).one()
            assert tuple(row) == ("专家讲座", 0)
            with pytest.raises(IntegrityError):
                conn.execute(text("UPDATE activities SET sequence = -1 WHERE id = 7"))
        downgrade(revision="0001")
        columns = {c["name"] for c in inspect(db.engine).get_columns("activities")}
        assert "sequence" not in columns
        with db.engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM activities")).scalar() == 1


def test_upgrade_keeps_dependent_rows(empty_database: str, tmp_path) -> None:
    """Upgrading from 0001 keeps rows that hang off rebuilt tables.

    SQLite rebuilds a table to alter it (copy, drop, rename); with foreign keys
    enforced, dropping ``users`` or ``activities`` would cascade into their
    dependants (evidence, roles) unless the migration runs with them deferred.
    """
    from sqlalchemy import text

    with _migrating(empty_database, tmp_path):
        upgrade(revision="0001")
        with db.engine.begin() as conn:
            for statement in (
                "INSERT INTO institutions (id, code, name) VALUES (3, 'DEMO', '示范学院')",
                "INSERT INTO departments (id, institution_id, code, name)"
                " VALUES (5, 3, 'AI', '人工智能系')",
                "INSERT INTO users (id, username, display_name, password_hash, is_active,"
                " session_version, locale, timezone, created_at, updated_at,"
                " department_id) VALUES (1, 'zhang', '张老师', 'x', true, 0,"
                f" 'zh_Hans_CN', 'Asia/Shanghai', {NOW}, {NOW}, 5)",
                "INSERT INTO user_roles (user_id, role) VALUES (1, 'teacher')",
                "INSERT INTO activities (id, teacher_id, kind_code, title, starts_on,"
                " role, status, source, created_at, updated_at) VALUES (7, 1,"
                " 'expert_lecture', '专家讲座', '2026-03-01', 'attendee', 'completed',"
                f" 'self', {NOW}, {NOW})",
                "INSERT INTO evidence_files (id, activity_id, original_name, stored_name,"
                " content_type, size_bytes, sha256, uploaded_by_id, created_at) VALUES"
                " (9, 7, '证明.pdf', 'abc', 'application/pdf', 10, 'f', 1,"
                f" {NOW})",
            ):
                conn.execute(text(statement))
        upgrade()
        with db.engine.connect() as conn:
            counts = {
                table: conn.execute(text(f"SELECT count(*) FROM {table}")).scalar()
                for table in ("users", "user_roles", "activities", "evidence_files")
            }
            institution = conn.execute(
                text("SELECT institution_id FROM users WHERE id = 1")
            ).scalar()
        assert counts == {
            "users": 1,
            "user_roles": 1,
            "activities": 1,
            "evidence_files": 1,
        }
        assert institution == 3


def _user_row(user_id: int, department: int | None, institution: int | None) -> str:
    return (
        "INSERT INTO users (id, username, display_name, password_hash, is_active,"
        " session_version, locale, timezone, created_at, updated_at, department_id,"
        f" institution_id) VALUES ({user_id}, 'u{user_id}', '老师', 'x', true, 1,"
        f" 'zh_Hans_CN', 'Asia/Shanghai', {NOW}, {NOW},"
        f" {department or 'NULL'}, {institution or 'NULL'})"
    )


def _profile_row(user_id: int, staff: str, institution: int | None = None) -> str:
    columns, values = "", ""
    if institution is not None:
        columns, values = ", institution_id", f", {institution}"
    return (
        "INSERT INTO teacher_profiles (user_id, staff_number, is_professional_course,"
        f" prior_industry_years{columns}) VALUES ({user_id}, '{staff}', true, 0"
        f"{values})"
    )


def test_staff_numbers_per_college(empty_database: str, tmp_path, capfd) -> None:
    """0014 → 0015 gives each profile its user's college; 工号 unique per college."""
    from sqlalchemy import text
    from sqlalchemy.exc import IntegrityError

    with _migrating(empty_database, tmp_path):
        upgrade(revision="0014")
        with db.engine.begin() as conn:
            for statement in (
                "INSERT INTO institutions (id, code, name) VALUES (1, 'A', '甲学院')",
                "INSERT INTO institutions (id, code, name) VALUES (2, 'B', '乙学院')",
                "INSERT INTO departments (id, institution_id, code, name)"
                " VALUES (11, 1, 'AI', '人工智能系')",
                "INSERT INTO departments (id, institution_id, code, name)"
                " VALUES (21, 2, 'AI', '人工智能系')",
                _user_row(1, 11, 1),
                _user_row(2, 21, 2),
                _user_row(3, None, 2),
                _profile_row(1, "0001"),
                _profile_row(2, "0002"),
                _profile_row(3, "0003"),
            ):
                conn.execute(text(statement))
        upgrade(revision="0015")
        with db.engine.connect() as conn:
            rows = conn.execute(
                text("SELECT user_id, institution_id FROM teacher_profiles")
            ).all()
        assert sorted(map(tuple, rows)) == [(1, 1), (2, 2), (3, 2)]
        with db.engine.begin() as conn:  # the same 工号 in another college
            conn.execute(text(_user_row(4, 21, 2)))
            conn.execute(text(_profile_row(4, "0001", 2)))
            conn.execute(text(_user_row(5, 11, 1)))
        for statement in (
            _profile_row(5, "0001", 1),  # twice in one college
            _profile_row(5, "0009", 2),  # a college other than the user's
        ):
            with db.engine.connect() as conn, pytest.raises(IntegrityError):
                conn.execute(text(statement))
        with pytest.raises(SystemExit):  # Flask-Migrate logs the error and exits
            downgrade(revision="0014")
        assert "used in several colleges: 0001." in capfd.readouterr().err
        with db.engine.begin() as conn:
            conn.execute(text("DELETE FROM users WHERE id IN (4, 5)"))
        downgrade(revision="0014")
        with db.engine.connect() as conn:
            assert (
                conn.execute(text("SELECT count(*) FROM teacher_profiles")).scalar()
                == 3
            )
        with db.engine.begin() as conn:
            conn.execute(text(_user_row(4, 21, 2)))
        with db.engine.connect() as conn, pytest.raises(IntegrityError):
            conn.execute(text(_profile_row(4, "0001")))


def test_profiles_without_college(empty_database: str, tmp_path, capfd) -> None:
    """A profile whose user has no college: the only college takes both, or stop."""
    from sqlalchemy import text

    with _migrating(empty_database, tmp_path):
        upgrade(revision="0014")
        with db.engine.begin() as conn:
            conn.execute(text("INSERT INTO institutions VALUES (1, 'A', '甲学院')"))
            conn.execute(text(_user_row(1, None, None)))
            conn.execute(text(_profile_row(1, "0001")))
            conn.execute(text("INSERT INTO institutions VALUES (2, 'B', '乙学院')"))
        with pytest.raises(SystemExit):
            upgrade(revision="0015")
        assert "with a teacher profile have none: u1." in capfd.readouterr().err
        with db.engine.begin() as conn:
            conn.execute(text("DELETE FROM institutions WHERE id = 2"))
        upgrade(revision="0015")
        with db.engine.connect() as conn:
            row = conn.execute(
                text(
                    "SELECT users.institution_id, teacher_profiles.institution_id"
                    " FROM users JOIN teacher_profiles ON user_id = users.id"
                )
            ).one()
        assert tuple(row) == (1, 1)
