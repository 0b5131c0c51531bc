"""Placement workflows: plan, edit, move through the lifecycle, credit on completion.

The warnings before saving a plan are in ``pdtracker.placements.conflicts``.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import IO, Any

from flask import current_app
from sqlalchemy import select

from pdtracker.activities.evidence import (
    StoredUpload,
    UploadRejected,
    remove_stored,
    save_upload,
    stored_path,
)
from pdtracker.activities.models import Activity, ActivitySource, ActivityStatus
from pdtracker.audit import record
from pdtracker.auth.models import User
from pdtracker.extensions import db
from pdtracker.failures import CodedError
from pdtracker.locking import lock_or_404
from pdtracker.notifications import outcomes
from pdtracker.placements.counting import (
    counting_rule,
    credited_end,
    placement_days,
)
from pdtracker.placements.market_models import MentorAssessment
from pdtracker.placements.models import (
    Enterprise,
    Placement,
    PlacementStatus,
    weekdays_between,
)

# Fields whose change moves the placement in calendars (iCalendar SEQUENCE).
MATERIAL_FIELDS = frozenset({"teacher_id", "enterprise_id", "starts_on", "ends_on"})
# What a head plans or edits on a placement, in the form's order.
PLACEMENT_FIELDS = (
    "teacher_id",
    "enterprise_id",
    "starts_on",
    "ends_on",
    "working_days",
    "mentor_name",
    "mentor_contact",
    "tasks",
    "notes",
)
EDITABLE_FIELDS = frozenset(PLACEMENT_FIELDS)
ENTERPRISE_FIELDS = (
    "name",
    "sector",
    "city",
    "contact_name",
    "contact_phone",
    "placement_capacity",
)


class PlacementError(CodedError):
    """A refused operation; ``code`` says why (the view turns it into a message)."""


def _jsonable(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date) else value


def plan_placement(
    *,
    actor: User,
    teacher_id: int,
    enterprise_id: int,
    starts_on: date,
    ends_on: date,
    now: datetime,
    working_days: int | None = None,
    **fields: Any,
) -> Placement:
    """Propose a placement for a teacher; working days default to the weekdays."""
    unknown = set(fields) - EDITABLE_FIELDS
    if unknown:
        raise TypeError(f"unexpected fields: {sorted(unknown)}")
    placement = Placement(
        teacher_id=teacher_id,
        enterprise_id=enterprise_id,
        planned_by_id=actor.id,
        starts_on=starts_on,
        ends_on=ends_on,
        working_days=(
            weekdays_between(starts_on, ends_on)
            if working_days is None
            else working_days
        ),
        status=PlacementStatus.PROPOSED.value,
        created_at=now,
        updated_at=now,
        **fields,
    )
    db.session.add(placement)
    db.session.flush()
    record(
        actor.id,
        "placement.create",
        "placement",
        placement.id,
        now=now,
        teacher_id=teacher_id,
        enterprise_id=enterprise_id,
        starts_on=starts_on.isoformat(),
        ends_on=ends_on.isoformat(),
    )
    return placement


def update_placement(
    placement: Placement, *, actor: User, now: datetime, **fields: Any
) -> dict[str, tuple[Any, Any]]:
    """Change an open placement's plan; return what changed (old, new)."""
    lock_or_404(placement)
    if not placement.is_open:
        raise PlacementError("closed", status=placement.status)
    unknown = set(fields) - EDITABLE_FIELDS
    if unknown:
        raise TypeError(f"unexpected fields: {sorted(unknown)}")
    if fields.get("working_days", 0) is None:
        fields["working_days"] = weekdays_between(
            fields.get("starts_on", placement.starts_on),
            fields.get("ends_on", placement.ends_on),
        )
    changes = {
        name: (getattr(placement, name), value)
        for name, value in fields.items()
        if getattr(placement, name) != value
    }
    if not changes:
        return changes
    for name, (_, value) in changes.items():
        setattr(placement, name, value)
    if MATERIAL_FIELDS & changes.keys():
        placement.sequence += 1
    placement.updated_at = now
    db.session.flush()
    record(
        actor.id,
        "placement.update",
        "placement",
        placement.id,
        now=now,
        changes={
            # Private notes stay out of the audit details; only the fact is kept.
            k: ["…", "…"] if k == "notes" else [_jsonable(o), _jsonable(n)]
            for k, (o, n) in changes.items()
        },
    )
    return changes


def _check_move(placement: Placement, status: PlacementStatus) -> None:
    """Refuse an illegal move; say so plainly when it has just been made already."""
    if placement.status == status.value:
        raise PlacementError(f"already_{status.value}", status=placement.status)
    if not placement.can_become(status):
        raise PlacementError(
            "illegal_transition", status=placement.status, target=status.value
        )


def _move(
    placement: Placement,
    status: PlacementStatus,
    *,
    actor: User,
    now: datetime,
    **details: Any,
) -> None:
    """Apply a legal status change, bump the sequence and audit it.

    Callers take the row lock first (``_lock``); the check below then sees the
    placement as committed, not as the page that sent the request showed it.
    """
    _check_move(placement, status)
    old = placement.status
    placement.status = status.value
    placement.sequence += 1
    placement.updated_at = now
    db.session.flush()
    record(
        actor.id,
        f"placement.{status.value}",
        "placement",
        placement.id,
        now=now,
        previous=old,
        **details,
    )


def approve_placement(placement: Placement, *, actor: User, now: datetime) -> None:
    """Approve a proposed placement."""
    lock_or_404(placement)
    _move(placement, PlacementStatus.APPROVED, actor=actor, now=now)
    outcomes.placement_moved(placement, actor=actor, now=now)


def start_placement(placement: Placement, *, actor: User, now: datetime) -> None:
    """Mark an approved placement as under way."""
    lock_or_404(placement)
    _move(placement, PlacementStatus.IN_PROGRESS, actor=actor, now=now)
    outcomes.placement_moved(placement, actor=actor, now=now)


def cancel_placement(
    placement: Placement, *, actor: User, reason: str, now: datetime
) -> None:
    """Cancel an open placement, with a reason."""
    reason = (reason or "").strip()
    if not reason:
        raise PlacementError("reason_required")
    lock_or_404(placement)
    _check_move(placement, PlacementStatus.CANCELLED)
    placement.cancel_reason = reason[:500]
    _move(placement, PlacementStatus.CANCELLED, actor=actor, now=now)
    outcomes.placement_moved(placement, actor=actor, now=now)


def complete_placement(
    placement: Placement,
    *,
    actor: User,
    now: datetime,
    report: IO[bytes] | None = None,
    report_name: str | None = None,
) -> Activity:
    """Complete a placement with its final report and credit the teacher once.

    The report is written only after this request holds the placement's lock and has
    seen it still in progress, so a request that loses the race leaves no file; if
    anything fails after the write, the file is removed again.
    """
    lock_or_404(placement)
    _check_move(placement, PlacementStatus.COMPLETED)
    confirmed = _mentor_confirmed_days(placement)
    if report is None and not placement.report_stored_name:
        raise PlacementError("report_required")
    written = None
    if report is not None:
        written = save_report(report, report_name)
    try:
        if written is not None:
            placement.report_stored_name = written.stored_name
            placement.report_original_name = written.original_name
            placement.report_content_type = written.content_type
        activity = placement.activity or _credit(
            placement, actor=actor, now=now, days=confirmed
        )
        _move(
            placement,
            PlacementStatus.COMPLETED,
            actor=actor,
            now=now,
            activity_id=activity.id,
            report=placement.report_stored_name,
        )
    except BaseException:
        if written is not None:
            remove_stored(current_app.config["UPLOAD_FOLDER"], [written.stored_name])
        raise
    outcomes.placement_moved(placement, actor=actor, now=now)
    return activity


def _mentor_confirmed_days(placement: Placement) -> int | None:
    """The days the mentor confirmed; None without a mentor.

    A placement hosted by an enterprise mentor completes only with the mentor's
    assessment (企业实践考核表): refused with ``assessment_required`` before it.
    """
    if placement.mentor_id is None:
        return None
    days = db.session.scalar(
        select(MentorAssessment.confirmed_days).where(
            MentorAssessment.placement_id == placement.id
        )
    )
    if days is None:
        raise PlacementError("assessment_required")
    return days


def _credit(
    placement: Placement, *, actor: User, now: datetime, days: int | None = None
) -> Activity:
    """The verified enterprise-placement activity over the placement's span.

    It credits the days the planner's form showed (:mod:`.counting`, under the
    teacher's college's ruleset). With ``days`` (the mentor's confirmed days) it
    covers that many calendar days from the start, so the engine's distinct days
    credit exactly those.
    """
    enterprise = placement.enterprise or db.session.get_one(
        Enterprise, placement.enterprise_id
    )
    teacher = placement.teacher or db.session.get_one(User, placement.teacher_id)
    credit = placement_days(
        placement, counting_rule(teacher.institution_id), confirmed=days
    )
    activity = Activity(
        teacher_id=placement.teacher_id,
        kind_code="enterprise_placement",
        source=ActivitySource.PLACEMENT.value,
        title=f"企业实践：{enterprise.name}"[:200],
        organizer=enterprise.name[:200],
        enterprise_id=enterprise.id,
        location=enterprise.city,
        starts_on=placement.starts_on,
        ends_on=credited_end(credit, placement.ends_on),
        days=credit.days,
        status=ActivityStatus.VERIFIED.value,
        verified_by_id=actor.id,
        verified_at=now,
        created_at=now,
        updated_at=now,
    )
    db.session.add(activity)
    db.session.flush()
    placement.activity = activity
    record(
        actor.id,
        "activity.create",
        "activity",
        activity.id,
        now=now,
        source="placement",
        placement_id=placement.id,
    )
    return activity


def save_enterprise(
    enterprise: Enterprise, *, actor: User, now: datetime, **fields: Any
) -> Enterprise:
    """Create (when new) or update a member enterprise."""
    unknown = set(fields) - set(ENTERPRISE_FIELDS)
    if unknown:
        raise TypeError(f"unexpected fields: {sorted(unknown)}")
    is_new = enterprise.id is None
    for name, value in fields.items():
        setattr(enterprise, name, value)
    if is_new:
        enterprise.created_at = now
        db.session.add(enterprise)
    db.session.flush()
    action = "enterprise.create" if is_new else "enterprise.update"
    record(actor.id, action, "enterprise", enterprise.id, now=now, name=enterprise.name)
    return enterprise


# --- report files ------------------------------------------------------------------


def save_report(stream: IO[bytes], filename: str | None) -> StoredUpload:
    """Check and store a final report with the activity evidence rules."""
    config = current_app.config
    try:
        return save_upload(
            stream,
            filename,
            config["UPLOAD_FOLDER"],
            int(config.get("EVIDENCE_MAX_BYTES", 10 * 1024 * 1024)),
        )
    except UploadRejected as exc:
        raise PlacementError(f"report_{exc.code}") from exc


def report_path(placement: Placement) -> Path | None:
    """The stored report of a placement, if any."""
    if not placement.report_stored_name:
        return None
    return stored_path(
        current_app.config["UPLOAD_FOLDER"], placement.report_stored_name
    )
