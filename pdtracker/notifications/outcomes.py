"""Outcome notifications: a teacher is told what happened to their things, once each.

When a head verifies or rejects an activity, or approves, starts, completes or
cancels a placement, the service that made the change calls a hook here in the
same transaction. The hook plans one notification through the outbox, due now;
the dispatcher shows it in-app and mails it (when e-mail is configured and the
teacher wants it), in the teacher's language.

Once each: the idempotency key names what happened and when, so the same
outcome planned twice is one row, while a later outcome of the same kind (an
activity rejected, changed, and verified after all; rejected twice) is news and
gets its own row. Keys:

- ``activity_verified:<activity id>:<verified_at>``
- ``activity_rejected:<activity id>:<rejected at>``
- ``placement_<status>:<placement id>:<sequence after the move>``

each followed by ``:<recipient id>``. Nobody is told about what they did
themselves (a head who is also the teacher).

Other senders (events, recognition) call :func:`enqueue_outcome` or
:func:`enqueue_outcomes` with their own key and a payload as
:mod:`outcome_messages` documents it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from pdtracker.activities.models import Activity
from pdtracker.auth.models import User
from pdtracker.notifications.models import NotificationKind
from pdtracker.notifications.outbox import Reminder, plan
from pdtracker.placements.models import Placement, PlacementStatus

K = NotificationKind
# After this long an undelivered outcome is old news (the dispatcher drops it).
OUTCOME_KEPT = timedelta(days=30)
KEY_MAX = 200  # notifications.idempotency_key

PLACEMENT_KINDS = {
    PlacementStatus.APPROVED: K.PLACEMENT_APPROVED,
    PlacementStatus.IN_PROGRESS: K.PLACEMENT_STARTED,
    PlacementStatus.COMPLETED: K.PLACEMENT_COMPLETED,
    PlacementStatus.CANCELLED: K.PLACEMENT_CANCELLED,
}


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


def stored_key(key: str, recipient_id: int) -> str:
    """The outbox key of one recipient's copy (hashed down if it would be too long)."""
    full = f"{key}:{recipient_id}"
    if len(full) <= KEY_MAX:
        return full
    digest = hashlib.sha256(full.encode()).hexdigest()
    return f"{full[: KEY_MAX - len(digest) - 1]}:{digest}"


def enqueue_outcomes(
    recipient_ids: Iterable[int],
    kind: NotificationKind,
    key: str,
    context: Mapping[str, Any],
    now: datetime,
    *,
    object_type: str = "user",
    object_id: int | None = None,
) -> int:
    """Plan the outcome for each recipient, due now (one INSERT); return how many are new.

    `key` names what happened and when (without the recipient: it is appended);
    the same key planned again adds nothing. `context` is the payload
    (:mod:`outcome_messages`); dates and decimals are stored as text.
    """
    payload = _jsonable(dict(context))
    return plan(
        (
            Reminder(kind, recipient_id, object_type, object_id, now,
                     now + OUTCOME_KEPT, payload,
                     fixed_key=stored_key(key, recipient_id))
            for recipient_id in dict.fromkeys(recipient_ids)
        ),
        now,
    )  # fmt: skip


def enqueue_outcome(
    recipient: User,
    kind: NotificationKind,
    key: str,
    context: Mapping[str, Any],
    now: datetime,
    *,
    object_type: str = "user",
    object_id: int | None = None,
) -> bool:
    """Plan one outcome notification for `recipient`, due now; False if already planned."""
    return bool(
        enqueue_outcomes([recipient.id], kind, key, context, now,
                         object_type=object_type, object_id=object_id)
    )  # fmt: skip


# --- activities -------------------------------------------------------------------


def _activity_context(activity: Activity, actor: User) -> dict[str, Any]:
    return {
        "title": activity.title,
        "starts_on": activity.starts_on,
        "reviewer": actor.display_name,
    }


def activity_verified(activity: Activity, *, actor: User, now: datetime) -> bool:
    """Tell the teacher their activity was verified (call after verifying it)."""
    if actor.id == activity.teacher_id:
        return False
    verified_at = activity.verified_at or now
    return bool(
        enqueue_outcomes([activity.teacher_id], K.ACTIVITY_VERIFIED,
                         f"activity_verified:{activity.id}:{verified_at.isoformat()}",
                         _activity_context(activity, actor), now,
                         object_type="activity", object_id=activity.id)
    )  # fmt: skip


def activity_rejected(activity: Activity, *, actor: User, now: datetime) -> bool:
    """Tell the teacher their activity was sent back, with the reason."""
    if actor.id == activity.teacher_id:
        return False
    context = {**_activity_context(activity, actor),
               "reason": activity.rejection_reason or ""}  # fmt: skip
    return bool(
        enqueue_outcomes([activity.teacher_id], K.ACTIVITY_REJECTED,
                         f"activity_rejected:{activity.id}:{now.isoformat()}",
                         context, now, object_type="activity", object_id=activity.id)
    )  # fmt: skip


# --- placements -------------------------------------------------------------------


def placement_moved(placement: Placement, *, actor: User, now: datetime) -> bool:
    """Tell the teacher their placement was approved, started, completed or cancelled.

    Call right after the move: the kind follows the placement's new status, the
    key its sequence (each move bumps it). Other statuses tell nobody.
    """
    kind = PLACEMENT_KINDS.get(PlacementStatus(placement.status))
    if kind is None or actor.id == placement.teacher_id:
        return False
    context: dict[str, Any] = {
        "enterprise": placement.enterprise.name,
        "starts_on": placement.starts_on,
        "ends_on": placement.ends_on,
        "mentor": placement.mentor_name or "",
    }
    if kind == K.PLACEMENT_COMPLETED:
        credited = placement.activity.days if placement.activity else None
        context["days"] = credited if credited is not None else placement.span_days
    if kind == K.PLACEMENT_CANCELLED:
        context["reason"] = placement.cancel_reason or ""
    return bool(
        enqueue_outcomes([placement.teacher_id], kind,
                         f"{kind}:{placement.id}:{placement.sequence}", context, now,
                         object_type="placement", object_id=placement.id)
    )  # fmt: skip
