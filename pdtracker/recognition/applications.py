"""Applications: a teacher applies with a frozen snapshot; the head checks the form.

A returned application can be re-submitted once; returned a second time it is
closed. Re-submitting freezes a new snapshot (the teacher added evidence).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from pdtracker.audit import record
from pdtracker.auth.models import Role, User
from pdtracker.extensions import db
from pdtracker.recognition import snapshot
from pdtracker.recognition.errors import Refused
from pdtracker.recognition.models import (
    ApplicationState,
    FormalCheck,
    FormalOutcome,
    RecognitionApplication,
    RecognitionRound,
)
from pdtracker.recognition.rounds import accepts_applications
from pdtracker.tenancy import manages_institution
from pdtracker.timeutil import local_today

A = ApplicationState
# The head's formal check applies to these.
AWAITING_CHECK = (A.SUBMITTED.value, A.RESUBMITTED.value)


def _clean(text: str | None) -> str | None:
    text = (text or "").strip()
    return text or None


def _freeze(
    application: RecognitionApplication,
    teacher: User,
    now: datetime,
    statement: str | None,
) -> None:
    taken = snapshot.take(teacher, application.round, application.level_applied, now)
    if not taken.meets and statement is None:
        raise Refused("statement_required")
    application.snapshot = taken.data
    application.snapshot_at = now
    application.precheck_meets = taken.meets
    application.precheck_explanation = taken.explanation
    application.statement = statement
    application.submitted_at = now


def precheck(
    teacher: User, rnd: RecognitionRound, level: str, now: datetime
) -> snapshot.Snapshot:
    """What the engine says now, for the form (nothing stored)."""
    if level not in rnd.levels:
        raise Refused("unknown_level")
    return snapshot.take(teacher, rnd, level, now)


def apply(
    actor: User,
    rnd: RecognitionRound,
    *,
    level: str,
    statement: str | None,
    now: datetime,
) -> RecognitionApplication:
    """Apply for a level during the window; the snapshot is frozen now."""
    if not actor.has_role(Role.TEACHER) or actor.institution_id != rnd.institution_id:
        raise Refused("not_allowed")
    if not accepts_applications(rnd, local_today(now)):
        raise Refused("window_closed")
    if level not in rnd.levels:
        raise Refused("unknown_level")
    exists = db.session.scalar(
        select(RecognitionApplication.id).where(
            RecognitionApplication.round_id == rnd.id,
            RecognitionApplication.teacher_id == actor.id,
        )
    )
    if exists is not None:
        raise Refused("already_applied")
    application = RecognitionApplication(
        round=rnd,
        teacher_id=actor.id,
        department_id=actor.department_id,
        level_applied=level,
        state=A.SUBMITTED.value,
        updated_at=now,
    )
    _freeze(application, actor, now, _clean(statement))
    db.session.add(application)
    db.session.flush()
    record(actor.id, "recognition.apply", "recognition_application", application.id,
           now=now, level=level, meets=application.precheck_meets)  # fmt: skip
    return application


def resubmit(
    actor: User,
    application: RecognitionApplication,
    *,
    statement: str | None,
    now: datetime,
) -> None:
    """Re-submit a returned application once, with a new snapshot."""
    if application.teacher_id != actor.id:
        raise Refused("not_allowed")
    if application.state != A.RETURNED or application.resubmits_count >= 1:
        raise Refused("cannot_resubmit")
    if application.round.state not in ("open", "closed"):
        raise Refused("round_finished")
    _freeze(application, actor, now, _clean(statement) or application.statement)
    application.state = A.RESUBMITTED.value
    application.resubmits_count += 1
    record(actor.id, "recognition.resubmit", "recognition_application", application.id,
           now=now, meets=application.precheck_meets)  # fmt: skip


def may_check(actor: User, application: RecognitionApplication) -> bool:
    """The head of the applicant's department (not their own), or the college admin."""
    if application.teacher_id == actor.id:
        return False
    if manages_institution(actor, application.round.institution_id) and (
        actor.has_role(Role.ADMIN) or actor.has_role(Role.COLLEGE_ADMIN)
    ):
        return True
    return (
        actor.has_role(Role.HEAD)
        and actor.department_id is not None
        and actor.department_id == application.department_id
    )


def formal_check(
    actor: User,
    application: RecognitionApplication,
    *,
    complete: bool,
    note: str | None,
    now: datetime,
) -> FormalCheck:
    """Complete, or returned for more evidence with a note."""
    if not may_check(actor, application):
        raise Refused("not_allowed")
    if application.state not in AWAITING_CHECK:
        raise Refused("not_awaiting_check")
    note = _clean(note)
    if not complete and note is None:
        raise Refused("note_required")
    outcome = FormalOutcome.COMPLETE if complete else FormalOutcome.RETURNED
    check = FormalCheck(application_id=application.id, checker_id=actor.id,
                        outcome=outcome.value, note=note, checked_at=now)  # fmt: skip
    db.session.add(check)
    if complete:
        application.state = A.FORMAL_OK.value
    else:
        application.returns_count += 1
        application.return_note = note
        # Re-submitted once already: a second return closes the application.
        application.state = (
            A.CLOSED.value if application.resubmits_count >= 1 else A.RETURNED.value
        )
    record(actor.id, "recognition.formal_check", "recognition_application",
           application.id, now=now, outcome=outcome.value)  # fmt: skip
    return check
