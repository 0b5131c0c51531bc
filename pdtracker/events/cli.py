"""`flask events …`: import an association calendar from the command line."""

from __future__ import annotations

import json
import re
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from pdtracker.events.importing import ImportReport, import_file, import_url
from pdtracker.extensions import db
from pdtracker.timeutil import utcnow

events_cli = AppGroup("events", help="Association events.")

_URL = re.compile(r"^(https?|webcal)://", re.IGNORECASE)


@events_cli.command("import")
@click.argument("file_or_url")
@click.option(
    "--json", "as_json", is_flag=True, help="Print the report as one JSON object."
)
@click.option(
    "--allow-private",
    is_flag=True,
    help="Allow a URL in a private or loopback network.",
)
def import_command(file_or_url: str, as_json: bool, allow_private: bool) -> None:
    """Import events from an .ics FILE or an https URL; print the report."""
    now = utcnow()
    if _URL.match(file_or_url):
        allow = allow_private or bool(current_app.config.get("IMPORT_ALLOW_PRIVATE"))
        report = import_url(file_or_url, None, now, allow_private=allow)
    else:
        path = Path(file_or_url)
        if not path.is_file():
            raise click.BadParameter(
                f"no such file: {file_or_url}", param_hint="FILE_OR_URL"
            )
        report = import_file(_read_bounded(path), path.name, None, now)
    db.session.commit()
    if as_json:
        click.echo(json.dumps(report.as_dict(), ensure_ascii=False))
    else:
        _print(report)
    if not report.ok:
        raise SystemExit(1)


def _read_bounded(path: Path) -> bytes:
    # One byte over the limit is enough for the parser to refuse the file as too large.
    limit = current_app.config.get("IMPORT_MAX_BYTES", 5 * 1024 * 1024)
    with path.open("rb") as handle:
        return handle.read(limit + 1)


def _print(report: ImportReport) -> None:
    if report.error:
        detail = f" ({report.error_detail})" if report.error_detail else ""
        click.echo(f"error: {report.error}{detail}", err=True)
        return
    if report.not_modified:
        click.echo("not modified since the last import")
    click.echo(
        f"created: {report.created}  updated: {report.updated}  "
        f"unchanged: {report.unchanged}  skipped: {len(report.skipped)}"
    )
    for item in report.skipped:
        label = item.uid or item.summary or "?"
        click.echo(f"  skipped {label}: {item.reason} {item.detail}".rstrip())
