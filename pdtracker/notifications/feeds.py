"""The feed tick: re-import each subscribed calendar URL; failures go to the admins."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from sqlalchemy import select

from pdtracker.events import importing
from pdtracker.events.models import ImportSource, ImportSourceKind
from pdtracker.extensions import db
from pdtracker.notifications.models import NotificationKind
from pdtracker.notifications.outbox import begin_write, notify_admins

logger = logging.getLogger(__name__)


def refresh_feeds(now: datetime) -> dict[str, Any]:
    """The feed tick: re-import each subscribed calendar URL; failures go to admins.

    One failing source never stops the others. Uses the events area's URL import
    (conditional GET with the stored ETag / Last-Modified).
    """
    ids = db.session.scalars(
        select(ImportSource.id)
        .where(ImportSource.kind == ImportSourceKind.URL.value)
        .order_by(ImportSource.id)
    ).all()
    counts = {"sources": len(ids), "refreshed": 0, "not_modified": 0, "failed": 0}
    for source_id in ids:
        source = db.session.get(ImportSource, source_id)
        if source is None:  # deleted since the list was read
            continue
        try:
            report = importing.refresh_url_source(source, now)
            db.session.commit()
            counts["not_modified" if report.not_modified else "refreshed"] += 1
        except Exception as exc:  # one failing feed must not stop the others
            db.session.rollback()
            logger.warning("feed %s failed: %s", source_id, exc)
            counts["failed"] += 1
            _report_feed_failure(source_id, now, str(exc))
    return counts


def _report_feed_failure(source_id: int, now: datetime, error: str) -> None:
    """Record the error on the source and tell the admins (once per source and day)."""
    begin_write()
    source = db.session.get(ImportSource, source_id)
    if source is None:
        return
    source.last_error = error[:500]
    notify_admins(
        NotificationKind.FEED_FAILED,
        "import_source",
        source.id,
        now,
        {"source": source.name or source.url or "", "url": source.url or "",
         "error": error[:300], "failed_at": now.isoformat()},
    )  # fmt: skip
    db.session.commit()
