"""Stored department-page rows: each teacher's evaluated row, for a cold process

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07 03:20:00

One row per teacher: what the department page shows of them (their report,
distance, lapse, forecast and chart flags), serialized and signed, with a digest
of the key it is exact for. A new process reads these rows instead of evaluating
a whole department; a row whose key no longer holds is evaluated afresh.
"""

import sqlalchemy as sa
from alembic import op

import pdtracker.timeutil

# revision identifiers, used by Alembic.
revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "teacher_page_rows",
        sa.Column("teacher_id", sa.Integer(), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column(
            "expires_at", pdtracker.timeutil.UTCDateTime(timezone=True), nullable=True
        ),
        sa.Column("signature", sa.String(length=64), nullable=False),
        sa.Column("payload", sa.LargeBinary(), nullable=False),
        sa.Column(
            "computed_at", pdtracker.timeutil.UTCDateTime(timezone=True), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["teacher_id"],
            ["users.id"],
            name=op.f("fk_teacher_page_rows_teacher_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("teacher_id", name=op.f("pk_teacher_page_rows")),
    )
    op.create_index(
        "ix_teacher_page_rows_as_of", "teacher_page_rows", ["as_of"], unique=False
    )


def downgrade():
    op.drop_index("ix_teacher_page_rows_as_of", table_name="teacher_page_rows")
    op.drop_table("teacher_page_rows")
