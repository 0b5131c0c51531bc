"""Operator commands registered on the flask CLI."""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from pdtracker.backup import BackupError, create_backup, restore_backup
from pdtracker.demo import seed_demo
from pdtracker.extensions import db
from pdtracker.timeutil import utcnow


@click.command("seed-demo")
@with_appcontext
def seed_demo_command() -> None:
    """Load the demo data into the configured database (idempotent)."""
    for line in seed_demo():
        click.echo(line)


@click.group("backup")
def backup_cli() -> None:
    """Back up and restore the database and the uploads."""


@backup_cli.command("create")
@click.argument("dest", type=click.Path(file_okay=False, path_type=Path))
@with_appcontext
def backup_create(dest: Path) -> None:
    """Write a consistent copy of the database and uploads, with a manifest, into DEST."""
    try:
        summary = create_backup(db.engine, _uploads(), dest, utcnow(), _secret_key())
    except BackupError as exc:
        raise click.ClickException(str(exc)) from exc
    rows = sum(summary.tables.values())
    click.echo(f"backup written to {summary.path}: {summary.files} files, {rows} rows")


@backup_cli.command("restore")
@click.argument("src", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option(
    "--trust",
    is_flag=True,
    help="Restore a backup signed by another deployment (another SECRET_KEY): skips "
    "only the signature check; checksums and row counts are still verified.",
)
@with_appcontext
def backup_restore(src: Path, trust: bool) -> None:
    """Verify SRC (signature, checksums, row counts) and restore it into this empty instance.

    Only the files the manifest lists are restored. A restore that fails leaves the
    database and the upload folder as they were.
    """
    try:
        summary = restore_backup(db.engine, _uploads(), src, _secret_key(), trust=trust)
    except BackupError as exc:
        raise click.ClickException(str(exc)) from exc
    rows = sum(summary.tables.values())
    click.echo(f"restored {src}: {summary.files} files verified, {rows} rows")


def _secret_key() -> str:
    """The key the backup manifest's signature is derived from."""
    return current_app.config["SECRET_KEY"]


def _uploads() -> Path:
    return Path(current_app.config["UPLOAD_FOLDER"])
