"""Onboarding: saved import mappings, extra type names, activation links, match keys

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-06 21:30:00

Imports match teachers by staff number or a keyed hash of the ID number,
enterprises by credit code, records by the spreadsheet's own id; new accounts
get a single-use activation link (only its SHA-256 stored) instead of a password,
mailed through the outbox (a new notification kind) when they have an address.
"""

from alembic import op
import sqlalchemy as sa

import pdtracker.timeutil


# revision identifiers, used by Alembic.
revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

UTC = pdtracker.timeutil.UTCDateTime(timezone=True)

OLD_KINDS = (
    "event_tomorrow",
    "registration_deadline",
    "placement_starting",
    "placement_report_due",
    "verification_digest",
    "lapse_warning",
    "department_digest",
    "feed_failed",
    "password_reset",
)
NEW_KINDS = (*OLD_KINDS, "account_activation")
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
    with op.batch_alter_table("teacher_profiles") as batch_op:
        batch_op.add_column(sa.Column("phone", sa.String(length=40), nullable=True))
        batch_op.add_column(
            sa.Column("id_number_hash", sa.String(length=64), nullable=True)
        )
        batch_op.create_unique_constraint(
            op.f("uq_teacher_profiles_id_number_hash"), ["id_number_hash"]
        )
    with op.batch_alter_table("enterprises") as batch_op:
        batch_op.add_column(
            sa.Column("credit_code", sa.String(length=18), nullable=True)
        )
        batch_op.create_unique_constraint(
            op.f("uq_enterprises_credit_code"), ["credit_code"]
        )
    with op.batch_alter_table("activities") as batch_op:
        batch_op.add_column(
            sa.Column("external_id", sa.String(length=64), nullable=True)
        )
        batch_op.create_index(
            "ix_activities_external_id", ["external_id"], unique=False
        )

    op.create_table(
        "import_mappings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("importer", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("columns", sa.JSON(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("updated_at", UTC, nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["users.id"],
            name=op.f("fk_import_mappings_created_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_import_mappings")),
        sa.UniqueConstraint(
            "importer", "name", name=op.f("uq_import_mappings_importer_name")
        ),
    )
    op.create_table(
        "kind_synonyms",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("kind_code", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["kind_code"],
            ["activity_kinds.code"],
            name=op.f("fk_kind_synonyms_kind_code_activity_kinds"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_kind_synonyms")),
    )
    op.create_table(
        "activation_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("expires_at", UTC, nullable=False),
        sa.Column("used_at", UTC, nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_activation_tokens_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_activation_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_activation_tokens_token_hash")),
    )
    with op.batch_alter_table("activation_tokens") as batch_op:
        batch_op.create_index(
            "ix_activation_tokens_user_id", ["user_id"], unique=False
        )
    _replace_kind_check(NEW_KINDS)


def downgrade():
    # Activation mails still in the outbox name a kind the old CHECK refuses.
    op.execute("DELETE FROM notifications WHERE kind = 'account_activation'")
    op.execute("DELETE FROM notification_preferences WHERE kind = 'account_activation'")
    _replace_kind_check(OLD_KINDS)
    with op.batch_alter_table("activation_tokens") as batch_op:
        batch_op.drop_index("ix_activation_tokens_user_id")
    op.drop_table("activation_tokens")
    op.drop_table("kind_synonyms")
    op.drop_table("import_mappings")
    with op.batch_alter_table("activities") as batch_op:
        batch_op.drop_index("ix_activities_external_id")
        batch_op.drop_column("external_id")
    with op.batch_alter_table("enterprises") as batch_op:
        batch_op.drop_constraint(op.f("uq_enterprises_credit_code"), type_="unique")
        batch_op.drop_column("credit_code")
    with op.batch_alter_table("teacher_profiles") as batch_op:
        batch_op.drop_constraint(
            op.f("uq_teacher_profiles_id_number_hash"), type_="unique"
        )
        batch_op.drop_column("id_number_hash")
        batch_op.drop_column("phone")
