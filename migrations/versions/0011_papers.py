"""Papers (certificates, hours statements) and the organiser level of activities

Revision ID: 0011
Revises: 0008
Create Date: 2026-12-07 01:00:00

An issued paper keeps its number, what it claims and the PDF handed out; the
public check page reads it by number. Activities gain an optional organiser
level (区县级 … 境外) for the annual training statistics.
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0011"
down_revision = "0008"
branch_labels = None
depends_on = None

ORGANIZER_LEVELS = ("district", "city", "province", "national", "abroad")


def upgrade():
    op.create_table(
        "papers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("teacher_id", sa.Integer(), nullable=False),
        sa.Column("institution_id", sa.Integer(), nullable=True),
        sa.Column("recognition_id", sa.Integer(), nullable=True),
        sa.Column("period_start", sa.Date(), nullable=True),
        sa.Column("period_end", sa.Date(), nullable=True),
        sa.Column("total_hours", sa.Numeric(precision=9, scale=1), nullable=True),
        sa.Column("total_days", sa.Numeric(precision=9, scale=1), nullable=True),
        sa.Column("claims", sa.JSON(), nullable=False),
        sa.Column("pdf", sa.LargeBinary(), nullable=False),
        sa.Column("pdf_sha256", sa.String(length=64), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("issued_by_id", sa.Integer(), nullable=True),
        sa.Column("withdrawn_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "kind IN ('certificate', 'hours_statement')", name=op.f("ck_papers_kind")
        ),
        sa.CheckConstraint(
            "kind <> 'hours_statement' OR "
            "(period_start IS NOT NULL AND period_end IS NOT NULL "
            "AND period_end >= period_start)",
            name=op.f("ck_papers_statement_period"),
        ),
        sa.CheckConstraint(
            "kind <> 'certificate' OR recognition_id IS NOT NULL",
            name=op.f("ck_papers_certificate_recognition"),
        ),
        sa.CheckConstraint(
            "total_hours IS NULL OR total_hours >= 0", name=op.f("ck_papers_hours")
        ),
        sa.CheckConstraint(
            "total_days IS NULL OR total_days >= 0", name=op.f("ck_papers_days")
        ),
        sa.ForeignKeyConstraint(
            ["teacher_id"], ["users.id"],
            name=op.f("fk_papers_teacher_id_users"), ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["institution_id"], ["institutions.id"],
            name=op.f("fk_papers_institution_id_institutions"), ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["recognition_id"], ["recognitions.id"],
            name=op.f("fk_papers_recognition_id_recognitions"), ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["issued_by_id"], ["users.id"],
            name=op.f("fk_papers_issued_by_id_users"), ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_papers")),
        sa.UniqueConstraint("number", name=op.f("uq_papers_number")),
        sa.UniqueConstraint("recognition_id", name=op.f("uq_papers_recognition_id")),
    )  # fmt: skip
    with op.batch_alter_table("papers") as batch_op:
        batch_op.create_index("ix_papers_teacher_id", ["teacher_id"])
        batch_op.create_index("ix_papers_institution_id", ["institution_id"])
        batch_op.create_index(
            "ix_papers_teacher_id_issued_at", ["teacher_id", "issued_at"]
        )
    with op.batch_alter_table("activities") as batch_op:
        batch_op.add_column(
            sa.Column("organizer_level", sa.String(length=16), nullable=True)
        )
        batch_op.create_check_constraint(
            op.f("ck_activities_organizer_level"),
            "organizer_level IS NULL OR organizer_level IN ({})".format(
                ", ".join(f"'{v}'" for v in ORGANIZER_LEVELS)
            ),
        )


def downgrade():
    with op.batch_alter_table("activities") as batch_op:
        batch_op.drop_constraint(op.f("ck_activities_organizer_level"), type_="check")
        batch_op.drop_column("organizer_level")
    with op.batch_alter_table("papers") as batch_op:
        batch_op.drop_index("ix_papers_teacher_id_issued_at")
        batch_op.drop_index("ix_papers_institution_id")
        batch_op.drop_index("ix_papers_teacher_id")
    op.drop_table("papers")
