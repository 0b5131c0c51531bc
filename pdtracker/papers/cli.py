"""``flask recognition papers`` and ``flask recognition pdf``: issued papers from the shell."""

from __future__ import annotations

import json
from pathlib import Path

import click
from flask.cli import AppGroup
from sqlalchemy import select

from pdtracker.extensions import db
from pdtracker.papers.checking import paper_states
from pdtracker.papers.models import Paper
from pdtracker.papers.services import paper_by_number
from pdtracker.timeutil import local_today

recognition_cli = AppGroup(
    "recognition", help="Recognition papers: list them, write PDFs."
)


def paper_rows() -> list[dict[str, str | None]]:
    """Every issued paper as the --json output lists it, oldest first."""
    today = local_today()
    papers = db.session.scalars(select(Paper).order_by(Paper.issued_at, Paper.id)).all()
    states = paper_states(papers, today)
    return [
        {
            "number": p.number,
            "kind": p.kind,
            "staff_number": p.claims.get("staff_number"),
            "level": p.claims.get("level"),
            "state": state.value,
            "check_path": p.check_path,
        }
        for p, state in zip(papers, states, strict=True)
    ]


@recognition_cli.command("papers")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def papers_command(as_json: bool) -> None:
    """List every issued paper (certificates and hours statements)."""
    rows = paper_rows()
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    for row in rows:
        click.echo(
            f"{row['number']}\t{row['kind']}\t{row['staff_number'] or ''}\t"
            f"{row['level'] or ''}\t{row['state']}\t{row['check_path']}"
        )


@recognition_cli.command("pdf")
@click.argument("number")
@click.argument("out", type=click.Path(dir_okay=False, path_type=Path))
def pdf_command(number: str, out: Path) -> None:
    """Write the paper's PDF (the bytes stored at issue, as downloaded) to OUT."""
    paper = paper_by_number(number.strip().upper())
    if paper is None:
        raise click.ClickException(f"no paper numbered {number}")
    out.write_bytes(paper.pdf)
    click.echo(f"{out}: {len(paper.pdf)} bytes, sha256 {paper.pdf_sha256}")
