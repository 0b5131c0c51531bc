"""Recognition (认定): rounds, applications, review, decisions and recognitions.

A college opens a round with the active ruleset version frozen into it; teachers
apply with a frozen snapshot of their standing; the head checks the form, the
panel votes, the round decides; published results become recognitions whose
state follows the calendar (review due, expired) and their evidence (suspended,
revoked). Every recognition names the activities and files it rests on.
"""

from __future__ import annotations

import enum
import secrets
from base64 import b32encode
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Date,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from pdtracker.database import Model
from pdtracker.timeutil import UTCDateTime, utcnow

if TYPE_CHECKING:
    from pdtracker.auth.models import User
    from pdtracker.org.models import Institution


def _in(enum_cls: type[enum.StrEnum], column: str) -> str:
    return f"{column} IN ({', '.join(repr(m.value) for m in enum_cls)})"


class RoundState(enum.StrEnum):
    """draft → open (applications) → closed (review) → published (results out)."""

    DRAFT = "draft"
    OPEN = "open"
    CLOSED = "closed"
    PUBLISHED = "published"


class ApplicationState(enum.StrEnum):
    """An application's way through the formal check, the panel and the decision."""

    SUBMITTED = "submitted"
    RETURNED = "returned"
    RESUBMITTED = "resubmitted"
    FORMAL_OK = "formal_ok"
    DECIDED = "decided"
    # Returned a second time: it cannot be re-submitted again.
    CLOSED = "closed"


class FormalOutcome(enum.StrEnum):
    """The head's formal check: complete, or returned for more evidence."""

    COMPLETE = "complete"
    RETURNED = "returned"


class VoteChoice(enum.StrEnum):
    """A panel member's vote."""

    APPROVE = "approve"
    REJECT = "reject"


class DecisionOutcome(enum.StrEnum):
    """The round's decision on one application."""

    APPROVE = "approve"
    REJECT = "reject"


class ObjectionState(enum.StrEnum):
    """An objection waits for the admin, who upholds or changes the decision."""

    PENDING = "pending"
    UPHELD = "upheld"
    CHANGED = "changed"


class RecognitionState(enum.StrEnum):
    """A recognition's state: by the calendar, and by its evidence."""

    ACTIVE = "active"
    REVIEW_DUE = "review_due"
    EXPIRED = "expired"
    SUSPENDED = "suspended"
    REVOKED = "revoked"


# States in which a recognition still stands (and can be suspended).
STANDING = (RecognitionState.ACTIVE.value, RecognitionState.REVIEW_DUE.value)

CERTIFICATE_PREFIX = "SX-"


def new_certificate_number() -> str:
    """An unguessable number (80 random bits, base32) that says nothing of the id."""
    return CERTIFICATE_PREFIX + b32encode(secrets.token_bytes(10)).decode("ascii")


class RecognitionRound(Model):
    """One college's recognition round (认定批次)."""

    __tablename__ = "recognition_rounds"
    __table_args__ = (
        UniqueConstraint("institution_id", "name"),
        CheckConstraint(_in(RoundState, "state"), name="state"),
        CheckConstraint("closes_on >= opens_on", name="window_order"),
        CheckConstraint("objection_days >= 0", name="objection_days"),
        CheckConstraint("validity_years >= 1", name="validity_years"),
        CheckConstraint(
            "state = 'draft' OR (ruleset_name IS NOT NULL "
            "AND ruleset_version IS NOT NULL AND opened_at IS NOT NULL)",
            name="opened_has_ruleset",
        ),
        CheckConstraint(
            "(state = 'published') = (published_at IS NOT NULL)",
            name="published_has_time",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    institution_id: Mapped[int] = mapped_column(
        ForeignKey("institutions.id", ondelete="RESTRICT"), index=True
    )
    name: Mapped[str] = mapped_column(String(120))
    # Level codes of the frozen ruleset, low to high.
    levels: Mapped[list[str]] = mapped_column(JSON)
    opens_on: Mapped[date] = mapped_column(Date)
    closes_on: Mapped[date] = mapped_column(Date)
    ruleset_name: Mapped[str | None] = mapped_column(String(80))
    ruleset_version: Mapped[int | None]
    objection_days: Mapped[int] = mapped_column(default=7, server_default="7")
    validity_years: Mapped[int] = mapped_column(default=5, server_default="5")
    state: Mapped[str] = mapped_column(String(16), default=RoundState.DRAFT.value)
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    opened_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The last day an objection may be filed (published date + objection_days).
    objections_until: Mapped[date | None] = mapped_column(Date)

    institution: Mapped[Institution] = relationship()
    reviewers: Mapped[list[RoundReviewer]] = relationship(
        back_populates="round", cascade="all, delete-orphan"
    )


class RoundReviewer(Model):
    """A panel member of a round."""

    __tablename__ = "recognition_round_reviewers"

    round_id: Mapped[int] = mapped_column(
        ForeignKey("recognition_rounds.id", ondelete="CASCADE"), primary_key=True
    )
    reviewer_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    added_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    round: Mapped[RecognitionRound] = relationship(back_populates="reviewers")
    reviewer: Mapped[User] = relationship()


class RecognitionApplication(Model):
    """A teacher's application in a round, with the snapshot frozen when submitted."""

    __tablename__ = "recognition_applications"
    __table_args__ = (
        UniqueConstraint("round_id", "teacher_id"),
        # Target of the votes' composite key: a vote names its application's teacher.
        UniqueConstraint("id", "round_id", "teacher_id"),
        CheckConstraint(_in(ApplicationState, "state"), name="state"),
        CheckConstraint("returns_count BETWEEN 0 AND 2", name="returns_count"),
        CheckConstraint("resubmits_count BETWEEN 0 AND 1", name="resubmits_count"),
        CheckConstraint(
            "precheck_meets OR statement IS NOT NULL", name="not_meeting_has_statement"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(
        ForeignKey("recognition_rounds.id", ondelete="CASCADE"), index=True
    )
    teacher_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    # The applicant's department when they applied: the conflict-of-interest rule.
    department_id: Mapped[int | None] = mapped_column(
        ForeignKey("departments.id", ondelete="SET NULL"), index=True
    )
    level_applied: Mapped[str] = mapped_column(String(64))
    statement: Mapped[str | None] = mapped_column(Text)
    state: Mapped[str] = mapped_column(
        String(16), default=ApplicationState.SUBMITTED.value
    )
    # The engine report under the round's ruleset, counted activities, evidence
    # names and SHA-256: frozen when (re-)submitted, never touched by later edits.
    snapshot: Mapped[dict[str, Any]] = mapped_column(JSON)
    snapshot_at: Mapped[datetime] = mapped_column(UTCDateTime)
    precheck_meets: Mapped[bool]
    precheck_explanation: Mapped[list[dict[str, Any]]] = mapped_column(
        JSON, default=list
    )
    returns_count: Mapped[int] = mapped_column(default=0, server_default="0")
    resubmits_count: Mapped[int] = mapped_column(default=0, server_default="0")
    return_note: Mapped[str | None] = mapped_column(Text)
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime, default=utcnow, onupdate=utcnow
    )

    round: Mapped[RecognitionRound] = relationship()
    teacher: Mapped[User] = relationship()
    decision: Mapped[Decision | None] = relationship(
        back_populates="application", uselist=False
    )
    objection: Mapped[Objection | None] = relationship(
        back_populates="application", uselist=False
    )


class FormalCheck(Model):
    """The head's formal check of an application (one row per check)."""

    __tablename__ = "recognition_formal_checks"
    __table_args__ = (
        CheckConstraint(_in(FormalOutcome, "outcome"), name="outcome"),
        CheckConstraint(
            "outcome = 'complete' OR note IS NOT NULL", name="returned_has_note"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(
        ForeignKey("recognition_applications.id", ondelete="CASCADE"), index=True
    )
    checker_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    outcome: Mapped[str] = mapped_column(String(16))
    note: Mapped[str | None] = mapped_column(Text)
    checked_at: Mapped[datetime] = mapped_column(UTCDateTime)


class PanelVote(Model):
    """One reviewer's vote on one application, with a reason.

    The composite keys make the database refuse a vote by someone not on the
    round's panel, and a vote on one's own application.
    """

    __tablename__ = "recognition_votes"
    __table_args__ = (
        UniqueConstraint("application_id", "reviewer_id"),
        ForeignKeyConstraint(
            ["application_id", "round_id", "teacher_id"],
            [
                "recognition_applications.id",
                "recognition_applications.round_id",
                "recognition_applications.teacher_id",
            ],
            ondelete="CASCADE",
            name="fk_recognition_votes_application",
        ),
        ForeignKeyConstraint(
            ["round_id", "reviewer_id"],
            [
                "recognition_round_reviewers.round_id",
                "recognition_round_reviewers.reviewer_id",
            ],
            ondelete="CASCADE",
            name="fk_recognition_votes_panel",
        ),
        CheckConstraint(_in(VoteChoice, "choice"), name="choice"),
        CheckConstraint("reviewer_id <> teacher_id", name="not_own"),
        CheckConstraint("length(reason) > 0", name="has_reason"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(index=True)
    round_id: Mapped[int]
    teacher_id: Mapped[int]
    reviewer_id: Mapped[int] = mapped_column(index=True)
    choice: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(Text)
    voted_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Decision(Model):
    """The round's decision on an application: approve at a level, or reject."""

    __tablename__ = "recognition_decisions"
    __table_args__ = (
        CheckConstraint(_in(DecisionOutcome, "outcome"), name="outcome"),
        CheckConstraint(
            "(outcome = 'approve') = (level IS NOT NULL)", name="approve_has_level"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(
        ForeignKey("recognition_applications.id", ondelete="CASCADE"), unique=True
    )
    outcome: Mapped[str] = mapped_column(String(16))
    level: Mapped[str | None] = mapped_column(String(64))
    reason: Mapped[str | None] = mapped_column(Text)
    decided_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime)

    application: Mapped[RecognitionApplication] = relationship(
        back_populates="decision"
    )


class Objection(Model):
    """A teacher's one objection to a published decision."""

    __tablename__ = "recognition_objections"
    __table_args__ = (
        CheckConstraint(_in(ObjectionState, "state"), name="state"),
        CheckConstraint("length(statement) > 0", name="has_statement"),
        CheckConstraint(
            "(state = 'pending') = (resolved_at IS NULL)", name="resolved_has_time"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(
        ForeignKey("recognition_applications.id", ondelete="CASCADE"), unique=True
    )
    statement: Mapped[str] = mapped_column(Text)
    filed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    state: Mapped[str] = mapped_column(String(16), default=ObjectionState.PENDING.value)
    resolution: Mapped[str | None] = mapped_column(Text)
    resolved_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    application: Mapped[RecognitionApplication] = relationship(
        back_populates="objection"
    )


class Recognition(Model):
    """A published result: a teacher holds a level, with a certificate number."""

    __tablename__ = "recognitions"
    __table_args__ = (
        CheckConstraint(_in(RecognitionState, "state"), name="state"),
        CheckConstraint("valid_until > valid_from", name="validity_order"),
        CheckConstraint(
            "state <> 'revoked' OR revoke_reason IS NOT NULL", name="revoked_has_reason"
        ),
        Index("ix_recognitions_state_valid_until", "state", "valid_until"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    teacher_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    institution_id: Mapped[int] = mapped_column(
        ForeignKey("institutions.id", ondelete="RESTRICT"), index=True
    )
    application_id: Mapped[int] = mapped_column(
        ForeignKey("recognition_applications.id", ondelete="RESTRICT"), unique=True
    )
    level: Mapped[str] = mapped_column(String(64))
    certificate_number: Mapped[str] = mapped_column(
        String(32), unique=True, default=new_certificate_number
    )
    valid_from: Mapped[date] = mapped_column(Date)
    valid_until: Mapped[date] = mapped_column(Date)
    state: Mapped[str] = mapped_column(
        String(16), default=RecognitionState.ACTIVE.value
    )
    revoke_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime, default=utcnow, onupdate=utcnow
    )

    teacher: Mapped[User] = relationship()
    institution: Mapped[Institution] = relationship()
    application: Mapped[RecognitionApplication] = relationship()
    basis: Mapped[list[RecognitionBasis]] = relationship(
        back_populates="recognition",
        cascade="all, delete-orphan",
        order_by="RecognitionBasis.id",
    )


class RecognitionChange(Model):
    """The audit trail of a recognition: every state change, who, when and why."""

    __tablename__ = "recognition_changes"
    __table_args__ = (
        CheckConstraint(
            f"from_state IS NULL OR {_in(RecognitionState, 'from_state')}",
            name="from_state",
        ),
        CheckConstraint(_in(RecognitionState, "to_state"), name="to_state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    recognition_id: Mapped[int] = mapped_column(
        ForeignKey("recognitions.id", ondelete="CASCADE"), index=True
    )
    from_state: Mapped[str | None] = mapped_column(String(16))
    to_state: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(Text)
    actor_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime)


class RecognitionBasis(Model):
    """The evidence graph: one activity a recognition rests on, and why it went bad.

    ``activity_id`` becomes NULL when the activity is deleted; the title, kind and
    dates stay as they were when the result was published.
    """

    __tablename__ = "recognition_basis"
    __table_args__ = (
        UniqueConstraint("recognition_id", "activity_ref"),
        CheckConstraint(
            "(went_bad_at IS NULL) = (went_bad_reason IS NULL)", name="bad_has_reason"
        ),
        CheckConstraint(
            "went_bad_reason IS NULL OR went_bad_reason IN "
            "('rejected', 'unverified', 'deleted', 'expired')",
            name="bad_reason",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    recognition_id: Mapped[int] = mapped_column(
        ForeignKey("recognitions.id", ondelete="CASCADE"), index=True
    )
    activity_id: Mapped[int | None] = mapped_column(
        ForeignKey("activities.id", ondelete="SET NULL"), index=True
    )
    # The activity's id as published (kept when the activity is deleted).
    activity_ref: Mapped[int]
    title: Mapped[str] = mapped_column(String(200))
    kind_code: Mapped[str] = mapped_column(String(32))
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date | None] = mapped_column(Date)
    went_bad_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    went_bad_reason: Mapped[str | None] = mapped_column(String(16))

    recognition: Mapped[Recognition] = relationship(back_populates="basis")
    files: Mapped[list[RecognitionBasisFile]] = relationship(
        cascade="all, delete-orphan", order_by="RecognitionBasisFile.id"
    )


class RecognitionBasisFile(Model):
    """An evidence file of a basis activity: its name and SHA-256 when published."""

    __tablename__ = "recognition_basis_files"

    id: Mapped[int] = mapped_column(primary_key=True)
    basis_id: Mapped[int] = mapped_column(
        ForeignKey("recognition_basis.id", ondelete="CASCADE"), index=True
    )
    evidence_file_id: Mapped[int | None] = mapped_column(
        ForeignKey("evidence_files.id", ondelete="SET NULL"), index=True
    )
    name: Mapped[str] = mapped_column(String(255))
    sha256: Mapped[str] = mapped_column(String(64))
