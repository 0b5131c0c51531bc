"""Rulesets stored in the database and the evaluations computed under them."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

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
    event,
    inspect,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.orm.attributes import History

from pdtracker.database import Model
from pdtracker.timeutil import UTCDateTime, utcnow


class RulesetStatus(enum.StrEnum):
    """A draft can change; a published version never does."""

    DRAFT = "draft"
    PUBLISHED = "published"


class RulesetFormat(enum.StrEnum):
    """The document's syntax."""

    TOML = "toml"
    YAML = "yaml"


class PublishedRulesetChanged(Exception):
    """Someone tried to change or delete a published ruleset version."""


class StoredRuleset(Model):
    """One version of a ruleset document; at most one published version is active."""

    __tablename__ = "rulesets"
    __table_args__ = (
        UniqueConstraint("name", "version"),
        CheckConstraint("version >= 1", name="version_positive"),
        CheckConstraint("status IN ('draft', 'published')", name="status"),
        CheckConstraint("format IN ('toml', 'yaml')", name="format"),
        CheckConstraint(
            "(status = 'published') = (published_at IS NOT NULL)",
            name="published_has_time",
        ),
        CheckConstraint(
            "status = 'published' OR NOT is_active", name="active_published"
        ),
        # One active ruleset per scope: the deployment's regional layer (no
        # institution) and each college's own layer.
        Index(
            "uq_rulesets_active_regional",
            "is_active",
            unique=True,
            sqlite_where=text("is_active AND institution_id IS NULL"),
            postgresql_where=text("is_active AND institution_id IS NULL"),
        ),
        Index(
            "uq_rulesets_active_college",
            "institution_id",
            unique=True,
            sqlite_where=text("is_active AND institution_id IS NOT NULL"),
            postgresql_where=text("is_active AND institution_id IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80))
    version: Mapped[int]
    # The college whose layer this is; None for the deployment's (regional) layer.
    institution_id: Mapped[int | None] = mapped_column(
        ForeignKey("institutions.id", ondelete="RESTRICT"), index=True
    )
    document: Mapped[str] = mapped_column(Text)
    format: Mapped[str] = mapped_column(String(8))
    # The ruleset this one builds on, and the version it was published against.
    extends: Mapped[str | None] = mapped_column(String(80))
    extends_version: Mapped[int | None]
    status: Mapped[str] = mapped_column(String(16), default=RulesetStatus.DRAFT.value)
    is_active: Mapped[bool] = mapped_column(default=False)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    published_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    @property
    def is_published(self) -> bool:
        """Published versions are immutable."""
        return self.status == RulesetStatus.PUBLISHED


# Activating another version is the only change a published row may take.
_MUTABLE_WHEN_PUBLISHED = frozenset({"is_active"})


def _was_published(target: StoredRuleset) -> bool:
    history: History = inspect(target).attrs.status.history
    before = list(history.deleted or history.unchanged)
    return bool(before) and before[0] == RulesetStatus.PUBLISHED


@event.listens_for(StoredRuleset, "before_update")
def _refuse_published_update(mapper: Any, connection: Any, target: Any) -> None:
    """Published versions are immutable: refuse any change but (de)activation."""
    if not _was_published(target):
        return
    state = inspect(target)
    changed = {
        attr.key
        for attr in state.attrs
        if attr.key not in _MUTABLE_WHEN_PUBLISHED and attr.history.has_changes()
    }
    if changed:
        raise PublishedRulesetChanged(
            f"ruleset {target.name} v{target.version} is published: "
            f"cannot change {', '.join(sorted(changed))}"
        )


@event.listens_for(StoredRuleset, "before_delete")
def _refuse_published_delete(mapper: Any, connection: Any, target: Any) -> None:
    """Stored evaluations name published versions: they stay."""
    if _was_published(target):
        raise PublishedRulesetChanged(
            f"ruleset {target.name} v{target.version} is published: cannot delete"
        )


class Evaluation(Model):
    """A teacher's status on one date, under one published ruleset version."""

    __tablename__ = "evaluations"
    __table_args__ = (
        UniqueConstraint("teacher_id", "ruleset_name", "ruleset_version", "as_of"),
        ForeignKeyConstraint(
            ["ruleset_name", "ruleset_version"],
            ["rulesets.name", "rulesets.version"],
            ondelete="RESTRICT",
            name="fk_evaluations_ruleset_rulesets",
        ),
        Index("ix_evaluations_as_of", "as_of"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    teacher_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    ruleset_name: Mapped[str] = mapped_column(String(80))
    ruleset_version: Mapped[int]
    as_of: Mapped[date] = mapped_column(Date)
    assessed: Mapped[bool]
    level: Mapped[str | None] = mapped_column(String(64))
    report: Mapped[dict[str, Any]] = mapped_column(JSON)
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
