"""The scheduler's jobs in words, for the admin's scheduler page.

Tick ids are stable codes (stored in scheduler_runs.tick); people read these
labels instead. Every tick of :data:`pdtracker.scheduler.SCHEDULE` has one (a
test checks), so a new job cannot appear on the page as a bare code.
"""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l

# tick id → (name, what it does)
TICK_LABELS: dict[str, tuple[Any, Any]] = {
    "dispatch": (
        _l("Send notifications"),
        _l("Every minute: delivers due notifications in-app and by e-mail."),
    ),
    "plan_reminders": (
        _l("Plan reminders"),
        _l("Every 10 minutes: plans reminders of events and placements."),
    ),
    "nightly": (
        _l("Nightly status check"),
        _l("Every night: works out each teacher's status and warns before it lapses."),
    ),
    "refresh_feeds": (
        _l("Refresh subscribed calendars"),
        _l("Every hour: imports events from the subscribed calendar feeds."),
    ),
    "standings": (
        _l("Update college standings"),
        _l("Every 15 minutes: updates the figures of the association dashboard."),
    ),
    "recognition": (
        _l("Recognition reviews"),
        _l("Every night: marks recognitions due for review, expired or suspended."),
    ),
    "heartbeat": (
        _l("Heartbeat"),
        _l("Every 30 seconds: shows that the scheduler is alive."),
    ),
}


def tick_label(tick_id: str) -> str:
    """The job's name in the page's language (its id if it has none yet)."""
    label = TICK_LABELS.get(tick_id)
    return str(label[0]) if label else tick_id


def tick_description(tick_id: str) -> str:
    """What the job does, in the page's language ("" if unknown)."""
    label = TICK_LABELS.get(tick_id)
    return str(label[1]) if label else ""
