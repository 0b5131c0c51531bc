"""Consistent backups of the database and the uploads, with a checksummed manifest."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import inspect, text
from sqlalchemy.engine import URL, Engine

MANIFEST = "manifest.json"
FORMAT = 1


class BackupError(Exception):
    """A backup or restore that cannot go on; the message says why."""


@dataclass(frozen=True)
class BackupSummary:
    """What a backup or restore handled."""

    path: Path
    files: int
    tables: dict[str, int]


def create_backup(
    engine: Engine, upload_folder: Path, dest: Path, now: datetime
) -> BackupSummary:
    """Copy the database (online) and the uploads into dest and write the manifest."""
    if dest.exists() and any(dest.iterdir()):
        raise BackupError(f"{dest} is not empty")
    dest.mkdir(parents=True, exist_ok=True)
    dump = _dump_database(engine, dest)
    if upload_folder.is_dir():
        shutil.copytree(upload_folder, dest / "uploads")
    files = {
        str(p.relative_to(dest)): _digest(p)
        for p in sorted(dest.rglob("*"))
        if p.is_file() and p.name != MANIFEST
    }
    manifest = {
        "format": FORMAT,
        "created_at": now.isoformat(),
        "dialect": engine.dialect.name,
        "database": dump,
        "revision": _revision(engine),
        "tables": table_counts(engine),
        "files": files,
    }
    (dest / MANIFEST).write_text(json.dumps(manifest, indent=2, ensure_ascii=False))
    return BackupSummary(dest, len(files), manifest["tables"])


def restore_backup(engine: Engine, upload_folder: Path, src: Path) -> BackupSummary:
    """Verify the backup's checksums, then restore it into an empty instance."""
    manifest = verify_backup(src)
    if manifest["dialect"] != engine.dialect.name:
        raise BackupError(
            f"backup is of {manifest['dialect']}, this instance uses {engine.dialect.name}"
        )
    if inspect(engine).get_table_names():
        raise BackupError("the target database is not empty")
    if upload_folder.exists() and any(upload_folder.iterdir()):
        raise BackupError(f"the upload folder {upload_folder} is not empty")
    _load_database(engine, src / manifest["database"])
    if (src / "uploads").is_dir():
        shutil.copytree(src / "uploads", upload_folder, dirs_exist_ok=True)
    restored = table_counts(engine)
    if restored != manifest["tables"]:
        raise BackupError(
            f"row counts differ after restore: {restored} != {manifest['tables']}"
        )
    return BackupSummary(src, len(manifest["files"]), restored)


def verify_backup(src: Path) -> dict:
    """Read the manifest and check every file's size and SHA-256."""
    try:
        manifest = json.loads((src / MANIFEST).read_text())
    except (OSError, ValueError) as exc:
        raise BackupError(f"no readable manifest in {src}: {exc}") from exc
    if manifest.get("format") != FORMAT:
        raise BackupError(f"unknown backup format {manifest.get('format')!r}")
    for name, expected in manifest["files"].items():
        path = src / name
        if not path.is_file():
            raise BackupError(f"missing file in backup: {name}")
        if _digest(path) != expected:
            raise BackupError(f"checksum mismatch: {name}")
    return manifest


def table_counts(engine: Engine) -> dict[str, int]:
    """Row count of every table of the database."""
    with engine.connect() as conn:
        return {
            name: conn.execute(text(f'SELECT COUNT(*) FROM "{name}"')).scalar_one()
            for name in sorted(inspect(conn).get_table_names())
        }


def _digest(path: Path) -> dict[str, int | str]:
    sha = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            sha.update(chunk)
    return {"sha256": sha.hexdigest(), "size": path.stat().st_size}


def _revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        if "alembic_version" not in inspect(conn).get_table_names():
            return None
        return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()


def _dump_database(engine: Engine, dest: Path) -> str:
    if engine.dialect.name == "sqlite":
        target = dest / "database.sqlite"
        source = sqlite3.connect(_sqlite_path(engine.url))
        try:
            with sqlite3.connect(target) as copy:
                source.backup(copy)  # SQLite's online backup API: a consistent snapshot
            copy.close()
        finally:
            source.close()
        return target.name
    if engine.dialect.name == "postgresql":
        target = dest / "database.dump"
        _run_pg(
            ["pg_dump", "--format=custom", "--no-owner", f"--file={target}"], engine.url
        )
        return target.name
    raise BackupError(f"backups of {engine.dialect.name} are not supported")


def _load_database(engine: Engine, dump: Path) -> None:
    if engine.dialect.name == "sqlite":
        engine.dispose()
        source = sqlite3.connect(dump)
        try:
            target = sqlite3.connect(_sqlite_path(engine.url))
            source.backup(target)
            target.close()
        finally:
            source.close()
        return
    _run_pg(
        ["pg_restore", "--no-owner", "--exit-on-error", str(dump)],
        engine.url,
        "--dbname",
    )


def _sqlite_path(url: URL) -> str:
    if not url.database or url.database == ":memory:":
        raise BackupError("an in-memory SQLite database cannot be backed up")
    return url.database


def _run_pg(command: list[str], url: URL, db_flag: str = "--dbname") -> None:
    """Run a PostgreSQL client tool; the password goes through the environment, not argv."""
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    conninfo = url.set(drivername="postgresql", password=None).render_as_string()
    result = subprocess.run(
        [*command, f"{db_flag}={conninfo}"], env=env, capture_output=True, text=True
    )
    if result.returncode != 0:
        raise BackupError(f"{command[0]} failed: {result.stderr.strip()[:500]}")
