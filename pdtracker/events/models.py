"""Association events, teachers' registrations, and calendar import sources."""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from pdtracker.database import Model
from pdtracker.timeutil import UTCDateTime, utcnow

if TYPE_CHECKING:
    from pdtracker.activities.models import Activity, ActivityKind
    from pdtracker.auth.models import User

# Activity kinds an association event may have (kinds are data; these three are events).
EVENT_KINDS = ("expert_lecture", "industry_conference", "seminar")
DEFAULT_TZID = "Asia/Shanghai"


class EventStatus(enum.StrEnum):
    """An event's life: draft → published → cancelled."""

    DRAFT = "draft"
    PUBLISHED = "published"
    CANCELLED = "cancelled"


class RegistrationStatus(enum.StrEnum):
    """A teacher's place at an event."""

    REGISTERED = "registered"
    WAITLISTED = "waitlisted"
    CANCELLED = "cancelled"
    ATTENDED = "attended"


class AttendanceSource(enum.StrEnum):
    """How a session's attendance was recorded."""

    MANUAL = "manual"
    BULK = "bulk"
    CHECKIN = "checkin"
    WALK_IN = "walk_in"


class ImportSourceKind(enum.StrEnum):
    """Where imported events come from."""

    FILE = "file"
    URL = "url"


def _in(values: tuple[str, ...] | type[enum.StrEnum], column: str) -> str:
    items = [v.value if isinstance(v, enum.Enum) else v for v in values]
    return f"{column} IN ({', '.join(repr(v) for v in items)})"


class ImportSource(Model):
    """An association calendar that events are imported from (uploaded file or URL)."""

    __tablename__ = "import_sources"
    __table_args__ = (
        CheckConstraint(_in(ImportSourceKind, "kind"), name="kind"),
        CheckConstraint("(kind = 'url') = (url IS NOT NULL)", name="url_iff_kind_url"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(8))
    url: Mapped[str | None] = mapped_column(String(2000), unique=True)
    name: Mapped[str | None] = mapped_column(String(200))
    # Validators from the last 200 response, sent back on the next conditional GET.
    etag: Mapped[str | None] = mapped_column(String(500))
    last_modified: Mapped[str | None] = mapped_column(String(100))
    last_fetched_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(String(500))
    # An admin allowed this URL although it is in a private network; refreshes may too.
    allow_private: Mapped[bool] = mapped_column(default=False)
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Event(Model):
    """An expert lecture, industry conference or seminar published by the association.

    Timed events store instants (starts_at/ends_at, UTC) and the zone they were planned
    in (tzid). All-day events store dates with an exclusive end (start_on/end_on, as
    iCalendar's VALUE=DATE) and, for ordering and filtering, starts_at/ends_at at the
    midnights of those dates in tzid.
    """

    __tablename__ = "events"
    __table_args__ = (
        CheckConstraint(_in(EVENT_KINDS, "kind_code"), name="kind"),
        CheckConstraint(_in(EventStatus, "status"), name="status"),
        CheckConstraint("ends_at >= starts_at", name="time_order"),
        CheckConstraint(
            "(is_all_day AND start_on IS NOT NULL AND end_on IS NOT NULL"
            " AND end_on > start_on)"
            " OR (NOT is_all_day AND start_on IS NULL AND end_on IS NULL)",
            name="all_day_dates",
        ),
        CheckConstraint("capacity IS NULL OR capacity > 0", name="capacity_positive"),
        CheckConstraint("credited_hours >= 0", name="hours_nonnegative"),
        CheckConstraint("sequence >= 0", name="sequence_nonnegative"),
        CheckConstraint(
            "(status = 'cancelled') = (cancelled_at IS NOT NULL)",
            name="cancelled_has_time",
        ),
        # One VEVENT per UID in every feed, apart from RECURRENCE-ID overrides.
        UniqueConstraint("uid", "recurrence_key"),
        Index("ix_events_status_starts_at", "status", "starts_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind_code: Mapped[str] = mapped_column(
        ForeignKey("activity_kinds.code", ondelete="RESTRICT")
    )
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    speakers: Mapped[str | None] = mapped_column(String(500))
    location: Mapped[str | None] = mapped_column(String(500))
    online_url: Mapped[str | None] = mapped_column(String(2000))
    # The event's page at the calendar it was imported from.
    source_url: Mapped[str | None] = mapped_column(String(2000))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    tzid: Mapped[str] = mapped_column(String(64), default=DEFAULT_TZID)
    is_all_day: Mapped[bool] = mapped_column(default=False)
    start_on: Mapped[date | None] = mapped_column(Date)
    end_on: Mapped[date | None] = mapped_column(Date)  # exclusive
    # RFC 5545 RRULE value (UNTIL in UTC) and excluded occurrences: ISO instants in UTC
    # for timed events, ISO dates for all-day ones.
    rrule: Mapped[str | None] = mapped_column(String(500))
    exdates: Mapped[list[str]] = mapped_column(JSON, default=list)
    # End of the last occurrence; NULL for a recurrence without end.
    series_ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    capacity: Mapped[int | None]
    # Staff accept teachers who come without registering (they register at check-in).
    allow_walk_ins: Mapped[bool] = mapped_column(default=False, server_default=false())
    registration_deadline: Mapped[datetime | None] = mapped_column(UTCDateTime)
    credited_hours: Mapped[Decimal] = mapped_column(Numeric(7, 1), default=Decimal(0))
    status: Mapped[str] = mapped_column(String(16), default=EventStatus.DRAFT.value)
    sequence: Mapped[int] = mapped_column(default=0)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    uid: Mapped[str] = mapped_column(String(255))
    # "" for a master or single event; RECURRENCE-ID (ISO) for an imported override.
    recurrence_key: Mapped[str] = mapped_column(String(40), default="")
    import_source_id: Mapped[int | None] = mapped_column(
        ForeignKey("import_sources.id", ondelete="SET NULL"), index=True
    )
    fingerprint: Mapped[str | None] = mapped_column(String(64))
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Set by the services on every change (never on a registration): feeds use it
    # as DTSTAMP/LAST-MODIFIED.
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    kind: Mapped[ActivityKind] = relationship(lazy="joined")
    import_source: Mapped[ImportSource | None] = relationship()
    created_by: Mapped[User | None] = relationship()
    registrations: Mapped[list[Registration]] = relationship(
        back_populates="event",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="Registration.queued_at, Registration.id",
    )

    @property
    def is_series(self) -> bool:
        """A recurring event (sessions from its RRULE)."""
        return bool(self.rrule) and not self.recurrence_key

    @property
    def is_published(self) -> bool:
        """Visible to teachers and open for registration rules."""
        return self.status == EventStatus.PUBLISHED

    @property
    def is_cancelled(self) -> bool:
        """Cancelled events stay visible (struck out) but take no registrations."""
        return self.status == EventStatus.CANCELLED

    @property
    def is_imported(self) -> bool:
        """True when the event came from an imported calendar."""
        return self.import_source_id is not None

    @property
    def last_day(self) -> date | None:
        """The inclusive last date of an all-day event."""
        return (
            None
            if self.end_on is None
            else date.fromordinal(self.end_on.toordinal() - 1)
        )

    @property
    def registration_closes_at(self) -> datetime:
        """The deadline, or the start when there is none."""
        return self.registration_deadline or self.starts_at

    def exdate_values(self) -> list[datetime | date]:
        """The excluded occurrences as aware UTC datetimes or dates."""
        parse: Any = date.fromisoformat if self.is_all_day else datetime.fromisoformat
        return [parse(v) for v in self.exdates or []]


class Registration(Model):
    """A teacher's registration for an event (one row per teacher and event)."""

    __tablename__ = "registrations"
    __table_args__ = (
        CheckConstraint(_in(RegistrationStatus, "status"), name="status"),
        UniqueConstraint("event_id", "teacher_id"),
        # The waitlist is read in this order.
        Index("ix_registrations_event_id_status_queued_at", "event_id", "status",
              "queued_at"),
    )  # fmt: skip

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"))
    teacher_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    status: Mapped[str] = mapped_column(String(16))
    # When the teacher (last) joined the seats or the waitlist: the waitlist order.
    queued_at: Mapped[datetime] = mapped_column(UTCDateTime)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    attended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    marked_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    # The verified activity credited for attending: at most one per registration.
    activity_id: Mapped[int | None] = mapped_column(
        ForeignKey("activities.id", ondelete="SET NULL"), unique=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    event: Mapped[Event] = relationship(back_populates="registrations")
    teacher: Mapped[User] = relationship(foreign_keys=[teacher_id])
    activity: Mapped[Activity | None] = relationship()

    @property
    def is_active(self) -> bool:
        """Holding a seat or a waitlist place."""
        return self.status in (
            RegistrationStatus.REGISTERED,
            RegistrationStatus.WAITLISTED,
        )

    @property
    def is_cancelled(self) -> bool:
        """The teacher withdrew."""
        return self.status == RegistrationStatus.CANCELLED


class EventSession(Model):
    """One occurrence of an event, stored once something refers to it.

    ``key`` is the occurrence's original start (its RECURRENCE-ID): UTC
    ``YYYYMMDDTHHMMSSZ`` for timed events, ``YYYYMMDD`` for all-day ones; stable and
    URL-safe. A moved session keeps its key and stores its new times; a cancelled one
    stays as STATUS:CANCELLED in feeds. Each session counts its own SEQUENCE
    (docs/calendar-feeds.md F3, F19).
    """

    __tablename__ = "event_sessions"
    __table_args__ = (
        UniqueConstraint("event_id", "key"),
        CheckConstraint("ends_at >= starts_at", name="time_order"),
        CheckConstraint("sequence >= 0", name="sequence_nonnegative"),
        CheckConstraint(
            "is_cancelled = (cancelled_at IS NOT NULL)", name="cancelled_has_time"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(20))
    original_starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    location: Mapped[str | None] = mapped_column(String(500))
    is_moved: Mapped[bool] = mapped_column(default=False)
    is_cancelled: Mapped[bool] = mapped_column(default=False)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sequence: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    event: Mapped[Event] = relationship()

    @property
    def is_override(self) -> bool:
        """Moved or cancelled: the feeds write it as a RECURRENCE-ID override."""
        return self.is_moved or self.is_cancelled


class SessionRegistration(Model):
    """A teacher's place in one session of an event: seat, waitlist, attended.

    The event-wide :class:`Registration` sums these up. Attendance credits one
    verified activity per session: the row is unique per (session, registration) and
    its activity link is unique, so a session is credited once.
    """

    __tablename__ = "session_registrations"
    __table_args__ = (
        CheckConstraint(_in(RegistrationStatus, "status"), name="status"),
        CheckConstraint(
            f"source IS NULL OR {_in(AttendanceSource, 'source')}", name="source"
        ),
        CheckConstraint(
            "(status = 'attended') = (attended_at IS NOT NULL)",
            name="attended_has_time",
        ),
        UniqueConstraint("session_id", "registration_id"),
        Index("ix_session_registrations_session_id_status_queued_at",
              "session_id", "status", "queued_at"),
    )  # fmt: skip

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(
        ForeignKey("event_sessions.id", ondelete="CASCADE")
    )
    registration_id: Mapped[int] = mapped_column(
        ForeignKey("registrations.id", ondelete="CASCADE"), index=True
    )
    status: Mapped[str] = mapped_column(String(16))
    queued_at: Mapped[datetime] = mapped_column(UTCDateTime)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    attended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    source: Mapped[str | None] = mapped_column(String(16))
    marked_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    activity_id: Mapped[int | None] = mapped_column(
        ForeignKey("activities.id", ondelete="SET NULL"), unique=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    session: Mapped[EventSession] = relationship()
    registration: Mapped[Registration] = relationship()

    @property
    def is_active(self) -> bool:
        """Holding a seat or a waitlist place."""
        return self.status in (
            RegistrationStatus.REGISTERED,
            RegistrationStatus.WAITLISTED,
        )
