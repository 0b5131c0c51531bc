"""Recognition notifications through the outbox, each with its idempotency key."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from pdtracker.notifications.models import NotificationKind
from pdtracker.notifications.outbox import Reminder, plan
from pdtracker.notifications.reminders import heads_by_department
from pdtracker.recognition.models import Recognition, RecognitionApplication
from pdtracker.recognition.rulesets import level_names, round_ruleset

# A recognition message older than this is no longer worth sending.
STALE_AFTER = timedelta(days=30)


def level_payload(application: RecognitionApplication, level: str) -> dict[str, str]:
    """The level's name in both languages, as the composers read it."""
    name = level_names(round_ruleset(application.round)).get(level)
    return {
        "level": name.zh if name is not None and name.zh else level,
        "level_en": name.en if name is not None and name.en else level,
    }


def _send(
    kind: NotificationKind,
    recipients: Iterable[int],
    object_type: str,
    object_id: int,
    now: datetime,
    payload: dict[str, Any],
    extra: str,
    due_at: datetime | None = None,
) -> int:
    due = due_at or now
    return plan(
        [
            Reminder(kind, recipient, object_type, object_id, due,
                     max(due, now) + STALE_AFTER, payload, extra=extra)
            for recipient in dict.fromkeys(recipients)
        ],
        now,
    )  # fmt: skip


def result(
    application: RecognitionApplication,
    now: datetime,
    recognition: Recognition | None = None,
    extra: str = "published",
) -> int:
    """Tell the teacher the round's decision (granted or not)."""
    decision = application.decision
    assert decision is not None
    level = decision.level or application.level_applied
    payload: dict[str, Any] = {
        **level_payload(application, level),
        "granted": decision.outcome == "approve",
        "reason": decision.reason or "",
    }
    if recognition is not None:
        payload["valid_until"] = recognition.valid_until.isoformat()
    return _send(NotificationKind.RECOGNITION_RESULT, [application.teacher_id],
                 "recognition_application", application.id, now, payload,
                 extra)  # fmt: skip


def _teacher_and_heads(rec: Recognition) -> list[int]:
    department_id = rec.teacher.department_id
    heads = heads_by_department([department_id]) if department_id else {}
    return [rec.teacher_id, *heads.get(department_id or 0, [])]


def review_due(rec: Recognition, due_at: datetime, now: datetime) -> int:
    """Remind the teacher and their head that the recognition is due for review."""
    payload = {
        **level_payload(rec.application, rec.level),
        "teacher": rec.teacher.display_name,
        "teacher_id": rec.teacher_id,
        "due_on": rec.valid_until.isoformat(),
    }
    return _send(NotificationKind.RECOGNITION_REVIEW_DUE, _teacher_and_heads(rec),
                 "recognition", rec.id, now, payload, rec.valid_until.isoformat(),
                 due_at=due_at)  # fmt: skip


def suspended(rec: Recognition, reason: str, now: datetime) -> int:
    """Tell the head (and the teacher) that evidence went bad."""
    payload = {
        **level_payload(rec.application, rec.level),
        "teacher": rec.teacher.display_name,
        "teacher_id": rec.teacher_id,
        "reason": reason,
    }
    return _send(NotificationKind.RECOGNITION_SUSPENDED, _teacher_and_heads(rec),
                 "recognition", rec.id, now, payload,
                 f"suspended:{now.isoformat()}")  # fmt: skip
