"""Consistent backups of the database and the uploads, with a signed, checksummed manifest.

The manifest describes exactly what the backup holds: the row counts come from the same
snapshot as the database copy, and every file is listed with its size and SHA-256. It is
signed with an HMAC keyed by the deployment's SECRET_KEY, so an edited manifest (or one
from another deployment) is refused unless the operator says --trust.

A restore verifies everything before it touches the target, restores only the files the
manifest lists, and either completes or leaves the target as it was. See
docs/deployment.md D14.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import shutil
import sqlite3
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path, PurePosixPath
from typing import Any

from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import URL, Connection, Engine
from sqlalchemy.pool import NullPool

MANIFEST = "manifest.json"
FORMAT = 2  # 2: signed manifest, counts from the dump's own snapshot
UPLOADS = "uploads"
DUMP_NAMES = {"sqlite": "database.sqlite", "postgresql": "database.dump"}
# The manifest key is derived from SECRET_KEY, never SECRET_KEY itself: a signature
# made here cannot be replayed as a session cookie or any other use of that key.
SIGNING_CONTEXT = b"pdtracker-backup-manifest"
STAGING_PREFIX = ".pdtracker-restore-"


class BackupError(Exception):
    """A backup or restore that cannot go on; the message says why."""


@dataclass(frozen=True)
class BackupSummary:
    """What a backup or restore handled."""

    path: Path
    files: int
    tables: dict[str, int]


@dataclass(frozen=True)
class _Snapshot:
    """What the database copy holds, read from the copy's own snapshot."""

    name: str
    schema: str | None
    revision: str | None
    tables: dict[str, int]


def create_backup(
    engine: Engine, upload_folder: Path, dest: Path, now: datetime, secret_key: str
) -> BackupSummary:
    """Copy the database (online) and the uploads into dest and write the signed manifest."""
    if dest.exists() and any(dest.iterdir()):
        raise BackupError(f"{dest} is not empty")
    dest.mkdir(parents=True, exist_ok=True)
    snapshot = _dump_database(engine, dest)
    if upload_folder.is_dir():
        shutil.copytree(upload_folder, dest / UPLOADS)
    files = {
        p.relative_to(dest).as_posix(): _digest(p)
        for p in sorted(dest.rglob("*"))
        if p.is_file() and p.name != MANIFEST
    }
    body = {
        "format": FORMAT,
        "created_at": now.isoformat(),
        "dialect": engine.dialect.name,
        "database": snapshot.name,
        "schema": snapshot.schema,
        "revision": snapshot.revision,
        "tables": snapshot.tables,
        "files": files,
    }
    manifest = {**body, "signature": sign_manifest(body, secret_key)}
    (dest / MANIFEST).write_text(json.dumps(manifest, indent=2, ensure_ascii=False))
    return BackupSummary(dest, len(files), snapshot.tables)


def restore_backup(
    engine: Engine,
    upload_folder: Path,
    src: Path,
    secret_key: str,
    *,
    trust: bool = False,
) -> BackupSummary:
    """Verify src, then restore it into this empty instance, all or nothing.

    trust skips only the signature check (a backup from another deployment); the
    checksums and row counts are verified all the same.
    """
    manifest = read_manifest(src, secret_key, trust=trust)
    if manifest["dialect"] != engine.dialect.name:
        raise BackupError(
            f"backup is of {manifest['dialect']}, this instance uses {engine.dialect.name}"
        )
    if inspect(engine).get_table_names():
        raise BackupError("the target database is not empty")
    if upload_folder.exists() and any(upload_folder.iterdir()):
        raise BackupError(f"the upload folder {upload_folder} is not empty")
    with _staging(upload_folder) as staging:
        _stage_files(src, manifest, staging)
        dump = staging / manifest["database"]
        if engine.dialect.name == "sqlite":
            _check_sqlite_copy(dump, manifest)
        placed = _place_uploads(staging / UPLOADS, upload_folder)
        try:
            _load_database(engine, dump, manifest, staging)
        except BaseException:
            _remove(placed)  # the database is untouched: take the uploads back out
            raise
    return BackupSummary(src, len(manifest["files"]), manifest["tables"])


def sign_manifest(body: dict[str, Any], secret_key: str | bytes) -> str:
    """HMAC-SHA256 of the manifest's canonical JSON, keyed by a key derived from secret_key."""
    secret = secret_key.encode() if isinstance(secret_key, str) else secret_key
    key = hmac.new(secret, SIGNING_CONTEXT, hashlib.sha256).digest()
    payload = json.dumps(
        body, sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )
    return hmac.new(key, payload.encode(), hashlib.sha256).hexdigest()


def read_manifest(src: Path, secret_key: str, *, trust: bool = False) -> dict[str, Any]:
    """The manifest of src, its signature checked (unless trust) and its names vetted."""
    try:
        manifest = json.loads((src / MANIFEST).read_text())
    except (OSError, ValueError) as exc:
        raise BackupError(f"no readable manifest in {src}: {exc}") from exc
    if not isinstance(manifest, dict):
        raise BackupError("the manifest is malformed")
    if manifest.get("format") not in (
        1,
        FORMAT,
    ):  # 1: unsigned, restorable with --trust
        raise BackupError(f"unknown backup format {manifest.get('format')!r}")
    signature = manifest.pop("signature", None)
    if not trust:
        if not isinstance(signature, str):
            raise BackupError(
                "the manifest carries no signature; if you know where this backup comes"
                " from, restore it with --trust (checksums are still verified)"
            )
        if not hmac.compare_digest(signature, sign_manifest(manifest, secret_key)):
            raise BackupError(
                "the manifest's signature does not match this deployment's SECRET_KEY:"
                " the manifest was edited, or the backup comes from another deployment."
                " Nothing was restored. To restore another deployment's backup, use"
                " --trust (it skips only the signature; checksums are still verified)"
            )
    _check_shape(manifest)
    return manifest


def _check_shape(manifest: dict[str, Any]) -> None:
    """Refuse a manifest whose entries could name files outside the backup's own."""
    database = DUMP_NAMES.get(str(manifest.get("dialect")))
    files = manifest.get("files")
    tables = manifest.get("tables")
    if (
        database is None
        or manifest.get("database") != database
        or not isinstance(files, dict)
        or database not in files
        or not isinstance(tables, dict)
        or not all(type(n) is int and n >= 0 for n in tables.values())
    ):
        raise BackupError("the manifest is malformed")
    for name, entry in files.items():
        parts = PurePosixPath(name).parts
        upload = len(parts) > 1 and parts[0] == UPLOADS and ".." not in parts
        if name != database and not upload:
            raise BackupError(f"{name!r} is not a file this backup may hold")
        if not (
            isinstance(entry, dict)
            and isinstance(entry.get("sha256"), str)
            and type(entry.get("size")) is int
        ):
            raise BackupError(f"the manifest entry of {name} is malformed")


@contextmanager
def _staging(upload_folder: Path) -> Iterator[Path]:
    """A scratch folder inside the upload folder (same file system: moves are renames).

    It goes away whatever happens, and so does the upload folder if it was made for it.
    """
    created = not upload_folder.exists()
    upload_folder.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=STAGING_PREFIX, dir=upload_folder))
    failed = True
    try:
        yield staging
        failed = False
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        if failed and created:
            shutil.rmtree(upload_folder, ignore_errors=True)


def _stage_files(src: Path, manifest: dict[str, Any], staging: Path) -> None:
    """Copy every listed file, and only those, checking each copy's checksum.

    Hashing the copy (not the original) means what is restored is what was verified.
    """
    for name, expected in manifest["files"].items():
        source = src / name
        if source.is_symlink() or not source.is_file():
            raise BackupError(f"missing file in backup: {name}")
        copy = staging / name
        copy.parent.mkdir(parents=True, exist_ok=True)
        got = _copy_digest(source, copy)
        if got != {"sha256": expected["sha256"], "size": expected["size"]}:
            raise BackupError(f"checksum mismatch: {name}")


def _place_uploads(staged: Path, upload_folder: Path) -> list[Path]:
    """Move the staged uploads into the (empty) upload folder; return what was moved."""
    placed = []
    if staged.is_dir():
        for entry in sorted(staged.iterdir()):
            target = upload_folder / entry.name
            entry.rename(target)
            placed.append(target)
    return placed


def _remove(paths: list[Path]) -> None:
    for path in paths:
        if path.is_dir():
            shutil.rmtree(path)
        else:
            path.unlink()


def _copy_digest(source: Path, copy: Path) -> dict[str, int | str]:
    sha = hashlib.sha256()
    size = 0
    with source.open("rb") as fh, copy.open("xb") as out:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            sha.update(chunk)
            out.write(chunk)
            size += len(chunk)
    return {"sha256": sha.hexdigest(), "size": size}


def _digest(path: Path) -> dict[str, int | str]:
    sha = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            sha.update(chunk)
    return {"sha256": sha.hexdigest(), "size": path.stat().st_size}


def table_counts(conn: Connection) -> dict[str, int]:
    """Row count of every table of the connection's default schema."""
    quote = conn.dialect.identifier_preparer.quote
    return {
        name: conn.execute(text(f"SELECT COUNT(*) FROM {quote(name)}")).scalar_one()
        for name in sorted(inspect(conn).get_table_names())
    }


def _revision(conn: Connection) -> str | None:
    if "alembic_version" not in inspect(conn).get_table_names():
        return None
    return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()


def _compare_counts(found: dict[str, int], expected: dict[str, int]) -> None:
    if found == expected:
        return
    diffs = [
        f"row count of {name} is {found.get(name)}, the manifest says {expected.get(name)}"
        for name in sorted(found.keys() | expected.keys())
        if found.get(name) != expected.get(name)
    ]
    raise BackupError("; ".join(diffs) + "; nothing was restored")


# --- SQLite --------------------------------------------------------------------------


@contextmanager
def _sqlite_file(path: Path) -> Iterator[Connection]:
    engine = create_engine(f"sqlite:///{path}", poolclass=NullPool)
    try:
        with engine.connect() as conn:
            yield conn
    finally:
        engine.dispose()


def _dump_sqlite(engine: Engine, dest: Path) -> _Snapshot:
    target = dest / DUMP_NAMES["sqlite"]
    source = sqlite3.connect(_sqlite_path(engine.url), timeout=30)
    try:
        copy = sqlite3.connect(target)
        try:
            # The online backup API, in one step: a consistent snapshot, writers go on.
            source.backup(copy)
            # A self-contained file: no -wal/-shm beside it when it is read.
            copy.execute("PRAGMA journal_mode=DELETE")
        finally:
            copy.close()
    finally:
        source.close()
    # Counted in the copy itself: the manifest describes exactly what the file holds.
    with _sqlite_file(target) as conn:
        return _Snapshot(target.name, None, _revision(conn), table_counts(conn))


def _check_sqlite_copy(path: Path, manifest: dict[str, Any]) -> None:
    """Integrity and row counts of the staged copy, before the target is touched."""
    try:
        with _sqlite_file(path) as conn:
            status = conn.execute(text("PRAGMA integrity_check")).scalar()
            if status != "ok":
                raise BackupError(f"the database copy is damaged: {status}")
            counts = table_counts(conn)
    except Exception as exc:  # noqa: BLE001  (sqlite3 and SQLAlchemy wrap it differently)
        if isinstance(exc, BackupError):
            raise
        raise BackupError(f"the database copy is damaged: {exc}") from exc
    _compare_counts(counts, manifest["tables"])


def _load_sqlite(engine: Engine, dump: Path) -> None:
    engine.dispose()
    source = sqlite3.connect(dump)
    try:
        target = sqlite3.connect(_sqlite_path(engine.url), timeout=30)
        try:
            # One step is one write transaction on the target: all of it or nothing.
            source.backup(target)
        finally:
            target.close()
    finally:
        source.close()


def _sqlite_path(url: URL) -> str:
    if not url.database or url.database == ":memory:":
        raise BackupError("an in-memory SQLite database cannot be backed up")
    return url.database


# --- PostgreSQL ----------------------------------------------------------------------

# Runs after the restore script, in the same transaction: a mismatch rolls it all back.
_PG_CHECK = """
SELECT pg_catalog.set_config('pdtracker.expected', :'expected', true),
       pg_catalog.set_config('pdtracker.schema', :'schema', true);
DO $check$
DECLARE
  expected jsonb := pg_catalog.current_setting('pdtracker.expected')::jsonb;
  target text := pg_catalog.current_setting('pdtracker.schema');
  tbl text;
  actual bigint;
BEGIN
  FOR tbl IN
    (SELECT tablename::text FROM pg_catalog.pg_tables WHERE schemaname = target
     EXCEPT SELECT k FROM pg_catalog.jsonb_object_keys(expected) AS k)
  LOOP
    RAISE EXCEPTION 'table % is not in the manifest', tbl;
  END LOOP;
  FOR tbl IN SELECT k FROM pg_catalog.jsonb_object_keys(expected) AS k LOOP
    IF pg_catalog.to_regclass(pg_catalog.format('%I.%I', target, tbl)) IS NULL THEN
      RAISE EXCEPTION 'table % of the manifest is not in the dump', tbl;
    END IF;
    EXECUTE pg_catalog.format('SELECT count(*) FROM %I.%I', target, tbl) INTO actual;
    IF actual <> (expected ->> tbl)::bigint THEN
      RAISE EXCEPTION 'row count of % is %, the manifest says %',
        tbl, actual, expected ->> tbl;
    END IF;
  END LOOP;
END
$check$;
"""


def _dump_postgresql(engine: Engine, dest: Path) -> _Snapshot:
    """pg_dump from a snapshot exported by a transaction that counts the rows in it."""
    target = dest / DUMP_NAMES["postgresql"]
    with engine.connect() as conn:
        conn = conn.execution_options(
            isolation_level="REPEATABLE READ", postgresql_readonly=True
        )
        with conn.begin():
            snapshot = conn.execute(text("SELECT pg_export_snapshot()")).scalar_one()
            schema = conn.execute(text("SELECT current_schema()")).scalar_one()
            revision, tables = _revision(conn), table_counts(conn)
            # The snapshot stays importable only while this transaction is open.
            _run(
                ["pg_dump", "--format=custom", "--no-owner", f"--snapshot={snapshot}",
                 f"--file={target}"],
                engine.url,
            )  # fmt: skip
    return _Snapshot(target.name, schema, revision, tables)


def _load_postgresql(
    engine: Engine, dump: Path, manifest: dict[str, Any], work: Path
) -> None:
    """The dump as one psql transaction, with the count check before its COMMIT."""
    script = work / "restore.sql"
    _run(["pg_restore", "--no-owner", f"--file={script}", str(dump)])
    check = work / "check.sql"
    check.write_text(_PG_CHECK)
    try:
        _run(
            ["psql", "--no-psqlrc", "--quiet", "--set=ON_ERROR_STOP=1",
             "--single-transaction",
             f"--set=expected={json.dumps(manifest['tables'])}",
             f"--set=schema={manifest.get('schema') or 'public'}",
             f"--file={script}", f"--file={check}"],
            engine.url,
        )  # fmt: skip
    except BackupError as exc:
        raise BackupError(f"{exc} (rolled back: nothing was restored)") from exc


def _load_database(
    engine: Engine, dump: Path, manifest: dict[str, Any], work: Path
) -> None:
    if engine.dialect.name == "sqlite":
        _load_sqlite(engine, dump)
    else:
        _load_postgresql(engine, dump, manifest, work)


def _dump_database(engine: Engine, dest: Path) -> _Snapshot:
    if engine.dialect.name == "sqlite":
        return _dump_sqlite(engine, dest)
    if engine.dialect.name == "postgresql":
        return _dump_postgresql(engine, dest)
    raise BackupError(f"backups of {engine.dialect.name} are not supported")


def _run(command: list[str], url: URL | None = None) -> None:
    """Run a PostgreSQL client tool; the password goes through the environment, not argv."""
    env = dict(os.environ)
    if url is not None:
        if url.password:
            env["PGPASSWORD"] = str(url.password)
        conninfo = url.set(drivername="postgresql", password=None).render_as_string()
        command = [*command, f"--dbname={conninfo}"]
    result = subprocess.run(command, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        raise BackupError(f"{command[0]} failed: {result.stderr.strip()[:500]}")
