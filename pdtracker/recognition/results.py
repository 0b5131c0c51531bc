"""Publishing a round's results, the recognitions they create, and objections."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from pdtracker.activities.models import Activity, ActivityStatus
from pdtracker.audit import record
from pdtracker.auth.models import User
from pdtracker.extensions import db
from pdtracker.papers.services import refresh_certificate
from pdtracker.progress.measures import add_years
from pdtracker.recognition import lifecycle, notify
from pdtracker.recognition.errors import Refused
from pdtracker.recognition.models import (
    ApplicationState,
    Decision,
    DecisionOutcome,
    Objection,
    ObjectionState,
    Recognition,
    RecognitionApplication,
    RecognitionBasis,
    RecognitionBasisFile,
    RecognitionChange,
    RecognitionRound,
    RecognitionState,
    RoundState,
)
from pdtracker.tenancy import manages_institution
from pdtracker.timeutil import local_today

A = ApplicationState
# Still on their way: a round cannot publish while any application is here.
PENDING = (A.SUBMITTED.value, A.RESUBMITTED.value, A.FORMAL_OK.value)


def valid_until(valid_from: date, years: int) -> date:
    """The last valid day: the day before the same date ``years`` later."""
    return add_years(valid_from, years) - timedelta(days=1)


def _basis(rec: Recognition, application: RecognitionApplication) -> dict[int, str]:
    """The evidence graph from the frozen snapshot; returns activities already bad."""
    frozen = application.snapshot.get("activities", [])
    ids = [int(a["id"]) for a in frozen]
    live = {
        a.id: a
        for a in db.session.scalars(select(Activity).where(Activity.id.in_(ids)))
    } if ids else {}  # fmt: skip
    bad: dict[int, str] = {}
    for item in frozen:
        activity_id = int(item["id"])
        activity = live.get(activity_id)
        basis = RecognitionBasis(
            activity_id=activity_id if activity is not None else None,
            activity_ref=activity_id,
            title=item["title"],
            kind_code=item["kind"],
            starts_on=date.fromisoformat(item["starts_on"]),
            ends_on=date.fromisoformat(item["ends_on"])
            if item.get("ends_on")
            else None,
            files=[
                RecognitionBasisFile(
                    evidence_file_id=None, name=f["name"], sha256=f["sha256"]
                )
                for f in item.get("evidence", [])
            ],
        )
        live_files = (
            {f.id for f in activity.evidence} if activity is not None else set()
        )
        for stored, f in zip(basis.files, item.get("evidence", []), strict=True):
            stored.evidence_file_id = f["id"] if f["id"] in live_files else None
        rec.basis.append(basis)
        if activity is None:
            bad[activity_id] = "deleted"
        elif activity.status == ActivityStatus.REJECTED:
            bad[activity_id] = "rejected"
        elif activity.status != ActivityStatus.VERIFIED:
            bad[activity_id] = "unverified"
    return bad


def create_recognition(
    application: RecognitionApplication, level: str, now: datetime
) -> tuple[Recognition, list[Recognition]]:
    """A recognition for an approved application; (it, those suspended at once)."""
    rnd = application.round
    start = local_today(now)
    rec = Recognition(
        teacher_id=application.teacher_id,
        institution_id=rnd.institution_id,
        application_id=application.id,
        level=level,
        valid_from=start,
        valid_until=valid_until(start, rnd.validity_years),
        state=RecognitionState.ACTIVE.value,
        created_at=now,
    )
    bad = _basis(rec, application)
    db.session.add(rec)
    db.session.flush()
    db.session.add(
        RecognitionChange(recognition_id=rec.id, from_state=None,
                          to_state=rec.state, reason="published", changed_at=now)
    )  # fmt: skip
    record(None, "recognition.create", "recognition", rec.id, now=now, level=level,
           application_id=application.id)  # fmt: skip
    suspended = lifecycle.flag_activities(bad, now)
    return rec, suspended


def publish(actor: User, rnd: RecognitionRound, now: datetime) -> list[Recognition]:
    """Publish the decisions: recognitions for the approved, results to everyone."""
    if not manages_institution(actor, rnd.institution_id):
        raise Refused("not_allowed")
    if rnd.state != RoundState.CLOSED:
        raise Refused("not_closed")
    applications = db.session.scalars(
        select(RecognitionApplication)
        .where(RecognitionApplication.round_id == rnd.id)
        .options(selectinload(RecognitionApplication.decision))
        .order_by(RecognitionApplication.id)
    ).all()
    if any(a.state in PENDING for a in applications):
        raise Refused("undecided")
    rnd.state = RoundState.PUBLISHED.value
    rnd.published_at = now
    rnd.objections_until = local_today(now) + timedelta(days=rnd.objection_days)
    created: list[Recognition] = []
    suspended: list[Recognition] = []
    for application in applications:
        decision = application.decision
        if decision is None:
            continue
        rec = None
        if decision.outcome == DecisionOutcome.APPROVE:
            assert decision.level is not None
            rec, bad = create_recognition(application, decision.level, now)
            created.append(rec)
            suspended.extend(bad)
        notify.result(application, now, rec)
    db.session.flush()
    lifecycle.notify_suspended(suspended, now)
    record(actor.id, "recognition.publish", "recognition_round", rnd.id, now=now,
           recognitions=len(created))  # fmt: skip
    return created


def recognition_of(application_id: int) -> Recognition | None:
    """The recognition an application produced, if any."""
    return db.session.scalar(
        select(Recognition).where(Recognition.application_id == application_id)
    )


# --- objections -------------------------------------------------------------------


def may_object(application: RecognitionApplication, today: date) -> bool:
    """Published, decided, within the objection period, and not objected yet."""
    rnd = application.round
    return (
        rnd.state == RoundState.PUBLISHED
        and application.decision is not None
        and rnd.objections_until is not None
        and today <= rnd.objections_until
        and application.objection is None
    )


def file_objection(
    actor: User, application: RecognitionApplication, *, statement: str, now: datetime
) -> Objection:
    """The teacher objects once, with a statement, within the period."""
    if application.teacher_id != actor.id:
        raise Refused("not_allowed")
    if application.objection is not None:
        raise Refused("already_objected")
    if not may_object(application, local_today(now)):
        raise Refused("objection_closed")
    statement = statement.strip()
    if not statement:
        raise Refused("statement_required")
    objection = Objection(application_id=application.id, statement=statement,
                          filed_at=now, state=ObjectionState.PENDING.value)  # fmt: skip
    db.session.add(objection)
    application.objection = objection
    record(actor.id, "recognition.object", "recognition_application", application.id,
           now=now)  # fmt: skip
    return objection


def resolve_objection(
    actor: User,
    objection: Objection,
    *,
    change: bool,
    approve: bool | None = None,
    level: str | None = None,
    resolution: str,
    now: datetime,
) -> None:
    """Uphold the decision, or change it (a recognition is created, moved or revoked)."""
    application = objection.application
    rnd = application.round
    if not manages_institution(actor, rnd.institution_id):
        raise Refused("not_allowed")
    if application.teacher_id == actor.id:
        raise Refused("own_application")
    if objection.state != ObjectionState.PENDING:
        raise Refused("already_resolved")
    resolution = resolution.strip()
    if not resolution:
        raise Refused("reason_required")
    objection.resolution = resolution
    objection.resolved_by_id = actor.id
    objection.resolved_at = now
    if not change:
        objection.state = ObjectionState.UPHELD.value
        record(actor.id, "recognition.objection_uphold", "recognition_application",
               application.id, now=now)  # fmt: skip
        return
    objection.state = ObjectionState.CHANGED.value
    decision = application.decision
    assert decision is not None
    _change_decision(actor, application, decision, approve, level, resolution, now)


def _change_decision(
    actor: User,
    application: RecognitionApplication,
    decision: Decision,
    approve: bool | None,
    level: str | None,
    reason: str,
    now: datetime,
) -> None:
    levels = application.round.levels
    if approve is None:
        raise Refused("outcome_required")
    if approve:
        level = level or application.level_applied
        if level not in levels or levels.index(level) > levels.index(
            application.level_applied
        ):
            raise Refused("level_above_applied")
    rec = recognition_of(application.id)
    if approve and rec is not None and rec.state == RecognitionState.REVOKED:
        raise Refused("revoked")
    before = (decision.outcome, decision.level)
    decision.outcome = (
        DecisionOutcome.APPROVE if approve else DecisionOutcome.REJECT
    ).value
    decision.level = level if approve else None
    decision.reason = reason
    decision.decided_by_id = actor.id
    decision.decided_at = now
    if approve and rec is None:
        assert level is not None
        rec, bad = create_recognition(application, level, now)
        db.session.flush()
        lifecycle.notify_suspended(bad, now)
    elif approve and rec is not None:
        assert level is not None
        if rec.level != level:
            record(actor.id, "recognition.level_change", "recognition", rec.id,
                   now=now, before=rec.level, after=level)  # fmt: skip
            rec.level = level
            # A certificate already printed says the old level: print it again.
            refresh_certificate(rec, now=now)
    elif rec is not None and rec.state != RecognitionState.REVOKED:
        lifecycle.change_state(rec, RecognitionState.REVOKED.value, now, actor.id,
                               reason)  # fmt: skip
    record(actor.id, "recognition.objection_change", "recognition_application",
           application.id, now=now, before=list(before),
           after=[decision.outcome, decision.level])  # fmt: skip
    notify.result(application, now, rec, extra=f"objection:{now.isoformat()}")
