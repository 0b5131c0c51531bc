"""Login throttle counters, password-reset tokens, the password_reset notification kind

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26 09:00:00

Throttling moves from counting login_attempts rows (racy, and a lockout even for
the right password) to one counter row per account or address, updated under a
lock. Password-reset tokens are stored as SHA-256 hashes. The reset link is
mailed through the outbox, whose kind columns are CHECK-constrained.
"""

from alembic import op
import sqlalchemy as sa

import pdtracker.timeutil


# revision identifiers, used by Alembic.
revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

OLD_KINDS = (
    "event_tomorrow",
    "registration_deadline",
    "placement_starting",
    "placement_report_due",
    "verification_digest",
    "lapse_warning",
    "department_digest",
    "feed_failed",
)
NEW_KINDS = (*OLD_KINDS, "password_reset")
KIND_TABLES = ("notifications", "notification_preferences")


def _kind_check(kinds):
    return "kind IN ({})".format(", ".join(f"'{k}'" for k in kinds))


def _replace_kind_check(kinds):
    # Batch mode: SQLite cannot alter a CHECK constraint in place.
    for table in KIND_TABLES:
        with op.batch_alter_table(table) as batch_op:
            batch_op.drop_constraint(op.f(f"ck_{table}_kind"), type_="check")
            batch_op.create_check_constraint(op.f(f"ck_{table}_kind"), _kind_check(kinds))


def upgrade():
    op.create_table(
        "throttle_counters",
        sa.Column("key", sa.String(length=160), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column(
            "last_at", pdtracker.timeutil.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column(
            "blocked_until", pdtracker.timeutil.UTCDateTime(timezone=True), nullable=True
        ),
        sa.CheckConstraint(
            "failures >= 0", name=op.f("ck_throttle_counters_failures_nonnegative")
        ),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_throttle_counters")),
    )
    with op.batch_alter_table("throttle_counters", schema=None) as batch_op:
        batch_op.create_index("ix_throttle_counters_last_at", ["last_at"], unique=False)

    op.create_table(
        "password_reset_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column(
            "created_at", pdtracker.timeutil.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column(
            "expires_at", pdtracker.timeutil.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column(
            "used_at", pdtracker.timeutil.UTCDateTime(timezone=True), nullable=True
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_password_reset_tokens_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_password_reset_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_password_reset_tokens_token_hash")),
    )
    with op.batch_alter_table("password_reset_tokens", schema=None) as batch_op:
        batch_op.create_index(
            "ix_password_reset_tokens_user_id", ["user_id"], unique=False
        )

    _replace_kind_check(NEW_KINDS)


def downgrade():
    # Reset links still in the outbox name a kind the old CHECK refuses.
    op.execute("DELETE FROM notifications WHERE kind = 'password_reset'")
    op.execute("DELETE FROM notification_preferences WHERE kind = 'password_reset'")
    _replace_kind_check(OLD_KINDS)
    with op.batch_alter_table("password_reset_tokens", schema=None) as batch_op:
        batch_op.drop_index("ix_password_reset_tokens_user_id")
    op.drop_table("password_reset_tokens")
    with op.batch_alter_table("throttle_counters", schema=None) as batch_op:
        batch_op.drop_index("ix_throttle_counters_last_at")
    op.drop_table("throttle_counters")
