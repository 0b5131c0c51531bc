"""Calendar import, database side: parsed VEVENTs become events, idempotently by UID.

Identity is (UID, RECURRENCE-ID) — the same pair is unique in the events table, so a
feed never carries two VEVENTs with one UID. A re-import matches rows by that pair
(whichever source brought them first), compares the parser's fingerprint (which
ignores DTSTAMP/LAST-MODIFIED/SEQUENCE) and creates, updates in place or leaves
alone. Events missing from a later import are kept: a windowed export simply stops
listing old events (docs/calendar-feeds.md I5). A UID that belongs to a locally
created event is skipped, so re-importing our own public feed cannot overwrite it.

One time budget (IMPORT_TIME_BUDGET seconds) covers a whole import, fetch included:
a :class:`~pdtracker.calendar.ics_import.Deadline` made when it starts is checked while
parsing and in every recurrence count (parser, RRULE normalisation, series end) and
per stored event. Past it the import stores nothing and reports ``too_slow``; a
scheduled refresh raises ImportFailed("too_slow").

Fields the source owns (title, times, place, description, status, recurrence) follow
the source; fields the association sets here (kind, credited hours, capacity,
deadline, speakers, online link) are chosen once at creation and then left to staff.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flask import current_app
from sqlalchemy import func, select

from pdtracker.audit import record
from pdtracker.auth.models import User
from pdtracker.calendar.fetch import FetchError, fetch_calendar, normalise_url
from pdtracker.calendar.ics import is_generated_uid
from pdtracker.calendar.ics_import import (
    Deadline,
    ImportedEvent,
    ImportLimits,
    TooSlow,
    parse_calendar,
    plan_import,
)
from pdtracker.events.import_fields import event_data
from pdtracker.events.models import (
    Event,
    EventStatus,
    ImportSource,
    ImportSourceKind,
)
from pdtracker.events.recurrence import RecurrenceError
from pdtracker.events.services import (
    MATERIAL_FIELDS,
    EventData,
    actor_id,
    apply_event_data,
)
from pdtracker.extensions import db
from pdtracker.failures import CodedError
from pdtracker.timeutil import app_zone

logger = logging.getLogger(__name__)

# Seconds one whole import may take (fetch, parse, recurrence checks, storing): well
# under gunicorn's 60 s worker timeout, so a hostile file answers within ~20 s.
DEFAULT_TIME_BUDGET = 15.0
_CHUNK = 500


class ImportFailed(CodedError):
    """A scheduled refresh that failed as a whole; ``code`` says why."""

    def __init__(self, code: str, detail: str | None = None) -> None:
        super().__init__(code, detail=detail)
        self.detail = detail

    def __str__(self) -> str:
        # The feed job records this text on the source and in the admins' notice.
        return f"{self.code}: {self.detail}" if self.detail else self.code


@dataclass(frozen=True)
class SkippedEvent:
    """An event that was left out, with a reason code the pages translate."""

    uid: str | None
    reason: str
    summary: str | None = None
    detail: str = ""


@dataclass
class ImportReport:
    """What an import did; ``error`` set means the whole file or fetch failed."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: list[SkippedEvent] = field(default_factory=list)
    error: str | None = None
    error_detail: str | None = None
    not_modified: bool = False
    source_id: int | None = None

    @property
    def ok(self) -> bool:
        """True unless the whole import failed."""
        return self.error is None

    def as_dict(self) -> dict[str, Any]:
        """The report as JSON-ready data; ``skipped`` is a count, ``reasons`` the list."""
        return {
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "skipped": len(self.skipped),
            "reasons": [
                {
                    "uid": s.uid,
                    "summary": s.summary,
                    "reason": s.reason,
                    "detail": s.detail,
                }
                for s in self.skipped
            ],
            "error": self.error,
            "error_detail": self.error_detail,
            "not_modified": self.not_modified,
        }


def _limits() -> ImportLimits:
    cfg = current_app.config
    return ImportLimits(
        max_bytes=cfg.get("IMPORT_MAX_BYTES", ImportLimits.max_bytes),
        max_components=cfg.get("IMPORT_MAX_COMPONENTS", ImportLimits.max_components),
    )


def import_deadline() -> Deadline:
    """A deadline IMPORT_TIME_BUDGET seconds from now, for one whole import."""
    seconds = current_app.config.get("IMPORT_TIME_BUDGET", DEFAULT_TIME_BUDGET)
    return Deadline(float(seconds))


def import_calendar(
    data: bytes,
    source: ImportSource,
    actor: User | None,
    now: datetime,
    deadline: Deadline | None = None,
) -> ImportReport:
    """Create or update events from .ics bytes; never deletes, never raises on bad input.

    All or nothing past the ``deadline``: the events are written in a savepoint that
    is rolled back when the budget runs out, and the report says ``too_slow``.
    """
    deadline = deadline or import_deadline()
    tzid = app_zone().key
    parsed = parse_calendar(data, default_tz=tzid, limits=_limits(), deadline=deadline)
    report = ImportReport(source_id=source.id)
    if parsed.error is not None:
        source.last_error = parsed.error
        report.error, report.error_detail = parsed.error, parsed.error_detail
        return report
    report.skipped = [
        SkippedEvent(s.uid, s.reason_code, s.summary, s.detail) for s in parsed.skipped
    ]
    rows = _existing(item.uid for item in parsed.events)
    usable = _usable(parsed.events, rows, report)
    fingerprints = {key: row.fingerprint or "" for key, row in rows.items()}
    plan = plan_import(fingerprints, usable)
    try:
        with db.session.begin_nested():
            for item in plan.create:
                deadline.check()
                if _create(item, source, actor, now, report, deadline):
                    report.created += 1
            for item in plan.update:
                deadline.check()
                if _update(rows[item.key], item, source, now, report, deadline):
                    report.updated += 1
            db.session.flush()
            deadline.check()
    except TooSlow as exc:
        # The savepoint is rolled back: not one event of this file is stored.
        source.last_error = "too_slow"
        logger.warning("import of source %s stopped: %s", source.id, exc)
        return ImportReport(
            source_id=source.id, error="too_slow", error_detail=str(exc)
        )
    report.unchanged = len(plan.unchanged)
    source.last_error = None
    source.last_fetched_at = now
    if parsed.calendar_name and not source.name:
        source.name = parsed.calendar_name
    record(
        actor_id(actor), "events.import", "import_source", source.id, now=now,
        created=report.created, updated=report.updated, unchanged=report.unchanged,
        skipped=len(report.skipped),
    )  # fmt: skip
    return report


def _usable(
    items: list[ImportedEvent],
    rows: dict[tuple[str, str], Event],
    report: ImportReport,
) -> list[ImportedEvent]:
    """The parsed events an import may write; the others are reported as skipped.

    A file never speaks for events made here: neither a UID in this deployment's
    generated namespace (``…@pdtracker.<FEED_DOMAIN>``, which could collide with a
    row's generated UID in the feeds) nor the UID of a local event (which would let
    an "override" add an exception to it) is imported.
    """
    domain = current_app.config["FEED_DOMAIN"]
    local_uids = {uid for (uid, _key), row in rows.items() if not row.is_imported}
    usable = []
    for item in items:
        if item.uid in local_uids:
            reason, detail = "local_uid", "UID of a local event"
        elif is_generated_uid(item.uid, domain):
            reason, detail = "reserved_uid", "UID in this site's own namespace"
        else:
            usable.append(item)
            continue
        report.skipped.append(SkippedEvent(item.uid, reason, item.summary, detail))
    return usable


def _existing(uids: Any) -> dict[tuple[str, str], Event]:
    wanted = sorted(set(uids))
    rows: dict[tuple[str, str], Event] = {}
    for start in range(0, len(wanted), _CHUNK):
        chunk = wanted[start : start + _CHUNK]
        for row in db.session.scalars(select(Event).where(Event.uid.in_(chunk))):
            rows[(row.uid, row.recurrence_key)] = row
    return rows


def _convert(
    item: ImportedEvent, report: ImportReport, deadline: Deadline, **kept: Any
) -> EventData | None:
    try:
        return event_data(item, deadline, **kept)
    except RecurrenceError as exc:
        detail = f"{exc.code} {exc.detail}".strip()
        report.skipped.append(SkippedEvent(item.uid, "bad_rrule", item.summary, detail))
    except ValueError as exc:
        report.skipped.append(SkippedEvent(item.uid, "invalid", item.summary, str(exc)))
    return None


def _create(
    item: ImportedEvent,
    source: ImportSource,
    actor: User | None,
    now: datetime,
    report: ImportReport,
    deadline: Deadline,
) -> bool:
    data = _convert(item, report, deadline)
    if data is None:
        return False
    cancelled = item.status == "CANCELLED"
    event = Event(
        uid=item.uid,
        recurrence_key=item.recurrence_key,
        import_source_id=source.id,
        fingerprint=item.fingerprint,
        # The association's own calendar: its events are published as they come.
        status=(EventStatus.CANCELLED if cancelled else EventStatus.PUBLISHED).value,
        cancelled_at=now if cancelled else None,
        sequence=0,
        created_by_id=actor_id(actor),
        created_at=now,
        updated_at=now,
    )
    apply_event_data(event, data, deadline)
    db.session.add(event)
    return True


def _update(
    event: Event,
    item: ImportedEvent,
    source: ImportSource,
    now: datetime,
    report: ImportReport,
    deadline: Deadline,
) -> bool:
    data = _convert(
        item,
        report,
        deadline,
        kind_code=event.kind_code,
        credited_hours=event.credited_hours,
        capacity=event.capacity,
        registration_deadline=event.registration_deadline,
        speakers=event.speakers,
        online_url=event.online_url,
    )
    if data is None:
        return False
    changed = apply_event_data(event, data, deadline)
    if item.status == "CANCELLED" and not event.is_cancelled:
        event.status, event.cancelled_at = EventStatus.CANCELLED.value, now
        changed.add("status")
    elif item.status != "CANCELLED" and event.is_cancelled:
        # The source reinstated it.
        event.status, event.cancelled_at = EventStatus.PUBLISHED.value, None
        changed.add("status")
    event.fingerprint = item.fingerprint
    event.import_source_id = source.id
    if changed:
        event.updated_at = max(now, event.updated_at)
        if changed & (MATERIAL_FIELDS | {"status"}) and event.status != "draft":
            event.sequence += 1
    return True


def file_source(actor: User | None, now: datetime) -> ImportSource:
    """The one source all uploaded files share, so re-uploading a file is idempotent."""
    source = db.session.scalar(
        select(ImportSource)
        .where(ImportSource.kind == ImportSourceKind.FILE)
        .order_by(ImportSource.id)
        .limit(1)
    )
    if source is None:
        source = ImportSource(
            kind=ImportSourceKind.FILE.value,
            created_by_id=actor_id(actor),
            created_at=now,
        )
        db.session.add(source)
        db.session.flush()
    return source


def import_file(
    data: bytes, filename: str | None, actor: User | None, now: datetime
) -> ImportReport:
    """Import an uploaded .ics file, within one IMPORT_TIME_BUDGET."""
    deadline = import_deadline()
    source = file_source(actor, now)
    report = import_calendar(data, source, actor, now, deadline)
    logger.info("imported file %s: %s", filename, report.as_dict())
    return report


def import_url(
    url: str, actor: User | None, now: datetime, *, allow_private: bool = False
) -> ImportReport:
    """Fetch a calendar URL (conditional GET with the stored validators) and import it.

    Private and loopback addresses (and plain http) are refused unless allowed.
    The fetch shares the import's one time budget (it may use at most what is left).
    """
    cfg = current_app.config
    deadline = import_deadline()
    source: ImportSource | None = None
    try:
        url = normalise_url(url, allow_http=allow_private)
        source = db.session.scalar(select(ImportSource).where(ImportSource.url == url))
        result = fetch_calendar(
            url,
            etag=source.etag if source else None,
            last_modified=source.last_modified if source else None,
            timeout=min(cfg.get("IMPORT_FETCH_TIMEOUT", 10), deadline.remaining()),
            max_bytes=cfg.get("IMPORT_MAX_BYTES", ImportLimits.max_bytes),
            allow_private=allow_private,
        )
    except FetchError as exc:
        # A fetch cut short because the whole import's budget ran out is the
        # import being too slow, whichever step used the time up.
        code = "too_slow" if exc.code == "timeout" and deadline.expired() else exc.code
        if source is not None:
            source.last_error = code
            source.last_fetched_at = now
        logger.info("import of %s refused or failed: %s", url, code)
        return ImportReport(error=code, error_detail=exc.detail[:300])
    if source is None:
        source = ImportSource(
            kind=ImportSourceKind.URL.value,
            url=url,
            created_by_id=actor_id(actor),
            created_at=now,
        )
        db.session.add(source)
        db.session.flush()
    if result.status == "not_modified":
        source.last_fetched_at = now
        source.last_error = None
        count = db.session.scalar(
            select(func.count())
            .select_from(Event)
            .where(Event.import_source_id == source.id)
        )
        return ImportReport(
            source_id=source.id, unchanged=count or 0, not_modified=True
        )
    report = import_calendar(result.body or b"", source, actor, now, deadline)
    if report.ok:
        source.etag, source.last_modified = result.etag, result.last_modified
        source.allow_private = source.allow_private or allow_private
    logger.info("imported %s: %s", url, report.as_dict())
    return report


def refresh_url_source(source: ImportSource, now: datetime) -> ImportReport:
    """Re-import a subscribed URL (the scheduler's feed job); raise ImportFailed on failure.

    A private address stays allowed if an admin allowed it when the source was added.
    """
    if source.url is None:
        raise ImportFailed("bad_url", "not a URL source")
    allow = source.allow_private or bool(current_app.config.get("IMPORT_ALLOW_PRIVATE"))
    report = import_url(source.url, None, now, allow_private=allow)
    if not report.ok:
        raise ImportFailed(report.error or "failed", report.error_detail)
    return report
