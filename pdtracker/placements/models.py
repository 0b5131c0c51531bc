"""Member enterprises that host placements, and the placements planned with them."""

from __future__ import annotations

import enum
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from pdtracker.database import Model
from pdtracker.timeutil import UTCDateTime, utcnow

if TYPE_CHECKING:
    from pdtracker.activities.models import Activity
    from pdtracker.auth.models import User


class Enterprise(Model):
    """A member company of the association."""

    __tablename__ = "enterprises"
    __table_args__ = (
        CheckConstraint("placement_capacity >= 0", name="placement_capacity"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    # 统一社会信用代码 (GB 32100-2015); imports match enterprises by it.
    credit_code: Mapped[str | None] = mapped_column(String(18), unique=True)
    sector: Mapped[str | None] = mapped_column(String(100))
    city: Mapped[str | None] = mapped_column(String(100))
    contact_name: Mapped[str | None] = mapped_column(String(100))
    contact_phone: Mapped[str | None] = mapped_column(String(40))
    # Teachers the enterprise can host at the same time in any month.
    placement_capacity: Mapped[int] = mapped_column(default=2)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class PlacementStatus(enum.StrEnum):
    """proposed → approved → in progress → completed; cancelled from any open state."""

    PROPOSED = "proposed"
    APPROVED = "approved"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


# The only legal moves; services refuse every other one.
TRANSITIONS: dict[PlacementStatus, frozenset[PlacementStatus]] = {
    PlacementStatus.PROPOSED: frozenset(
        {PlacementStatus.APPROVED, PlacementStatus.CANCELLED}
    ),
    PlacementStatus.APPROVED: frozenset(
        {PlacementStatus.IN_PROGRESS, PlacementStatus.CANCELLED}
    ),
    PlacementStatus.IN_PROGRESS: frozenset(
        {PlacementStatus.COMPLETED, PlacementStatus.CANCELLED}
    ),
    PlacementStatus.COMPLETED: frozenset(),
    PlacementStatus.CANCELLED: frozenset(),
}

_STATUS_VALUES = ", ".join(f"'{s.value}'" for s in PlacementStatus)


def weekdays_between(starts_on: date, ends_on: date) -> int:
    """Monday-to-Friday days from start to end, both inclusive."""
    if ends_on < starts_on:
        return 0
    span = (ends_on - starts_on).days + 1
    full_weeks, rest = divmod(span, 7)
    extra = sum(1 for i in range(rest) if (starts_on + timedelta(days=i)).weekday() < 5)
    return full_weeks * 5 + extra


class Placement(Model):
    """An enterprise-practice plan for one teacher at one enterprise."""

    __tablename__ = "placements"
    __table_args__ = (
        CheckConstraint("ends_on >= starts_on", name="date_order"),
        CheckConstraint("working_days >= 0", name="working_days_nonnegative"),
        CheckConstraint(f"status IN ({_STATUS_VALUES})", name="status"),
        CheckConstraint(
            "status <> 'cancelled' OR cancel_reason IS NOT NULL",
            name="cancelled_has_reason",
        ),
        CheckConstraint(
            "status <> 'completed' OR report_stored_name IS NOT NULL",
            name="completed_has_report",
        ),
        CheckConstraint("sequence >= 0", name="sequence_nonnegative"),
        Index("ix_placements_teacher_id_starts_on", "teacher_id", "starts_on"),
        Index("ix_placements_enterprise_id_starts_on", "enterprise_id", "starts_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    teacher_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    enterprise_id: Mapped[int] = mapped_column(
        ForeignKey("enterprises.id", ondelete="RESTRICT")
    )
    planned_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    working_days: Mapped[int]
    mentor_name: Mapped[str | None] = mapped_column(String(100))
    mentor_contact: Mapped[str | None] = mapped_column(String(200))
    tasks: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(
        String(16), default=PlacementStatus.PROPOSED.value
    )
    cancel_reason: Mapped[str | None] = mapped_column(String(500))
    report_stored_name: Mapped[str | None] = mapped_column(String(64), unique=True)
    report_original_name: Mapped[str | None] = mapped_column(String(255))
    report_content_type: Mapped[str | None] = mapped_column(String(64))
    # The activity credited on completion; unique so it is credited exactly once.
    activity_id: Mapped[int | None] = mapped_column(
        ForeignKey("activities.id", ondelete="SET NULL"), unique=True
    )
    # The marketplace offer this placement was confirmed from, and the
    # enterprise mentor who hosts it (their assessment then credits the days).
    offer_id: Mapped[int | None] = mapped_column(
        ForeignKey("placement_offers.id", ondelete="SET NULL"), index=True
    )
    mentor_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    # Private to the teacher and the heads: never shown in department feeds.
    notes: Mapped[str | None] = mapped_column(Text)
    # iCalendar SEQUENCE: bumped when dates, status or enterprise change.
    sequence: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime, default=utcnow, onupdate=utcnow
    )

    teacher: Mapped[User] = relationship(foreign_keys=[teacher_id])
    enterprise: Mapped[Enterprise] = relationship()
    planned_by: Mapped[User | None] = relationship(foreign_keys=[planned_by_id])
    mentor: Mapped[User | None] = relationship(foreign_keys=[mentor_id])
    activity: Mapped[Activity | None] = relationship()

    @property
    def span_days(self) -> int:
        """Calendar days from start to end, inclusive."""
        return (self.ends_on - self.starts_on).days + 1

    @property
    def is_open(self) -> bool:
        """Neither completed nor cancelled: it can still be edited or moved on."""
        return bool(TRANSITIONS[PlacementStatus(self.status)])

    def can_become(self, status: PlacementStatus) -> bool:
        """Whether moving to ``status`` is a legal transition."""
        return status in TRANSITIONS[PlacementStatus(self.status)]
