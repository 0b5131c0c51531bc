"""The notification outbox, delivery preferences, and the scheduler's own records."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from pdtracker.database import Model
from pdtracker.timeutil import UTCDateTime, utcnow

if TYPE_CHECKING:
    from pdtracker.auth.models import User


class NotificationKind(enum.StrEnum):
    """What a notification is about; each kind has its own preference."""

    EVENT_TOMORROW = "event_tomorrow"
    REGISTRATION_DEADLINE = "registration_deadline"
    PLACEMENT_STARTING = "placement_starting"
    PLACEMENT_REPORT_DUE = "placement_report_due"
    VERIFICATION_DIGEST = "verification_digest"
    LAPSE_WARNING = "lapse_warning"
    DEPARTMENT_DIGEST = "department_digest"
    FEED_FAILED = "feed_failed"
    # A password-reset link (auth): e-mail only, never shown in-app or switchable off.
    PASSWORD_RESET = "password_reset"
    # An imported account's activation link (onboarding): e-mail only, like a reset.
    ACCOUNT_ACTIVATION = "account_activation"
    # Outcomes, sent once each when they happen (notifications/outcomes.py).
    ACTIVITY_VERIFIED = "activity_verified"
    ACTIVITY_REJECTED = "activity_rejected"
    PLACEMENT_APPROVED = "placement_approved"
    PLACEMENT_STARTED = "placement_started"
    PLACEMENT_COMPLETED = "placement_completed"
    PLACEMENT_CANCELLED = "placement_cancelled"
    WAITLIST_PROMOTED = "waitlist_promoted"
    ATTENDANCE_CREDITED = "attendance_credited"
    EVENT_CHANGED = "event_changed"
    EVENT_CANCELLED = "event_cancelled"
    RECOGNITION_RESULT = "recognition_result"
    RECOGNITION_REVIEW_DUE = "recognition_review_due"
    RECOGNITION_SUSPENDED = "recognition_suspended"
    PLACEMENT_REQUEST_CONFIRMED = "placement_request_confirmed"
    PLACEMENT_REQUEST_DECLINED = "placement_request_declined"


# E-mail only: a link that sets a password must not sit in an in-app inbox (anyone
# holding a session could use it), nor can it be switched off.
MAIL_ONLY_KINDS = (
    NotificationKind.PASSWORD_RESET.value,
    NotificationKind.ACCOUNT_ACTIVATION.value,
)


class NotificationStatus(enum.StrEnum):
    """pending → claimed → sent; or dropped (stale, switched off), cancelled, failed."""

    PENDING = "pending"
    CLAIMED = "claimed"
    SENT = "sent"
    DROPPED = "dropped"
    CANCELLED = "cancelled"
    FAILED = "failed"


class Channel(enum.StrEnum):
    """How a user wants one kind of notification delivered."""

    EMAIL_AND_APP = "email_and_app"
    APP_ONLY = "app_only"
    OFF = "off"


def _in(enum_cls: type[enum.StrEnum], column: str) -> str:
    return f"{column} IN ({', '.join(repr(m.value) for m in enum_cls)})"


class Notification(Model):
    """One reminder in the outbox; its idempotency key makes planning it twice harmless."""

    __tablename__ = "notifications"
    __table_args__ = (
        CheckConstraint(_in(NotificationKind, "kind"), name="kind"),
        CheckConstraint(_in(NotificationStatus, "status"), name="status"),
        CheckConstraint(
            f"channel IS NULL OR {_in(Channel, 'channel')}", name="channel"
        ),
        CheckConstraint(
            "status <> 'claimed' OR (claimed_until IS NOT NULL"
            " AND claim_token IS NOT NULL)",
            name="claimed_has_lease",
        ),
        CheckConstraint("status <> 'sent' OR sent_at IS NOT NULL", name="sent_has_time"),
        CheckConstraint("attempts >= 0", name="attempts_nonnegative"),
        # The dispatcher's scan: due rows by status.
        Index("ix_notifications_status_due_at", "status", "due_at"),
        # The in-app page and the unread badge.
        Index("ix_notifications_recipient_id_status_sent_at", "recipient_id", "status",
              "sent_at"),
        Index("ix_notifications_object", "object_type", "object_id"),
    )  # fmt: skip

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    recipient_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE")
    )
    object_type: Mapped[str] = mapped_column(String(32))
    object_id: Mapped[int | None]
    # kind:object_type:object_id:recipient_id:due date[:extra]
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # After this instant the reminder is pointless (the event started): dropped.
    stale_after: Mapped[datetime | None] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(
        String(16), default=NotificationStatus.PENDING.value
    )
    # The lease: a claim by the dispatcher holding claim_token ends at claimed_until.
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    claim_token: Mapped[str | None] = mapped_column(String(32))
    attempts: Mapped[int] = mapped_column(default=0)
    # Why the row was dropped or cancelled (a code), or the last delivery error.
    reason: Mapped[str | None] = mapped_column(String(64))
    last_error: Mapped[str | None] = mapped_column(String(500))
    # Decided at send time from the recipient's preference.
    channel: Mapped[str | None] = mapped_column(String(16))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    emailed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    recipient: Mapped[User] = relationship()

    @property
    def is_unread(self) -> bool:
        """Shown in-app and not yet read."""
        return self.read_at is None


class NotificationPreference(Model):
    """A user's channel for one kind; no row means e-mail and in-app."""

    __tablename__ = "notification_preferences"
    __table_args__ = (
        CheckConstraint(_in(NotificationKind, "kind"), name="kind"),
        CheckConstraint(_in(Channel, "channel"), name="channel"),
    )

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    kind: Mapped[str] = mapped_column(String(32), primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))


class SchedulerRun(Model):
    """One execution of a scheduler tick, with what it did or why it failed."""

    __tablename__ = "scheduler_runs"
    __table_args__ = (Index("ix_scheduler_runs_tick_started_at", "tick", "started_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tick: Mapped[str] = mapped_column(String(64))
    # host:pid of the scheduler process, so a second scheduler would show.
    scheduler_id: Mapped[str] = mapped_column(String(128))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    counts: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    error: Mapped[str | None] = mapped_column(Text)

    @property
    def is_running(self) -> bool:
        """Started and not finished (or the process died meanwhile)."""
        return self.finished_at is None


class SchedulerHeartbeat(Model):
    """The single row the scheduler refreshes while it is alive."""

    __tablename__ = "scheduler_heartbeats"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    scheduler_id: Mapped[str] = mapped_column(String(128))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    beat_at: Mapped[datetime] = mapped_column(UTCDateTime)
