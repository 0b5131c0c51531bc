"""The panel and the round's decision.

A reviewer sees and votes on an application only when they sit on its round's
panel, it passed the formal check, and it is neither their own nor from their
own department (:func:`reviewable_clause`, used by every reviewer query too).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, and_, exists, or_, select

from pdtracker.audit import record
from pdtracker.auth.models import User
from pdtracker.extensions import db
from pdtracker.recognition.errors import Refused
from pdtracker.recognition.models import (
    ApplicationState,
    Decision,
    DecisionOutcome,
    PanelVote,
    RecognitionApplication,
    RoundReviewer,
    RoundState,
    VoteChoice,
)
from pdtracker.tenancy import manages_institution

A = ApplicationState
App = RecognitionApplication
# What the panel looks at: passed the formal check (and, read-only, decided).
PANEL_STATES = (A.FORMAL_OK.value, A.DECIDED.value)


def reviewable_clause(reviewer: User) -> ColumnElement[bool]:
    """Applications this reviewer may see (a clause on RecognitionApplication)."""
    on_panel = exists().where(
        RoundReviewer.round_id == App.round_id,
        RoundReviewer.reviewer_id == reviewer.id,
    )
    own_department = (
        App.department_id == reviewer.department_id
        if reviewer.department_id is not None
        else None
    )
    clauses = [on_panel, App.teacher_id != reviewer.id, App.state.in_(PANEL_STATES)]
    if own_department is not None:
        clauses.append(or_(App.department_id.is_(None), ~own_department))
    return and_(*clauses)


def may_review(reviewer: User, application: RecognitionApplication) -> bool:
    """The Python twin of :func:`reviewable_clause` for a loaded application."""
    if application.teacher_id == reviewer.id:
        return False
    if reviewer.department_id is not None and (
        application.department_id == reviewer.department_id
    ):
        return False
    if application.state not in PANEL_STATES:
        return False
    member = db.session.get(RoundReviewer, (application.round_id, reviewer.id))
    return member is not None


def cast_vote(
    reviewer: User,
    application: RecognitionApplication,
    *,
    approve: bool,
    reason: str,
    now: datetime,
) -> PanelVote:
    """Record (or change, until the decision) this reviewer's vote with a reason."""
    if not may_review(reviewer, application):
        raise Refused("not_allowed")
    if application.state != A.FORMAL_OK:
        raise Refused("already_decided")
    reason = reason.strip()
    if not reason:
        raise Refused("reason_required")
    choice = VoteChoice.APPROVE if approve else VoteChoice.REJECT
    vote = db.session.scalar(
        select(PanelVote).where(
            PanelVote.application_id == application.id,
            PanelVote.reviewer_id == reviewer.id,
        )
    )
    if vote is None:
        vote = PanelVote(application_id=application.id, round_id=application.round_id,
                         teacher_id=application.teacher_id, reviewer_id=reviewer.id,
                         choice=choice.value, reason=reason, voted_at=now)  # fmt: skip
        db.session.add(vote)
    else:
        vote.choice, vote.reason, vote.voted_at = choice.value, reason, now
    record(reviewer.id, "recognition.vote", "recognition_application", application.id,
           now=now, choice=choice.value)  # fmt: skip
    return vote


def votes_of(application_id: int) -> list[PanelVote]:
    """An application's votes, in the order cast."""
    return list(
        db.session.scalars(
            select(PanelVote)
            .where(PanelVote.application_id == application_id)
            .order_by(PanelVote.voted_at, PanelVote.id)
        )
    )


def decide(
    actor: User,
    application: RecognitionApplication,
    *,
    approve: bool,
    level: str | None,
    reason: str | None,
    now: datetime,
) -> Decision:
    """The round's decision: approve at a level up to the one applied for, or reject."""
    rnd = application.round
    if not manages_institution(actor, rnd.institution_id):
        raise Refused("not_allowed")
    if application.teacher_id == actor.id:
        raise Refused("own_application")
    if rnd.state == RoundState.PUBLISHED:
        raise Refused("published")
    if application.state != A.FORMAL_OK:
        raise Refused("not_ready")
    if not votes_of(application.id):
        raise Refused("no_votes")
    if approve:
        level = level or application.level_applied
        if level not in rnd.levels or rnd.levels.index(level) > rnd.levels.index(
            application.level_applied
        ):
            raise Refused("level_above_applied")
    else:
        level = None
        if not (reason or "").strip():
            raise Refused("reason_required")
    outcome = DecisionOutcome.APPROVE if approve else DecisionOutcome.REJECT
    decision = Decision(application_id=application.id, outcome=outcome.value,
                        level=level, reason=(reason or "").strip() or None,
                        decided_by_id=actor.id, decided_at=now)  # fmt: skip
    db.session.add(decision)
    application.decision = decision
    application.state = A.DECIDED.value
    record(actor.id, "recognition.decide", "recognition_application", application.id,
           now=now, outcome=outcome.value, level=level)  # fmt: skip
    return decision
