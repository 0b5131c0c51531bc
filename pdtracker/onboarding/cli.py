"""``flask import people|enterprises|records FILE``: the importers on the command line."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select

from pdtracker.extensions import db
from pdtracker.onboarding.errors import FileRefused
from pdtracker.onboarding.reading import MAX_BYTES
from pdtracker.onboarding.services import error_dicts, get_mapping, run_import
from pdtracker.org.models import Institution
from pdtracker.timeutil import utcnow

import_cli = AppGroup("import", help="Import people, enterprises or training records.")


class Unreadable(click.ClickException):
    """The file cannot be read as a spreadsheet: exit 2 with a one-line message."""

    exit_code = 2


def _command(importer: str) -> click.Command:
    @import_cli.command(importer)
    @click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
    @click.option("--mapping", "mapping_name", help="A saved column mapping's name.")
    @click.option("--dry-run", is_flag=True, help="Check only: write nothing.")
    @click.option("--verified", is_flag=True, help="Accept records as verified.")
    @click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
    @click.option(
        "--college", "college_code",
        help="The college's code: only its departments and teachers (default: all).",
    )  # fmt: skip
    def command(
        file: Path,
        mapping_name: str | None,
        dry_run: bool,
        verified: bool,
        as_json: bool,
        college_code: str | None,
    ) -> None:
        # No request, no user: messages in the deployment's default language.
        with force_locale(current_app.config["BABEL_DEFAULT_LOCALE"]):
            college = _college(college_code)
            _run(importer, file, mapping_name, dry_run, verified, as_json, college)

    command.__doc__ = f"Import {importer} from an XLSX or CSV FILE."
    return command


for _importer in ("people", "enterprises", "records"):
    _command(_importer)


def _read(path: Path) -> bytes:
    try:
        with path.open("rb") as handle:
            return handle.read(MAX_BYTES + 1)  # one byte over: refused as too large
    except OSError as exc:
        raise Unreadable(f"{path}: {exc.strerror}") from exc


def _college(code: str | None) -> int | None:
    if code is None:
        return None
    found = db.session.scalar(select(Institution.id).filter_by(code=code))
    if found is None:
        raise Unreadable(_("No college has the code %(code)s.", code=code))
    return found


def _run(importer: str, path: Path, mapping_name: str | None, dry_run: bool,
         verified: bool, as_json: bool, college: int | None) -> None:  # fmt: skip
    overrides = None
    if mapping_name:
        mapping = get_mapping(importer, mapping_name, college)
        if mapping is None:
            raise Unreadable(_("No saved mapping named %(name)s.", name=mapping_name))
        overrides = mapping.columns
    try:
        plan, applied = run_import(importer, _read(path), filename=path.name,
                                   actor=None, now=utcnow(), overrides=overrides,
                                   verified=verified, dry_run=dry_run,
                                   link=_mail_link(), college=college)  # fmt: skip
    except FileRefused as exc:
        db.session.rollback()
        raise Unreadable(f"{path.name}: {_(exc.template, **exc.params)}") from exc
    except Exception:
        db.session.rollback()  # all rows or none
        raise
    if dry_run:
        db.session.rollback()
    else:
        db.session.commit()
    report = {**plan.summary(), "errors": error_dicts(plan)}
    if as_json:
        click.echo(json.dumps(report, ensure_ascii=False))
        return
    _print(report, applied.accounts if applied else [])


def _print(report: dict, accounts: list) -> None:
    click.echo(
        _(
            "%(rows)s rows: %(created)s created, %(updated)s updated, "
            "%(unchanged)s unchanged, %(duplicates)s duplicates, %(errors)s errors",
            **{**report, "errors": len(report["errors"])},
        )
    )
    for error in report["errors"]:
        click.echo(f"  {error['row']} {error['column']}: {error['message']}")
    for account in accounts:
        who = f"{account.staff_number} {account.name}"
        if account.username != account.staff_number:  # another college has it
            who += " " + _("(login %(username)s)", username=account.username)
        if account.mailed:
            sent = _("activation link sent by e-mail to %(email)s", email=account.email)
            click.echo(f"  {who} {sent}")
        else:  # shown once: only the tokens' hashes are stored
            click.echo(f"  {who} {_link(account.token)}")


def _link(token: str) -> str:
    base = (current_app.config.get("PUBLIC_BASE_URL") or "").rstrip("/")
    return f"{base}/activate/{token}"


def _mail_link() -> Callable[[str], str] | None:
    # No request here: only PUBLIC_BASE_URL makes a link that works from a mailbox.
    return _link if current_app.config.get("PUBLIC_BASE_URL") else None
