"""Transitional: the old home of the notification services, split by job.

Import from the modules named for what they hold: ``outbox`` (planning),
``dispatch`` (claiming and delivering), ``inbox``, ``preferences``, ``runs``
(scheduler records) and ``feeds``. This module goes once nothing imports it.
"""

from pdtracker.notifications.dispatch import dispatch_due
from pdtracker.notifications.feeds import refresh_feeds
from pdtracker.notifications.inbox import (
    get_own,
    inbox_query,
    mark_all_read,
    mark_read,
    unread_count,
)
from pdtracker.notifications.outbox import Planner, Reminder, outbox_counts, plan
from pdtracker.notifications.preferences import preferences_of, set_preferences
from pdtracker.notifications.runs import (
    beat,
    finish_run,
    heartbeat_is_fresh,
    last_heartbeat,
    recent_runs,
    start_run,
)

__all__ = [
    "Planner",
    "Reminder",
    "beat",
    "dispatch_due",
    "finish_run",
    "get_own",
    "heartbeat_is_fresh",
    "inbox_query",
    "last_heartbeat",
    "mark_all_read",
    "mark_read",
    "outbox_counts",
    "plan",
    "preferences_of",
    "recent_runs",
    "refresh_feeds",
    "set_preferences",
    "start_run",
    "unread_count",
]
