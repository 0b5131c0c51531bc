"""Backup and restore round trip: every table and every upload comes back identical."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import inspect, text

from pdtracker import create_app
from pdtracker.activities.models import EvidenceFile
from pdtracker.extensions import db
from tests.conftest import PG_URL
from tests.support import pg_database


@pytest.fixture
def target_url(database_url: str, tmp_path: Path) -> Iterator[str]:
    """An empty database of the same kind as the test database."""
    if not PG_URL:
        yield f"sqlite:///{tmp_path / 'restored.sqlite'}"
        return
    with pg_database(PG_URL, f"pdtracker_restore_{uuid.uuid4().hex[:8]}") as url:
        yield url


def _dump_tables(engine) -> dict[str, list[tuple]]:
    with engine.connect() as conn:
        return {
            name: sorted(
                (
                    tuple(map(repr, row))
                    for row in conn.execute(text(f'SELECT * FROM "{name}"'))
                ),
            )
            for name in sorted(inspect(conn).get_table_names())
        }


def _files(folder: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(folder)): p.read_bytes()
        for p in folder.rglob("*")
        if p.is_file()
    }


def test_backup_restores_every_table_and_file(
    app, world, make_activity, tmp_path, target_url
) -> None:
    activity = make_activity(world["teacher1"], title="企业实践报告 · 2026")
    uploads = Path(app.config["UPLOAD_FOLDER"])
    (uploads / "ev").mkdir(parents=True, exist_ok=True)
    (uploads / "ev" / "abc123.pdf").write_bytes(
        b"%PDF-1.4 evidence \xe6\x8a\xa5\xe5\x91\x8a"
    )
    with app.app_context():
        db.session.add(
            EvidenceFile(
                activity_id=activity.id,
                original_name="报告.pdf",
                stored_name="abc123.pdf",
                content_type="application/pdf",
                size_bytes=30,
                sha256="0" * 64,
            )
        )
        db.session.commit()
        before = _dump_tables(db.engine)

    dest = tmp_path / "backup"
    result = app.test_cli_runner().invoke(args=["backup", "create", str(dest)])
    assert result.exit_code == 0, result.output
    assert (dest / "manifest.json").exists()

    restored_uploads = tmp_path / "restored-uploads"
    fresh = create_app(
        {"SQLALCHEMY_DATABASE_URI": target_url, "SECRET_KEY": "test-secret",
         "UPLOAD_FOLDER": str(restored_uploads)}
    )  # fmt: skip
    result = fresh.test_cli_runner().invoke(args=["backup", "restore", str(dest)])
    assert result.exit_code == 0, result.output
    with fresh.app_context():
        assert _dump_tables(db.engine) == before
        db.engine.dispose()
    assert _files(restored_uploads) == _files(uploads)


def test_restore_refuses_a_tampered_backup(app, world, tmp_path, target_url) -> None:
    dest = tmp_path / "backup"
    assert (
        app.test_cli_runner().invoke(args=["backup", "create", str(dest)]).exit_code
        == 0
    )
    dump = next(p for p in dest.iterdir() if p.name.startswith("database"))
    dump.write_bytes(dump.read_bytes() + b"tampered")
    fresh = create_app(
        {"SQLALCHEMY_DATABASE_URI": target_url, "SECRET_KEY": "test-secret",
         "UPLOAD_FOLDER": str(tmp_path / "u")}
    )  # fmt: skip
    result = fresh.test_cli_runner().invoke(args=["backup", "restore", str(dest)])
    assert result.exit_code != 0
    assert "checksum mismatch" in result.output
    with fresh.app_context():
        assert inspect(db.engine).get_table_names() == []
        db.engine.dispose()


def test_restore_refuses_a_non_empty_instance(app, world, tmp_path) -> None:
    dest = tmp_path / "backup"
    assert (
        app.test_cli_runner().invoke(args=["backup", "create", str(dest)]).exit_code
        == 0
    )
    result = app.test_cli_runner().invoke(args=["backup", "restore", str(dest)])
    assert result.exit_code != 0
    assert "not empty" in result.output
