"""Backups taken while the app writes restore exactly; a failed restore changes nothing."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

from flask import Flask
from sqlalchemy import create_engine, inspect, select
from sqlalchemy.pool import NullPool

from pdtracker import create_app
from pdtracker.activities.models import EvidenceFile
from pdtracker.audit import AuditEntry
from pdtracker.extensions import db
from pdtracker.timeutil import utcnow
from tests import test_backup
from tests.test_backup import _dump_tables, _files

target_url = test_backup.target_url  # the empty database a restore goes into

WRITER = "backup-test-writer"


class Writer(threading.Thread):
    """Inserts audit rows numbered 1, 2, 3... one transaction each, until stopped."""

    def __init__(self, database_url: str) -> None:
        super().__init__(daemon=True)
        args = {"timeout": 30} if database_url.startswith("sqlite") else {}
        self.engine = create_engine(database_url, poolclass=NullPool, connect_args=args)
        self.committed = 0
        self.error: BaseException | None = None
        self._halt = threading.Event()

    def run(self) -> None:
        """Insert until told to stop; remember how many rows are committed."""
        try:
            while not self._halt.is_set():
                with self.engine.begin() as conn:
                    conn.execute(
                        AuditEntry.__table__.insert().values(
                            action=WRITER,
                            object_type="test",
                            object_id=self.committed + 1,
                            details={},
                            created_at=utcnow(),
                        )
                    )
                self.committed += 1
                time.sleep(0.001)
        except BaseException as exc:  # noqa: BLE001  (reported by the test)
            self.error = exc

    def wait_for(self, rows: int, timeout: float = 30) -> None:
        """Block until at least `rows` rows are committed."""
        deadline = time.monotonic() + timeout
        while self.committed < rows:
            assert self.error is None, self.error
            assert time.monotonic() < deadline, "the writer is stuck"
            time.sleep(0.01)

    def stop(self) -> None:
        """Stop and join; re-raise what went wrong in the thread."""
        self._halt.set()
        self.join(timeout=30)
        self.engine.dispose()
        assert self.error is None, self.error


def _fresh(target_url: str, uploads: Path) -> Flask:
    """An app over the empty target, on this deployment's secret key."""
    return create_app(
        {"SQLALCHEMY_DATABASE_URI": target_url, "SECRET_KEY": "test-secret",
         "UPLOAD_FOLDER": str(uploads)}
    )  # fmt: skip


def _writer_ids(app: Flask) -> list[int]:
    with app.app_context():
        ids = db.session.scalars(
            select(AuditEntry.object_id)
            .where(AuditEntry.action == WRITER)
            .order_by(AuditEntry.object_id)
        ).all()
        db.session.remove()
        return list(ids)


def test_backup_taken_under_writes_restores_the_snapshot_exactly(
    app, world, database_url, tmp_path, target_url
) -> None:
    writer = Writer(database_url)
    writer.start()
    try:
        writer.wait_for(20)
        before_create = writer.committed
        dest = tmp_path / "backup"
        result = app.test_cli_runner().invoke(args=["backup", "create", str(dest)])
        assert result.exit_code == 0, result.output
        after_create = writer.committed
        writer.wait_for(after_create + 20)  # and it goes on after the snapshot
    finally:
        writer.stop()
    # The writer really ran while the backup was taken.
    assert after_create > before_create
    with app.app_context():
        others = {k: v for k, v in _dump_tables(db.engine).items() if k != "audit_log"}
        db.engine.dispose()

    fresh = _fresh(target_url, tmp_path / "restored-uploads")
    result = fresh.test_cli_runner().invoke(args=["backup", "restore", str(dest)])
    assert result.exit_code == 0, result.output

    manifest = json.loads((dest / "manifest.json").read_text())
    restored = _writer_ids(fresh)
    # One writer commits 1, 2, 3... in order: a snapshot holds a gapless prefix,
    # and the manifest counts exactly the rows of that snapshot.
    assert restored == list(range(1, len(restored) + 1))
    assert before_create <= len(restored) < writer.committed
    assert manifest["tables"]["audit_log"] == len(restored)
    with fresh.app_context():
        tables = _dump_tables(db.engine)
        db.engine.dispose()
    assert {k: v for k, v in tables.items() if k != "audit_log"} == others


def _backup_with_upload(app: Flask, activity, tmp_path: Path) -> Path:
    uploads = Path(app.config["UPLOAD_FOLDER"])
    (uploads / "ev").mkdir(parents=True, exist_ok=True)
    (uploads / "ev" / "f00d.pdf").write_bytes(b"%PDF-1.4 proof")
    with app.app_context():
        db.session.add(
            EvidenceFile(
                activity_id=activity.id,
                original_name="证明.pdf",
                stored_name="f00d.pdf",
                content_type="application/pdf",
                size_bytes=14,
                sha256="0" * 64,
            )
        )
        db.session.commit()
    dest = tmp_path / "backup"
    result = app.test_cli_runner().invoke(args=["backup", "create", str(dest)])
    assert result.exit_code == 0, result.output
    return dest


def test_restore_that_fails_while_loading_leaves_the_target_untouched(
    app, world, make_activity, tmp_path, target_url
) -> None:
    """The manifest's counts disagree with the dump: found only by loading it.

    Under --trust (no signature) the edited manifest gets as far as the load, which
    must then roll back: no tables, no uploads, and a retry with the true manifest works.
    """
    dest = _backup_with_upload(app, make_activity(world["teacher1"]), tmp_path)
    original = (dest / "manifest.json").read_text()
    manifest = json.loads(original)
    manifest["tables"]["users"] += 1
    (dest / "manifest.json").write_text(json.dumps(manifest))

    restored_uploads = tmp_path / "restored-uploads"
    fresh = _fresh(target_url, restored_uploads)
    runner = fresh.test_cli_runner()
    result = runner.invoke(args=["backup", "restore", "--trust", str(dest)])
    assert result.exit_code == 1, result.output
    assert "row count" in result.output
    assert "users" in result.output
    with fresh.app_context():
        assert inspect(db.engine).get_table_names() == []
        db.engine.dispose()
    assert not restored_uploads.exists() or not any(restored_uploads.iterdir())
    assert not [p for p in tmp_path.iterdir() if "restore" in p.name and p.is_dir()
                and p != restored_uploads]  # fmt: skip

    (dest / "manifest.json").write_text(original)
    result = runner.invoke(args=["backup", "restore", str(dest)])
    assert result.exit_code == 0, result.output
    with fresh.app_context():
        assert _dump_tables(db.engine)["users"]
        db.engine.dispose()
    assert _files(restored_uploads) == {"ev/f00d.pdf": b"%PDF-1.4 proof"}


def test_restore_refusing_a_damaged_dump_can_be_retried(
    app, world, make_activity, tmp_path, target_url
) -> None:
    dest = _backup_with_upload(app, make_activity(world["teacher1"]), tmp_path)
    dump = next(p for p in dest.iterdir() if p.name.startswith("database"))
    good = dump.read_bytes()
    dump.write_bytes(good[: len(good) // 2])

    restored_uploads = tmp_path / "restored-uploads"
    fresh = _fresh(target_url, restored_uploads)
    runner = fresh.test_cli_runner()
    result = runner.invoke(args=["backup", "restore", str(dest)])
    assert result.exit_code == 1, result.output
    assert "checksum mismatch" in result.output
    with fresh.app_context():
        assert inspect(db.engine).get_table_names() == []
        db.engine.dispose()
    assert not restored_uploads.exists() or not any(restored_uploads.iterdir())

    dump.write_bytes(good)
    result = runner.invoke(args=["backup", "restore", str(dest)])
    assert result.exit_code == 0, result.output
    with fresh.app_context():
        db.engine.dispose()
    assert _files(restored_uploads) == {"ev/f00d.pdf": b"%PDF-1.4 proof"}
