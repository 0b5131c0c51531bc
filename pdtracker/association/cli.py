"""``flask standings …``: the stored standings the association dashboard reads."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from pdtracker.extensions import db
from pdtracker.progress import standings
from pdtracker.timeutil import utcnow

standings_cli = AppGroup("standings", help="Stored standings (association dashboard).")


@standings_cli.command("refresh")
@click.option(
    "--full",
    is_flag=True,
    help="Evaluate every teacher, not only those whose standing may have changed.",
)
@click.option(
    "--workers",
    type=click.IntRange(1, 64),
    default=1,
    show_default=True,
    help="Processes evaluating at once (one per core suits a full run).",
)
def refresh_command(full: bool, workers: int) -> None:
    """Bring the stored standings up to date now (the scheduler does it every 15 min)."""
    counts = standings.refresh(utcnow(), full=full, workers=workers)
    db.session.commit()
    # An operator's console line, like the scheduler's (not translated).
    click.echo(
        f"{counts['standings_evaluated']} of {counts['standings_teachers']} teachers "
        f"evaluated, {counts['standings_removed']} removed."
    )
