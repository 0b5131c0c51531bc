"""The audit log: who created, changed, verified or deleted what, and when."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from pdtracker.database import Model
from pdtracker.extensions import db
from pdtracker.timeutil import UTCDateTime, utcnow


class AuditEntry(Model):
    """One recorded action."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_object", "object_type", "object_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    actor_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    action: Mapped[str] = mapped_column(String(64))
    object_type: Mapped[str] = mapped_column(String(32))
    object_id: Mapped[int | None]
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(
        UTCDateTime, default=utcnow, index=True
    )


def record(
    actor_id: int | None,
    action: str,
    object_type: str,
    object_id: int | None,
    now: datetime | None = None,
    **details: Any,
) -> AuditEntry:
    """Add an audit entry to the session (the caller commits)."""
    entry = AuditEntry(
        actor_id=actor_id,
        action=action,
        object_type=object_type,
        object_id=object_id,
        details=details,
        created_at=now or utcnow(),
    )
    db.session.add(entry)
    return entry
