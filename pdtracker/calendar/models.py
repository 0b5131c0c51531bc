"""Feed tokens (capability URLs of private feeds) and per-feed change state."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from pdtracker.database import Model
from pdtracker.timeutil import UTCDateTime, utcnow


class FeedScope(enum.StrEnum):
    """Which private feed a token opens."""

    TEACHER = "teacher"
    DEPARTMENT = "department"


_SCOPES = ", ".join(f"'{s.value}'" for s in FeedScope)
PUBLIC_FEED_KEY = "public"
# Not a feed: the change version of the placement marketplace (offers, seat
# requests, departments' sectors, enterprises), which the dashboard's path offers
# key on (pdtracker.placements.path_offers). Bumped by pdtracker.changes.
MARKET_KEY = "market"


def teacher_feed_key(user_id: int) -> str:
    """The feed_states key of a teacher's private feed."""
    return f"teacher:{user_id}"


def department_feed_key(department_id: int) -> str:
    """The feed_states key of a department's feed."""
    return f"department:{department_id}"


class FeedToken(Model):
    """The secret in a private feed URL: one per user and scope, rotatable."""

    __tablename__ = "feed_tokens"
    __table_args__ = (
        CheckConstraint(f"scope IN ({_SCOPES})", name="scope"),
        UniqueConstraint("user_id", "scope"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    scope: Mapped[str] = mapped_column(String(16))
    # secrets.token_urlsafe(32): 43 characters.
    token: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    rotated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class FeedState(Model):
    """A feed's version and last change, bumped on every write that alters it.

    ETag and Last-Modified derive from this row, so a conditional GET is answered
    from one query without building the feed. ``changed_at`` holds whole seconds
    and moves forward by at least one second per change (HTTP dates have one-second
    resolution), also when rows are deleted.
    """

    __tablename__ = "feed_states"
    __table_args__ = (CheckConstraint("version >= 0", name="version_nonnegative"),)

    feed_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    version: Mapped[int] = mapped_column(default=0)
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
