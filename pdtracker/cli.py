"""Operator commands registered on the flask CLI."""

from __future__ import annotations

import click
from flask.cli import with_appcontext


@click.command("seed-demo")
@with_appcontext
def seed_demo_command() -> None:
    """Load the demo data into the configured database (idempotent)."""
    from pdtracker.demo import seed_demo

    for line in seed_demo():
        click.echo(line)
