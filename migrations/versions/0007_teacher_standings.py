"""Stored standings: each active teacher's status, kept current incrementally

Revision ID: 0007
Revises: 0010
Create Date: 2026-12-07 01:00:00

One row per teacher: level, dual-qualified now and in 12 months, the first date
the status may change without new records, and what it was computed from (the
ruleset version, the profile fields, the teacher's change version). The
association dashboard reads these rows; the standings tick keeps them current.
"""

from alembic import op
import sqlalchemy as sa

import pdtracker.timeutil


# revision identifiers, used by Alembic.
revision = "0007"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "teacher_standings",
        sa.Column("teacher_id", sa.Integer(), nullable=False),
        sa.Column("institution_id", sa.Integer(), nullable=True),
        sa.Column("department_id", sa.Integer(), nullable=True),
        sa.Column("ruleset_name", sa.String(length=80), nullable=False),
        sa.Column("ruleset_version", sa.Integer(), nullable=False),
        sa.Column("professional_course", sa.Boolean(), nullable=False),
        sa.Column("industry_years", sa.Integer(), nullable=False),
        sa.Column("assessed", sa.Boolean(), nullable=False),
        sa.Column("level", sa.String(length=64), nullable=True),
        sa.Column("qualified_now", sa.Boolean(), nullable=False),
        sa.Column("qualified_in_12", sa.Boolean(), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("next_change_on", sa.Date(), nullable=False),
        sa.Column("facts_expire_at", pdtracker.timeutil.UTCDateTime(timezone=True), nullable=True),
        sa.Column("change_version", sa.Integer(), nullable=False),
        sa.Column("computed_at", pdtracker.timeutil.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("qualified_now = (level IS NOT NULL)", name=op.f("ck_teacher_standings_level_is_now")),
        sa.CheckConstraint("assessed OR NOT qualified_now", name=op.f("ck_teacher_standings_qualified_assessed")),
        sa.CheckConstraint("assessed OR NOT qualified_in_12", name=op.f("ck_teacher_standings_forecast_assessed")),
        sa.CheckConstraint("next_change_on > as_of", name=op.f("ck_teacher_standings_change_after_as_of")),
        sa.CheckConstraint("change_version >= 0", name=op.f("ck_teacher_standings_change_version")),
        sa.CheckConstraint("industry_years >= 0", name=op.f("ck_teacher_standings_industry_years")),
        sa.CheckConstraint("ruleset_version >= 1", name=op.f("ck_teacher_standings_ruleset_version")),
        sa.ForeignKeyConstraint(["teacher_id"], ["users.id"], name=op.f("fk_teacher_standings_teacher_id_users"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["institution_id"], ["institutions.id"], name=op.f("fk_teacher_standings_institution_id_institutions"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["department_id"], ["departments.id"], name=op.f("fk_teacher_standings_department_id_departments"), ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("teacher_id", name=op.f("pk_teacher_standings")),
    )
    op.create_index("ix_teacher_standings_institution_id", "teacher_standings", ["institution_id"], unique=False)
    op.create_index("ix_teacher_standings_next_change_on", "teacher_standings", ["next_change_on"], unique=False)
    op.create_index("ix_teacher_standings_computed_at", "teacher_standings", ["computed_at"], unique=False)


def downgrade():
    op.drop_index("ix_teacher_standings_computed_at", table_name="teacher_standings")
    op.drop_index("ix_teacher_standings_next_change_on", table_name="teacher_standings")
    op.drop_index("ix_teacher_standings_institution_id", table_name="teacher_standings")
    op.drop_table("teacher_standings")
