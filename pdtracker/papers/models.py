"""Issued papers: what each one claims, its number, and the PDF handed out."""

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
    LargeBinary,
    Numeric,
    String,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from pdtracker.database import Model
from pdtracker.timeutil import UTCDateTime

if TYPE_CHECKING:
    from pdtracker.auth.models import User


class PaperKind(enum.StrEnum):
    """What a paper is."""

    CERTIFICATE = "certificate"
    HOURS_STATEMENT = "hours_statement"


class PaperState(enum.StrEnum):
    """What the public check page says about a paper today."""

    VALID = "valid"
    EXPIRED = "expired"
    SUSPENDED = "suspended"
    REVOKED = "revoked"
    WITHDRAWN = "withdrawn"


class Paper(Model):
    """A paper issued with a number that the public check page confirms.

    ``claims`` is what the paper says (the teacher's name, the college, the level
    or the period and its totals, the lines of a statement), frozen at issue; the
    ``pdf`` bytes are stored at issue so every later download and ``flask
    recognition pdf`` hand out exactly the same file.
    """

    __tablename__ = "papers"
    __table_args__ = (
        CheckConstraint("kind IN ('certificate', 'hours_statement')", name="kind"),
        CheckConstraint(
            "kind <> 'hours_statement' OR "
            "(period_start IS NOT NULL AND period_end IS NOT NULL "
            "AND period_end >= period_start)",
            name="statement_period",
        ),
        CheckConstraint(
            "kind <> 'certificate' OR recognition_id IS NOT NULL",
            name="certificate_recognition",
        ),
        CheckConstraint("total_hours IS NULL OR total_hours >= 0", name="hours"),
        CheckConstraint("total_days IS NULL OR total_days >= 0", name="days"),
        Index("ix_papers_teacher_id_issued_at", "teacher_id", "issued_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(32), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    teacher_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="RESTRICT"), index=True
    )
    institution_id: Mapped[int | None] = mapped_column(
        ForeignKey("institutions.id", ondelete="RESTRICT"), index=True
    )
    # One certificate per recognition (a unique key; NULLs repeat freely).
    recognition_id: Mapped[int | None] = mapped_column(
        ForeignKey("recognitions.id", ondelete="RESTRICT"), unique=True
    )
    period_start: Mapped[date | None] = mapped_column(Date)
    period_end: Mapped[date | None] = mapped_column(Date)
    total_hours: Mapped[Decimal | None] = mapped_column(Numeric(9, 1))
    total_days: Mapped[Decimal | None] = mapped_column(Numeric(9, 1))
    claims: Mapped[dict[str, Any]] = mapped_column(JSON)
    pdf: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
    pdf_sha256: Mapped[str] = mapped_column(String(64))
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime)
    issued_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    teacher: Mapped[User] = relationship(foreign_keys=[teacher_id])
    issued_by: Mapped[User | None] = relationship(foreign_keys=[issued_by_id])

    @property
    def check_path(self) -> str:
        """The public check page's path (what the QR code opens)."""
        return f"/verify/{self.number}"
