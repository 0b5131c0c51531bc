"""Member enterprises that host placements."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, String
from sqlalchemy.orm import Mapped, mapped_column

from pdtracker.extensions import db
from pdtracker.timeutil import UTCDateTime, utcnow


class Enterprise(db.Model):
    """A member company of the association."""

    __tablename__ = "enterprises"
    __table_args__ = (
        CheckConstraint("placement_capacity >= 0", name="placement_capacity"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    sector: Mapped[str | None] = mapped_column(String(100))
    city: Mapped[str | None] = mapped_column(String(100))
    contact_name: Mapped[str | None] = mapped_column(String(100))
    contact_phone: Mapped[str | None] = mapped_column(String(40))
    # Teachers the enterprise can host at the same time in any month.
    placement_capacity: Mapped[int] = mapped_column(default=2)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
