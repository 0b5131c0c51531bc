"""Stored standings: each active teacher's current status, kept current incrementally.

One row per teacher (``teacher_standings``). The association dashboard and other
cross-college aggregates read these rows instead of evaluating tens of thousands
of teachers per request. :mod:`pdtracker.progress.standings` writes them; a row is
correct for every day from ``as_of`` up to the day before ``next_change_on`` as long
as the teacher's records (``change_version``), profile, department, college and the
college's ruleset are what the row names, and until ``facts_expire_at`` (when a
registered event ends, its seat stops counting as planned).
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from pdtracker.database import Model
from pdtracker.timeutil import UTCDateTime, utcnow


class TeacherStanding(Model):
    """A teacher's dual-qualified status now and in 12 months, and until when it holds."""

    __tablename__ = "teacher_standings"
    __table_args__ = (
        CheckConstraint("qualified_now = (level IS NOT NULL)", name="level_is_now"),
        CheckConstraint("assessed OR NOT qualified_now", name="qualified_assessed"),
        CheckConstraint("assessed OR NOT qualified_in_12", name="forecast_assessed"),
        CheckConstraint("next_change_on > as_of", name="change_after_as_of"),
        CheckConstraint("change_version >= 0", name="change_version"),
        CheckConstraint("industry_years >= 0", name="industry_years"),
        CheckConstraint("ruleset_version >= 1", name="ruleset_version"),
        Index("ix_teacher_standings_institution_id", "institution_id"),
        Index("ix_teacher_standings_next_change_on", "next_change_on"),
        # The association dashboard's cache key reads the newest computation.
        Index("ix_teacher_standings_computed_at", "computed_at"),
    )

    teacher_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    # Where the teacher was when evaluated (a move makes the row stale).
    institution_id: Mapped[int | None] = mapped_column(
        ForeignKey("institutions.id", ondelete="CASCADE")
    )
    department_id: Mapped[int | None] = mapped_column(
        ForeignKey("departments.id", ondelete="SET NULL")
    )
    # The ruleset version the college's teachers were evaluated under.
    ruleset_name: Mapped[str] = mapped_column(String(80))
    ruleset_version: Mapped[int]
    # The profile fields the evaluation read.
    professional_course: Mapped[bool]
    industry_years: Mapped[int] = mapped_column(default=0)
    assessed: Mapped[bool]
    level: Mapped[str | None] = mapped_column(String(64))
    qualified_now: Mapped[bool]
    # Dual-qualified 12 months after as_of if everything planned happens.
    qualified_in_12: Mapped[bool]
    as_of: Mapped[date] = mapped_column(Date)
    # The first local date the status may differ without new records.
    next_change_on: Mapped[date] = mapped_column(Date)
    # The first registered event's end among the facts (its seat then drops).
    facts_expire_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The teacher's change version (feed_states) read before their facts were.
    change_version: Mapped[int] = mapped_column(default=0)
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class TeacherPageRow(Model):
    """A teacher's evaluated department-page row, kept so a new process need not
    evaluate a whole department (see :mod:`pdtracker.progress.page_rows`).

    The row is exact only for the key it was computed under: the local date, the
    ruleset, the teacher's change version, their profile fields and the code that
    evaluates. ``signature`` authenticates ``payload`` and that key together.
    """

    __tablename__ = "teacher_page_rows"
    __table_args__ = (Index("ix_teacher_page_rows_as_of", "as_of"),)

    teacher_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    as_of: Mapped[date] = mapped_column(Date)
    # A digest of everything the row depends on besides the facts' expiry.
    key: Mapped[str] = mapped_column(String(64))
    # The first registered event's end among the facts (its seat then drops).
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # HMAC-SHA256 (the app's secret key) of the key and the payload.
    signature: Mapped[str] = mapped_column(String(64))
    payload: Mapped[bytes] = mapped_column(LargeBinary)
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
