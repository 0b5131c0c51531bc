"""What an import produces and is bounded by: limits, the budget, events, the plan.

Pure (standard library only), like the parser modules that fill these records
(:mod:`.ics_import`, :mod:`.ics_events`); the events services store them.

Times: timed events are aware UTC datetimes; all-day events are dates with an
exclusive end. ``tzid`` is the IANA zone to expand RRULEs in (wall-clock rules,
RFC 5545 3.3.10).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime

DEFAULT_TZ = "Asia/Shanghai"
FINGERPRINT_VERSION = "v1"

FILE_ERROR_CODES = (
    "too_large",
    "undecodable",
    "not_a_calendar",
    "too_many_components",
    "too_slow",
)
REASON_CODES = (
    "missing_uid",
    "bad_uid",
    "missing_dtstart",
    "bad_dtstart",
    "bad_dtend",
    "end_before_start",
    "bad_recurrence_id",
    "bad_rrule",
    "too_many_instances",
    "duplicate_uid",
    "broken_property",
    "unsupported_component",
)


class TooSlow(Exception):
    """The import's budget ran out; the caller stores nothing and reports ``too_slow``.

    Deliberately not a ValueError: per-event error handlers (which skip one bad
    event and go on) must let it through to the import as a whole.
    """


class Deadline:
    """A point in monotonic time after which the import gives up."""

    def __init__(
        self, seconds: float, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.seconds = float(seconds)
        self._clock = clock
        self._at = clock() + self.seconds

    def remaining(self) -> float:
        """Seconds left (0 when past the deadline)."""
        return max(0.0, self._at - self._clock())

    def expired(self) -> bool:
        """True once the deadline has passed."""
        return self._clock() > self._at

    def check(self) -> None:
        """Raise TooSlow when the deadline has passed."""
        if self._clock() > self._at:
            raise TooSlow(f"over the import budget of {self.seconds:g} s")


@dataclass(frozen=True)
class ImportLimits:
    """Caps that keep a hostile or broken file from exhausting the importer."""

    max_bytes: int = 5 * 1024 * 1024
    max_components: int = 5_000
    max_rrule_instances: int = 1_000
    rrule_window_years: int = 3
    # Wall-clock budget of one parse when the caller passes no Deadline of its own
    # (the importer passes one that covers the whole import).
    time_budget_seconds: float = 15.0
    max_uid_chars: int = 255
    max_description_chars: int = 10_000
    max_text_chars: int = 500
    max_url_chars: int = 2_000
    max_categories: int = 20


@dataclass(frozen=True)
class ImportedEvent:
    """One VEVENT (master or overridden instance), normalised."""

    uid: str
    recurrence_id: datetime | date | None
    summary: str
    description: str | None
    location: str | None
    url: str | None
    start: datetime | date
    end: datetime | date
    all_day: bool
    tzid: str
    status: str
    rrule: str | None
    rdates: tuple[datetime | date, ...]
    exdates: tuple[datetime | date, ...]
    categories: tuple[str, ...]
    fingerprint: str = field(default="", compare=False)

    @property
    def recurrence_key(self) -> str:
        """Return "" for a master event, else RECURRENCE-ID in ISO form."""
        return "" if self.recurrence_id is None else self.recurrence_id.isoformat()

    @property
    def key(self) -> tuple[str, str]:
        """Return the identity within one source: (uid, recurrence_key)."""
        return (self.uid, self.recurrence_key)


@dataclass(frozen=True)
class Skipped:
    """An event left out of the import, with a stable reason code."""

    uid: str | None
    summary: str | None
    reason_code: str
    detail: str


@dataclass(frozen=True)
class ParseResult:
    """Outcome of parsing one file; ``error`` set means the file was rejected whole."""

    events: list[ImportedEvent] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    error: str | None = None
    error_detail: str | None = None
    calendar_name: str | None = None


@dataclass(frozen=True)
class ImportPlan:
    """What the DB layer should do with a parsed file."""

    create: list[ImportedEvent]
    update: list[ImportedEvent]
    unchanged: list[ImportedEvent]
    missing: list[tuple[str, str]]


def plan_import(
    existing: Mapping[tuple[str, str], str], events: Iterable[ImportedEvent]
) -> ImportPlan:
    """Split events into create/update/unchanged given stored key → fingerprint."""
    create, update, unchanged = [], [], []
    keys = set()
    for event in events:
        keys.add(event.key)
        stored = existing.get(event.key)
        if stored is None:
            create.append(event)
        elif stored != event.fingerprint:
            update.append(event)
        else:
            unchanged.append(event)
    missing = sorted(k for k in existing if k not in keys)
    return ImportPlan(create, update, unchanged, missing)
