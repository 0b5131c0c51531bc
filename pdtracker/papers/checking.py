"""What the public check page shows of a paper: its claims, masked, and its state today."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select

from pdtracker.extensions import db
from pdtracker.papers.models import Paper, PaperKind, PaperState
from pdtracker.papers.services import recognition_state, statement_state
from pdtracker.recognition.models import Recognition

MASK = "*"


def mask_name(name: str) -> str:
    """王小华 → 王*华, 欧阳小华 → 欧**华, 王华 → 王*; the first and last character kept."""
    name = name.strip()
    if len(name) <= 1:
        return name
    if len(name) == 2:
        return name[0] + MASK
    return name[0] + MASK * (len(name) - 2) + name[-1]


@dataclass(frozen=True)
class CheckView:
    """Only what the paper claims, and its state on the day of the check."""

    number: str
    kind: str
    masked_name: str
    college: str
    level_name: str | None
    valid_from: str | None
    valid_until: str | None
    period: tuple[str, str] | None
    total_hours: str | None
    total_days: str | None
    issued_on: str
    state: PaperState


def paper_state(paper: Paper, today: date) -> PaperState:
    """The paper's state today: its recognition's for a certificate."""
    if paper.kind == PaperKind.CERTIFICATE:
        recognition = (
            db.session.get(Recognition, paper.recognition_id)
            if paper.recognition_id is not None
            else None
        )
        return recognition_state(recognition, today)
    return statement_state(paper)


def paper_states(papers: Sequence[Paper], today: date) -> list[PaperState]:
    """Each paper's state today, the recognitions read in one query for all of them."""
    ids = sorted({p.recognition_id for p in papers if p.recognition_id is not None})
    recognitions = (
        {r.id: r for r in db.session.scalars(
            select(Recognition).where(Recognition.id.in_(ids))
        )}
        if ids else {}
    )  # fmt: skip
    return [
        recognition_state(recognitions.get(p.recognition_id or 0), today)
        if p.kind == PaperKind.CERTIFICATE
        else statement_state(p)
        for p in papers
    ]


def check_view(paper: Paper, today: date) -> CheckView:
    """The check page's content for a paper (one more query for a certificate)."""
    claims = paper.claims
    certificate = paper.kind == PaperKind.CERTIFICATE
    return CheckView(
        number=paper.number,
        kind=paper.kind,
        masked_name=mask_name(claims.get("name", "")),
        college=claims.get("college", ""),
        level_name=claims.get("level_name") if certificate else None,
        valid_from=claims.get("valid_from") if certificate else None,
        valid_until=claims.get("valid_until") if certificate else None,
        period=None if certificate
        else (claims["period_start"], claims["period_end"]),
        total_hours=None if certificate else claims.get("total_hours"),
        total_days=None if certificate else claims.get("total_days"),
        issued_on=claims.get("issued_on", ""),
        state=paper_state(paper, today),
    )  # fmt: skip
