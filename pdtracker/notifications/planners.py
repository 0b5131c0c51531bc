"""Reminder planners: what should be in the outbox, computed from the current data.

Each planner returns every reminder of its kinds that is due within its horizon
and not stale yet; :func:`services.sync` reconciles the outbox with that list
(plan new ones, move changed ones, cancel ones no longer wanted). Planners never
send anything and can run any number of times.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from pdtracker.extensions import db
from pdtracker.notifications.services import Planner, prune, sync

logger = logging.getLogger(__name__)

# Run by the planning tick (every few minutes) and re-asked at dispatch time.
PLANNERS: tuple[Planner, ...] = ()
# Expensive ones (progress evaluation, digests) run nightly.
NIGHTLY_PLANNERS: tuple[Planner, ...] = ()


class TickError(Exception):
    """Some parts of a tick failed; the others ran. Carries the counts."""

    def __init__(self, counts: dict[str, Any], errors: list[str]) -> None:
        super().__init__("; ".join(errors))
        self.counts = counts


def run_planners(planners: Iterable[Planner], now: datetime) -> dict[str, Any]:
    """Sync each planner in its own transaction; one failing does not stop the rest."""
    counts: dict[str, Any] = {}
    errors: list[str] = []
    for planner in planners:
        try:
            result = sync(planner, now)
            db.session.commit()
        except Exception as exc:
            db.session.rollback()
            logger.exception("planner %s failed", planner.name)
            errors.append(f"{planner.name}: {exc}")
            continue
        for name, value in result.items():
            counts[name] = counts.get(name, 0) + value
    if errors:
        raise TickError(counts, errors)
    return counts


def plan_reminders(now: datetime) -> dict[str, Any]:
    """The planning tick: reminders for events, registrations and placements."""
    return run_planners(PLANNERS, now)


def nightly_lapse_check(now: datetime) -> dict[str, Any]:
    """The nightly tick: lapse warnings and weekly digests, then housekeeping."""
    counts = run_planners(NIGHTLY_PLANNERS, now)
    counts |= prune(now)
    db.session.commit()
    return counts


def all_planners() -> tuple[Planner, ...]:
    """Every planner, for re-checking rows at dispatch time."""
    return PLANNERS + NIGHTLY_PLANNERS
