"""The activity log: kinds, activities and their evidence files."""

from __future__ import annotations

import enum
from datetime import date, datetime, time
from decimal import Decimal
from typing import TYPE_CHECKING

from sqlalchemy import (
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Numeric,
    String,
    Text,
    Time,
)
from sqlalchemy.orm import Mapped, mapped_column, query_expression, relationship

from pdtracker.database import Model
from pdtracker.timeutil import UTCDateTime, utcnow

if TYPE_CHECKING:
    from pdtracker.auth.models import User
    from pdtracker.placements.models import Enterprise


class ActivityStatus(enum.StrEnum):
    """Where an activity is in its life: planned → completed → verified / rejected."""

    PLANNED = "planned"
    COMPLETED = "completed"
    VERIFIED = "verified"
    REJECTED = "rejected"


class ActivityRole(enum.StrEnum):
    """The teacher's part in an activity."""

    ATTENDEE = "attendee"
    SPEAKER = "speaker"
    ORGANIZER = "organizer"


class ActivitySource(enum.StrEnum):
    """How the activity got into the log."""

    SELF = "self"
    EVENT = "event"
    PLACEMENT = "placement"
    IMPORT = "import"


class CreditUnit(enum.StrEnum):
    """What an activity kind credits."""

    HOURS = "hours"
    DAYS = "days"
    COUNT = "count"


class CertificateGrade(enum.StrEnum):
    """Grade of an industry certificate."""

    PRIMARY = "primary"
    INTERMEDIATE = "intermediate"
    SENIOR = "senior"


class OrganizerLevel(enum.StrEnum):
    """The organiser's level, for the annual training statistics (区县级 … 境外)."""

    DISTRICT = "district"
    CITY = "city"
    PROVINCE = "province"
    NATIONAL = "national"
    ABROAD = "abroad"


def _in(enum_cls: type[enum.StrEnum], column: str) -> str:
    return f"{column} IN ({', '.join(repr(m.value) for m in enum_cls)})"


class ActivityKind(Model):
    """A kind of activity, as data with labels in both languages."""

    __tablename__ = "activity_kinds"
    __table_args__ = (CheckConstraint(_in(CreditUnit, "unit"), name="unit"),)

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    label_zh: Mapped[str] = mapped_column(String(64))
    label_en: Mapped[str] = mapped_column(String(64))
    unit: Mapped[str] = mapped_column(String(8))
    has_enterprise: Mapped[bool] = mapped_column(default=False)
    has_grade: Mapped[bool] = mapped_column(default=False)
    sort_order: Mapped[int] = mapped_column(default=0)

    def label(self, locale: str) -> str:
        """The label in the given locale (Chinese unless English is asked for)."""
        return self.label_en if locale.startswith("en") else self.label_zh


# The kinds every deployment starts with; the migration inserts them.
DEFAULT_KINDS: tuple[dict, ...] = (
    dict(code="expert_lecture", label_zh="专家讲座", label_en="Expert lecture",
         unit="hours", sort_order=10),
    dict(code="industry_conference", label_zh="行业会议", label_en="Industry conference",
         unit="hours", sort_order=20),
    dict(code="enterprise_placement", label_zh="企业实践", label_en="Enterprise placement",
         unit="days", has_enterprise=True, sort_order=30),
    dict(code="seminar", label_zh="座谈研讨", label_en="Seminar", unit="hours",
         sort_order=40),
    dict(code="training", label_zh="培训", label_en="Training course", unit="hours",
         sort_order=50),
    dict(code="certificate", label_zh="证书", label_en="Certificate", unit="count",
         has_grade=True, sort_order=60),
    dict(code="standard_drafting", label_zh="标准制订", label_en="Standard drafting",
         unit="count", sort_order=70),
    dict(code="enterprise_project", label_zh="企业项目转化",
         label_en="Enterprise project", unit="count", has_enterprise=True,
         sort_order=80),
)  # fmt: skip


class Activity(Model):
    """One entry of a teacher's professional-development log."""

    __tablename__ = "activities"
    __table_args__ = (
        CheckConstraint("ends_on IS NULL OR ends_on >= starts_on", name="date_order"),
        CheckConstraint("hours IS NULL OR hours >= 0", name="hours_nonnegative"),
        CheckConstraint("days IS NULL OR days >= 0", name="days_nonnegative"),
        CheckConstraint(_in(ActivityStatus, "status"), name="status"),
        CheckConstraint(_in(ActivityRole, "role"), name="role"),
        CheckConstraint(_in(ActivitySource, "source"), name="source"),
        CheckConstraint(
            f"grade IS NULL OR {_in(CertificateGrade, 'grade')}", name="grade"
        ),
        CheckConstraint(
            "status <> 'rejected' OR rejection_reason IS NOT NULL",
            name="rejection_has_reason",
        ),
        CheckConstraint(
            "status <> 'verified' OR verified_at IS NOT NULL", name="verified_has_time"
        ),
        CheckConstraint("sequence >= 0", name="sequence_nonnegative"),
        CheckConstraint(
            f"organizer_level IS NULL OR {_in(OrganizerLevel, 'organizer_level')}",
            name="organizer_level",
        ),
        Index("ix_activities_teacher_id_starts_on", "teacher_id", "starts_on"),
        Index("ix_activities_status_teacher_id", "status", "teacher_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    teacher_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind_code: Mapped[str] = mapped_column(
        ForeignKey("activity_kinds.code", ondelete="RESTRICT")
    )
    title: Mapped[str] = mapped_column(String(200))
    organizer: Mapped[str | None] = mapped_column(String(200))
    organizer_level: Mapped[str | None] = mapped_column(String(16))
    enterprise_id: Mapped[int | None] = mapped_column(
        ForeignKey("enterprises.id", ondelete="SET NULL"), index=True
    )
    location: Mapped[str | None] = mapped_column(String(200))
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date | None] = mapped_column(Date)
    # Local wall-clock times in the teacher's zone; absent for all-day activities.
    start_time: Mapped[time | None] = mapped_column(Time)
    end_time: Mapped[time | None] = mapped_column(Time)
    hours: Mapped[Decimal | None] = mapped_column(Numeric(7, 1))
    days: Mapped[int | None]
    role: Mapped[str] = mapped_column(String(16), default=ActivityRole.ATTENDEE.value)
    grade: Mapped[str | None] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default=ActivityStatus.COMPLETED)
    rejection_reason: Mapped[str | None] = mapped_column(String(500))
    source: Mapped[str] = mapped_column(String(16), default=ActivitySource.SELF.value)
    # The record's id in the spreadsheet it was imported from, when it had one.
    external_id: Mapped[str | None] = mapped_column(String(64), index=True)
    notes: Mapped[str | None] = mapped_column(Text)
    verified_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # iCalendar SEQUENCE of the activity's feed entry: + 1 on every material change.
    sequence: Mapped[int] = mapped_column(default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime, default=utcnow, onupdate=utcnow
    )

    teacher: Mapped[User] = relationship(foreign_keys=[teacher_id])
    kind: Mapped[ActivityKind] = relationship(lazy="joined")
    enterprise: Mapped[Enterprise | None] = relationship()
    verified_by: Mapped[User | None] = relationship(foreign_keys=[verified_by_id])
    evidence: Mapped[list[EvidenceFile]] = relationship(
        back_populates="activity",
        cascade="all, delete-orphan",
        order_by="EvidenceFile.id",
    )
    # Filled by list queries (with_expression) so a list need not load the files.
    evidence_count: Mapped[int | None] = query_expression()

    @property
    def is_locked(self) -> bool:
        """A verified activity can no longer be changed by its teacher."""
        return self.status == ActivityStatus.VERIFIED

    @property
    def span_days(self) -> int:
        """Calendar days from start to end, inclusive."""
        return ((self.ends_on or self.starts_on) - self.starts_on).days + 1


class EvidenceFile(Model):
    """An uploaded proof (PDF, JPEG or PNG) stored outside static/ under a generated name."""

    __tablename__ = "evidence_files"
    __table_args__ = (CheckConstraint("size_bytes > 0", name="size_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    activity_id: Mapped[int] = mapped_column(
        ForeignKey("activities.id", ondelete="CASCADE"), index=True
    )
    original_name: Mapped[str] = mapped_column(String(255))
    stored_name: Mapped[str] = mapped_column(String(64), unique=True)
    content_type: Mapped[str] = mapped_column(String(64))
    size_bytes: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))
    uploaded_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    activity: Mapped[Activity] = relationship(back_populates="evidence")
