"""A recognition's life: its state by the calendar and by its evidence.

- ``review_due`` from ``REVIEW_DAYS`` before ``valid_until`` (the teacher and the
  head are reminded), ``expired`` after ``valid_until``;
- evidence that goes bad (a counted activity rejected, no longer verified or
  deleted, or a certificate past its expiry) suspends every standing recognition
  resting on it and notifies the head; a review restores or revokes it.

Every change writes a :class:`RecognitionChange` row and an audit entry.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session, joinedload

from pdtracker.activities.models import Activity
from pdtracker.audit import AuditEntry
from pdtracker.auth.models import User
from pdtracker.extensions import db
from pdtracker.notifications.outbox import begin_write
from pdtracker.recognition import notify
from pdtracker.recognition.errors import Refused
from pdtracker.recognition.models import (
    STANDING,
    Recognition,
    RecognitionBasis,
    RecognitionChange,
    RecognitionState,
)
from pdtracker.tenancy import manages_institution
from pdtracker.timeutil import app_zone, local_today

REVIEW_DAYS = 90
S = RecognitionState


def by_date(rec: Recognition, today: date) -> str:
    """The state the calendar gives a standing recognition on ``today``."""
    if today > rec.valid_until:
        return S.EXPIRED.value
    if today >= review_from(rec):
        return S.REVIEW_DUE.value
    return S.ACTIVE.value


def review_from(rec: Recognition) -> date:
    """The first day the recognition is due for review."""
    return rec.valid_until - timedelta(days=REVIEW_DAYS)


def change_state(
    rec: Recognition,
    to_state: str,
    now: datetime,
    actor_id: int | None = None,
    reason: str | None = None,
    session: Session | None = None,
) -> None:
    """Move the recognition and record the change (trail row and audit entry)."""
    session = session or db.session()
    before = rec.state
    if before == to_state:
        return
    rec.state = to_state
    if to_state == S.REVOKED:
        rec.revoke_reason = reason
    session.add(
        RecognitionChange(recognition_id=rec.id, from_state=before, to_state=to_state,
                          reason=reason, actor_id=actor_id, changed_at=now)
    )  # fmt: skip
    session.add(
        _audit(actor_id, rec.id, now, before=before, after=to_state, reason=reason)
    )


def _audit(
    actor_id: int | None, rec_id: int, now: datetime, **details: Any
) -> AuditEntry:
    # Built here rather than by audit.record: flush listeners pass their session.
    return AuditEntry(actor_id=actor_id, action="recognition.state",
                      object_type="recognition", object_id=rec_id, details=details,
                      created_at=now)  # fmt: skip


# --- evidence that goes bad ----------------------------------------------------------


def flag_activities(
    bad: dict[int, str], now: datetime, session: Session | None = None
) -> list[Recognition]:
    """Mark basis rows of these activities bad; suspend standing recognitions on them.

    ``bad`` maps activity ids to why (rejected, unverified, deleted, expired).
    Returns the recognitions suspended now; notifications are planned by the
    caller through :func:`notify_suspended` (after the flush).
    """
    session = session or db.session()
    if not bad:
        return []
    with session.no_autoflush:
        rows = session.scalars(
            select(RecognitionBasis)
            .where(
                RecognitionBasis.activity_ref.in_(sorted(bad)),
                RecognitionBasis.went_bad_at.is_(None),
            )
            .options(joinedload(RecognitionBasis.recognition))
        ).all()
        suspended: list[Recognition] = []
        for row in rows:
            reason = bad[row.activity_ref]
            row.went_bad_at = now
            row.went_bad_reason = reason
            rec = row.recognition
            if rec.state in STANDING:
                change_state(rec, S.SUSPENDED.value, now, reason=f"evidence_{reason}",
                             session=session)  # fmt: skip
                suspended.append(rec)
    return suspended


def notify_suspended(recognitions: Collection[Recognition], now: datetime) -> int:
    """Notify the head and the teacher of each suspension."""
    sent = 0
    for rec in recognitions:
        reasons = sorted(
            {b.went_bad_reason for b in rec.basis if b.went_bad_reason is not None}
        )
        sent += notify.suspended(rec, ", ".join(reasons), now)
    return sent


def expired_certificates(today: date) -> dict[int, str]:
    """Certificates a standing recognition rests on whose validity ended before today."""
    rows = db.session.execute(
        select(RecognitionBasis.activity_ref)
        .join(Recognition, Recognition.id == RecognitionBasis.recognition_id)
        .outerjoin(Activity, Activity.id == RecognitionBasis.activity_id)
        .where(
            Recognition.state.in_(STANDING),
            RecognitionBasis.went_bad_at.is_(None),
            RecognitionBasis.kind_code == "certificate",
            or_(
                and_(Activity.id.is_not(None), Activity.ends_on < today),
                and_(Activity.id.is_(None), RecognitionBasis.ends_on < today),
            ),
        )
    ).scalars()
    return {activity_id: "expired" for activity_id in rows}


# --- the review of a suspended recognition ------------------------------------------


def review(
    actor: User, rec: Recognition, *, restore: bool, reason: str, now: datetime
) -> None:
    """Restore a suspended recognition (to its state by date) or revoke it."""
    if not manages_institution(actor, rec.institution_id):
        raise Refused("not_allowed")
    if rec.teacher_id == actor.id:
        raise Refused("own_application")
    if rec.state != S.SUSPENDED:
        raise Refused("not_suspended")
    if not reason.strip():
        raise Refused("reason_required")
    if restore:
        change_state(rec, by_date(rec, local_today(now)), now, actor.id, reason)
    else:
        change_state(rec, S.REVOKED.value, now, actor.id, reason)


def revoke(actor: User, rec: Recognition, *, reason: str, now: datetime) -> None:
    """Revoke a recognition that has not been revoked yet, with a reason."""
    if not manages_institution(actor, rec.institution_id):
        raise Refused("not_allowed")
    if rec.teacher_id == actor.id:
        raise Refused("own_application")
    if rec.state == S.REVOKED:
        raise Refused("already_revoked")
    if not reason.strip():
        raise Refused("reason_required")
    change_state(rec, S.REVOKED.value, now, actor.id, reason)


# --- the daily tick ----------------------------------------------------------------


def _review_due_at(rec: Recognition) -> datetime:
    """Nine in the morning, local time, on the first day of review (a stable key)."""
    return datetime.combine(review_from(rec), time(9), app_zone())


def daily(now: datetime) -> dict[str, int]:
    """Date-driven transitions and expired certificates; idempotent.

    Only recognitions whose state by date differs from their state are touched, so
    a second run the same day changes nothing and sends nothing.
    """
    begin_write()  # SQLite: take the write lock before reading what to change
    today = local_today(now)
    counts = {"review_due": 0, "expired": 0, "suspended": 0, "notified": 0}
    due_limit = today + timedelta(days=REVIEW_DAYS)
    moving = db.session.scalars(
        select(Recognition)
        .where(
            or_(
                and_(Recognition.state == S.ACTIVE.value,
                     Recognition.valid_until <= due_limit),
                and_(Recognition.state == S.REVIEW_DUE.value,
                     Recognition.valid_until < today),
            )
        )
        .options(joinedload(Recognition.teacher), joinedload(Recognition.application))
        .order_by(Recognition.id)
        # PostgreSQL: lock the rows (a revocation committed meanwhile is waited for
        # and re-read, so its row no longer matches); SQLite: begin_write did it.
        .with_for_update(of=Recognition)
    ).all()  # fmt: skip
    for rec in moving:
        target = by_date(rec, today)
        if target == rec.state:
            continue
        change_state(rec, target, now, reason="date")
        counts[target] += 1
        if target == S.REVIEW_DUE:
            counts["notified"] += notify.review_due(rec, _review_due_at(rec), now)
    suspended = flag_activities(expired_certificates(today), now)
    db.session.flush()
    counts["suspended"] = len(suspended)
    counts["notified"] += notify_suspended(suspended, now)
    db.session.commit()
    return counts
