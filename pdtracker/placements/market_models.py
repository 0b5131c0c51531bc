"""The placement marketplace: enterprises' offers, seat requests, enterprise mentors.

An offer (企业实践岗位) is published by association staff for a member
enterprise; heads request seats on it for their teachers. A request holds a seat
while it is ``requested`` or ``confirmed``; seats are counted under the offer's
row lock, so the last seat goes to exactly one request. Confirming a request
creates an approved placement linked to the offer.

A mentor (企业导师) is a ``mentor`` account tied to exactly one enterprise by
``enterprise_mentors`` (its primary key is the user). During a placement the
mentor records the days on site; at the end the 企业实践考核表
(:class:`MentorAssessment`) confirms the days credited.
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import (
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from pdtracker.database import Model
from pdtracker.placements.models import Enterprise, Placement
from pdtracker.timeutil import UTCDateTime, utcnow

if TYPE_CHECKING:
    from pdtracker.auth.models import User


class OfferStatus(enum.StrEnum):
    """An offer is open for requests until staff withdraw it."""

    OPEN = "open"
    WITHDRAWN = "withdrawn"


class RequestStatus(enum.StrEnum):
    """asked (by the teacher) → requested (by the head; holds a seat) → confirmed.

    A requested seat may be declined (with a reason) or withdrawn by the head.
    """

    ASKED = "asked"
    REQUESTED = "requested"
    CONFIRMED = "confirmed"
    DECLINED = "declined"
    WITHDRAWN = "withdrawn"


# Statuses that hold one of the offer's seats.
SEAT_HOLDING = (RequestStatus.REQUESTED.value, RequestStatus.CONFIRMED.value)
# Statuses still waiting for somebody.
PENDING = (RequestStatus.ASKED.value, RequestStatus.REQUESTED.value)


def _values(kind: type[enum.StrEnum]) -> str:
    return ", ".join(f"'{s.value}'" for s in kind)


class EnterpriseMentor(Model):
    """A mentor account's enterprise: one per account (the user is the key)."""

    __tablename__ = "enterprise_mentors"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    enterprise_id: Mapped[int] = mapped_column(
        ForeignKey("enterprises.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    user: Mapped[User] = relationship()
    enterprise: Mapped[Enterprise] = relationship()


class DepartmentSector(Model):
    """A sector a department's teachers serve; offers in it fit them.

    A department that names no sector is open to every sector.
    """

    __tablename__ = "department_sectors"

    department_id: Mapped[int] = mapped_column(
        ForeignKey("departments.id", ondelete="CASCADE"), primary_key=True
    )
    sector: Mapped[str] = mapped_column(String(100), primary_key=True)


class PlacementOffer(Model):
    """A post an enterprise offers to teachers of member colleges."""

    __tablename__ = "placement_offers"
    __table_args__ = (
        CheckConstraint("ends_on >= starts_on", name="date_order"),
        CheckConstraint("seats >= 1", name="seats_positive"),
        CheckConstraint("working_days >= 0", name="working_days_nonnegative"),
        CheckConstraint(f"status IN ({_values(OfferStatus)})", name="status"),
        Index("ix_placement_offers_status_starts_on", "status", "starts_on"),
        Index("ix_placement_offers_sector", "sector"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(
        ForeignKey("enterprises.id", ondelete="RESTRICT"), index=True
    )
    post: Mapped[str] = mapped_column(String(200))
    # The production or service scene the post belongs to.
    scene: Mapped[str | None] = mapped_column(String(200))
    tasks: Mapped[str | None] = mapped_column(Text)
    sector: Mapped[str] = mapped_column(String(100))
    # Comma-separated skill tags, as typed.
    skills: Mapped[str | None] = mapped_column(String(500))
    mentor_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    seats: Mapped[int]
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    working_days: Mapped[int]
    city: Mapped[str | None] = mapped_column(String(100))
    location: Mapped[str | None] = mapped_column(String(200))
    # What the teacher should bring back to teaching.
    bring_back: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default=OfferStatus.OPEN.value)
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime, default=utcnow, onupdate=utcnow
    )

    enterprise: Mapped[Enterprise] = relationship()
    mentor: Mapped[User | None] = relationship(foreign_keys=[mentor_id])

    @property
    def skill_list(self) -> list[str]:
        """The skill tags, trimmed."""
        return [s.strip() for s in (self.skills or "").split(",") if s.strip()]


class PlacementRequest(Model):
    """A head's request (or a teacher's ask) for a seat on an offer."""

    __tablename__ = "placement_requests"
    __table_args__ = (
        UniqueConstraint("offer_id", "teacher_id", name="one_per_teacher"),
        CheckConstraint(f"status IN ({_values(RequestStatus)})", name="status"),
        CheckConstraint(
            "status <> 'declined' OR decline_reason IS NOT NULL",
            name="declined_has_reason",
        ),
        CheckConstraint(
            "status <> 'confirmed' OR placement_id IS NOT NULL",
            name="confirmed_has_placement",
        ),
        Index("ix_placement_requests_teacher_id", "teacher_id"),
        Index("ix_placement_requests_offer_id_status", "offer_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    offer_id: Mapped[int] = mapped_column(
        ForeignKey("placement_offers.id", ondelete="CASCADE")
    )
    teacher_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    requested_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    status: Mapped[str] = mapped_column(String(16))
    decline_reason: Mapped[str | None] = mapped_column(String(500))
    decided_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    placement_id: Mapped[int | None] = mapped_column(
        ForeignKey("placements.id", ondelete="SET NULL"), unique=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime, default=utcnow, onupdate=utcnow
    )

    offer: Mapped[PlacementOffer] = relationship()
    teacher: Mapped[User] = relationship(foreign_keys=[teacher_id])
    placement: Mapped[Placement | None] = relationship()


class AttendanceDay(Model):
    """A day the mentor saw the teacher on site."""

    __tablename__ = "placement_attendance"

    placement_id: Mapped[int] = mapped_column(
        ForeignKey("placements.id", ondelete="CASCADE"), primary_key=True
    )
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    recorded_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ScoreScale(enum.StrEnum):
    """优/良/中/差 (stored 4..1) or points 0–100."""

    GRADE = "grade"
    POINTS = "points"


GRADES = {4: "优", 3: "良", 2: "中", 1: "差"}
SCORE_FIELDS = ("attendance_score", "task_score", "skill_score", "attitude_score")


def _score_check(column: str) -> CheckConstraint:
    return CheckConstraint(
        f"(scale = 'grade' AND {column} BETWEEN 1 AND 4) OR "
        f"(scale = 'points' AND {column} BETWEEN 0 AND 100)",
        name=column,
    )


class MentorAssessment(Model):
    """The 企业实践考核表: the mentor's scores, comments and confirmed days."""

    __tablename__ = "mentor_assessments"
    __table_args__ = (
        CheckConstraint(f"scale IN ({_values(ScoreScale)})", name="scale"),
        CheckConstraint("confirmed_days >= 1", name="confirmed_days_positive"),
        *(_score_check(c) for c in SCORE_FIELDS),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    placement_id: Mapped[int] = mapped_column(
        ForeignKey("placements.id", ondelete="CASCADE"), unique=True
    )
    mentor_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    scale: Mapped[str] = mapped_column(String(8))
    attendance_score: Mapped[int] = mapped_column(SmallInteger)
    task_score: Mapped[int] = mapped_column(SmallInteger)
    skill_score: Mapped[int] = mapped_column(SmallInteger)
    attitude_score: Mapped[int] = mapped_column(SmallInteger)
    comments: Mapped[str | None] = mapped_column(Text)
    confirmed_days: Mapped[int]
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    mentor: Mapped[User | None] = relationship()

    def shown(self, value: int) -> str:
        """A score as the form shows it: 优/良/中/差 or the points."""
        return GRADES.get(value, "?") if self.scale == ScoreScale.GRADE else str(value)
