"""Rounds: a college admin creates, opens (freezing the ruleset) and closes them,
and names the panel."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from sqlalchemy import select

from pdtracker.audit import record
from pdtracker.auth.models import Role, User
from pdtracker.extensions import db
from pdtracker.recognition.errors import Refused
from pdtracker.recognition.models import (
    RecognitionRound,
    RoundReviewer,
    RoundState,
)
from pdtracker.recognition.rulesets import active_for
from pdtracker.tenancy import managed_institution, manages_institution


def _require_manager(actor: User, institution_id: int) -> None:
    if not manages_institution(actor, institution_id):
        raise Refused("not_allowed")


def create_round(
    actor: User,
    *,
    name: str,
    levels: Sequence[str],
    opens_on: date,
    closes_on: date,
    now: datetime,
    institution_id: int | None = None,
    objection_days: int = 7,
    validity_years: int = 5,
) -> RecognitionRound:
    """A draft round for the actor's college (the deployment admin names one)."""
    institution = managed_institution(actor) or institution_id
    if institution is None:
        raise Refused("no_college")
    _require_manager(actor, institution)
    if closes_on < opens_on:
        raise Refused("window_order")
    offered = active_for(institution).levels
    chosen = [code for code in offered if code in set(levels)]
    if not chosen or len(chosen) != len(set(levels)):
        raise Refused("unknown_level")
    taken = db.session.scalar(
        select(RecognitionRound.id).where(
            RecognitionRound.institution_id == institution,
            RecognitionRound.name == name,
        )
    )
    if taken is not None:
        raise Refused("name_taken")
    rnd = RecognitionRound(
        institution_id=institution,
        name=name,
        levels=chosen,
        opens_on=opens_on,
        closes_on=closes_on,
        objection_days=objection_days,
        validity_years=validity_years,
        state=RoundState.DRAFT.value,
        created_by_id=actor.id,
        created_at=now,
    )
    db.session.add(rnd)
    db.session.flush()
    record(actor.id, "recognition.round_create", "recognition_round", rnd.id, now=now,
           name=name, levels=chosen)  # fmt: skip
    return rnd


def open_round(actor: User, rnd: RecognitionRound, now: datetime) -> None:
    """Open for applications; the college's active ruleset version is frozen now."""
    _require_manager(actor, rnd.institution_id)
    if rnd.state != RoundState.DRAFT:
        raise Refused("not_draft")
    frozen = active_for(rnd.institution_id)
    if any(level not in frozen.levels for level in rnd.levels):
        raise Refused("unknown_level")
    rnd.ruleset_name = frozen.name
    rnd.ruleset_version = frozen.version
    rnd.levels = [code for code in frozen.levels if code in set(rnd.levels)]
    rnd.state = RoundState.OPEN.value
    rnd.opened_at = now
    record(actor.id, "recognition.round_open", "recognition_round", rnd.id, now=now,
           ruleset=frozen.name, version=frozen.version)  # fmt: skip


def close_round(actor: User, rnd: RecognitionRound, now: datetime) -> None:
    """No more applications; the review goes on."""
    _require_manager(actor, rnd.institution_id)
    if rnd.state != RoundState.OPEN:
        raise Refused("not_open")
    rnd.state = RoundState.CLOSED.value
    rnd.closed_at = now
    record(actor.id, "recognition.round_close", "recognition_round", rnd.id, now=now)


def add_reviewer(
    actor: User, rnd: RecognitionRound, reviewer: User, now: datetime
) -> RoundReviewer:
    """Put a teacher or head of the round's college on its panel."""
    _require_manager(actor, rnd.institution_id)
    if rnd.state == RoundState.PUBLISHED:
        raise Refused("published")
    if reviewer.institution_id != rnd.institution_id or not (
        reviewer.has_role(Role.TEACHER) or reviewer.has_role(Role.HEAD)
    ):
        raise Refused("reviewer_not_in_college")
    if db.session.get(RoundReviewer, (rnd.id, reviewer.id)) is not None:
        raise Refused("already_reviewer")
    member = RoundReviewer(round_id=rnd.id, reviewer_id=reviewer.id, added_at=now)
    db.session.add(member)
    record(actor.id, "recognition.reviewer_add", "recognition_round", rnd.id, now=now,
           reviewer_id=reviewer.id)  # fmt: skip
    return member


def remove_reviewer(
    actor: User, rnd: RecognitionRound, reviewer_id: int, now: datetime
) -> None:
    """Take someone off the panel (their votes go with them)."""
    _require_manager(actor, rnd.institution_id)
    if rnd.state == RoundState.PUBLISHED:
        raise Refused("published")
    member = db.session.get(RoundReviewer, (rnd.id, reviewer_id))
    if member is None:
        raise Refused("not_reviewer")
    db.session.delete(member)
    record(actor.id, "recognition.reviewer_remove", "recognition_round", rnd.id,
           now=now, reviewer_id=reviewer_id)  # fmt: skip


def accepts_applications(rnd: RecognitionRound, today: date) -> bool:
    """Open, and today inside the application window."""
    return rnd.state == RoundState.OPEN and rnd.opens_on <= today <= rnd.closes_on
