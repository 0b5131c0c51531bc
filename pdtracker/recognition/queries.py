"""Who sees which round, application and recognition: scoped queries (else 404,
through ``db.first_or_404``).

- a college admin (or the deployment admin): everything of their college(s);
- a teacher: their own applications and recognitions, and their college's open
  rounds;
- a head: the applications of their department's teachers (not their own);
- a reviewer: the applications :func:`panel.reviewable_clause` allows.
"""

from __future__ import annotations

from flask import abort
from sqlalchemy import ColumnElement, and_, false, or_, select
from sqlalchemy.orm import joinedload

from pdtracker.auth.models import Role, User
from pdtracker.extensions import db
from pdtracker.recognition.models import (
    Objection,
    Recognition,
    RecognitionApplication,
    RecognitionRound,
    RoundState,
)
from pdtracker.recognition.panel import reviewable_clause
from pdtracker.tenancy import institution_clause

App = RecognitionApplication


def administered_rounds(actor: User) -> ColumnElement[bool]:
    """Rounds of the colleges the actor administers."""
    return institution_clause(actor, RecognitionRound.institution_id)


def round_for_admin(actor: User, round_id: int) -> RecognitionRound:
    """A round the actor administers, else 404."""
    rnd: RecognitionRound = db.first_or_404(
        select(RecognitionRound).where(
            RecognitionRound.id == round_id, administered_rounds(actor)
        )
    )
    return rnd


def open_round_for_teacher(actor: User, round_id: int) -> RecognitionRound:
    """An open round of the teacher's college, else 404."""
    if not actor.has_role(Role.TEACHER):
        abort(404)
    rnd: RecognitionRound = db.first_or_404(
        select(RecognitionRound).where(
            RecognitionRound.id == round_id,
            RecognitionRound.institution_id == actor.institution_id,
            RecognitionRound.state == RoundState.OPEN.value,
        )
    )
    return rnd


def head_clause(actor: User) -> ColumnElement[bool]:
    """Applications of the head's department's teachers, not the head's own."""
    if not actor.has_role(Role.HEAD) or actor.department_id is None:
        return false()
    return and_(App.department_id == actor.department_id, App.teacher_id != actor.id)


def visible_clause(actor: User) -> ColumnElement[bool]:
    """Applications the actor may open: own, as head, as reviewer, as admin."""
    admin = App.round_id.in_(
        select(RecognitionRound.id).where(administered_rounds(actor))
    )
    return or_(
        App.teacher_id == actor.id, head_clause(actor), reviewable_clause(actor), admin
    )


def application_for(actor: User, application_id: int) -> RecognitionApplication:
    """An application the actor may see, else 404."""
    application: RecognitionApplication = db.first_or_404(
        select(App)
        .where(App.id == application_id, visible_clause(actor))
        .options(joinedload(App.round), joinedload(App.teacher))
    )
    return application


def recognition_for_admin(actor: User, recognition_id: int) -> Recognition:
    """A recognition of a college the actor administers, else 404."""
    rec: Recognition = db.first_or_404(
        select(Recognition).where(
            Recognition.id == recognition_id,
            institution_clause(actor, Recognition.institution_id),
        )
    )
    return rec


def objection_for_admin(actor: User, objection_id: int) -> Objection:
    """An objection in a round the actor administers, else 404."""
    objection: Objection = db.first_or_404(
        select(Objection)
        .join(App, App.id == Objection.application_id)
        .join(RecognitionRound, RecognitionRound.id == App.round_id)
        .where(Objection.id == objection_id, administered_rounds(actor))
    )
    return objection
