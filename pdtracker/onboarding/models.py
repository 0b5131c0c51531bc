"""Saved column mappings, the admins' extra type names, and activation links."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from pdtracker.database import Model
from pdtracker.timeutil import UTCDateTime, utcnow


class ImportMapping(Model):
    """A column mapping saved under a name, for the next file from the same source.

    A college's own (its admins and heads see only theirs); ``institution_id``
    None for the deployment admin's and the command line's imports of no college.
    """

    __tablename__ = "import_mappings"
    __table_args__ = (
        UniqueConstraint("institution_id", "importer", "name"),
        # NULLs differ in a unique constraint: one name per importer without college.
        Index(
            "uq_import_mappings_deployment",
            "importer",
            "name",
            unique=True,
            sqlite_where=text("institution_id IS NULL"),
            postgresql_where=text("institution_id IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    institution_id: Mapped[int | None] = mapped_column(
        ForeignKey("institutions.id", ondelete="CASCADE"), index=True
    )
    importer: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(100))
    # Normalised header name → field key ('' leaves the column out).
    columns: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime, default=utcnow, onupdate=utcnow
    )


class KindSynonym(Model):
    """A spreadsheet's type name an admin added to the type → kind table."""

    __tablename__ = "kind_synonyms"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind_code: Mapped[str] = mapped_column(
        ForeignKey("activity_kinds.code", ondelete="CASCADE")
    )


class ActivationToken(Model):
    """A single-use link for a new account to choose its first password.

    Only the token's SHA-256 is stored; the link itself is shown once to the
    importing admin (and listed in the result file) for distribution.
    """

    __tablename__ = "activation_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
