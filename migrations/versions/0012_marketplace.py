"""The placement marketplace: offers, seat requests, enterprise mentors, the 考核表

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07 01:00:00

Enterprises' offers (企业实践岗位) and the heads' seat requests on them; mentor
accounts tied to one enterprise (enterprise_mentors, keyed by the user); the
days a mentor saw a teacher on site and the mentor's assessment (企业实践考核表);
the sectors a department's teachers serve. Placements gain the offer they came
from and their mentor.
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def _score_check(column: str) -> sa.CheckConstraint:
    return sa.CheckConstraint(
        f"(scale = 'grade' AND {column} BETWEEN 1 AND 4) OR "
        f"(scale = 'points' AND {column} BETWEEN 0 AND 100)",
        name=op.f(f"ck_mentor_assessments_{column}"),
    )


def upgrade():
    op.create_table(
        "department_sectors",
        sa.Column("department_id", sa.Integer(), nullable=False),
        sa.Column("sector", sa.String(length=100), nullable=False),
        sa.ForeignKeyConstraint(
            ["department_id"],
            ["departments.id"],
            name=op.f("fk_department_sectors_department_id_departments"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "department_id", "sector", name=op.f("pk_department_sectors")
        ),
    )
    op.create_table(
        "enterprise_mentors",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("enterprise_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["enterprise_id"],
            ["enterprises.id"],
            name=op.f("fk_enterprise_mentors_enterprise_id_enterprises"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_enterprise_mentors_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_enterprise_mentors")),
    )
    with op.batch_alter_table("enterprise_mentors", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_enterprise_mentors_enterprise_id"),
            ["enterprise_id"],
            unique=False,
        )

    op.create_table(
        "placement_offers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("enterprise_id", sa.Integer(), nullable=False),
        sa.Column("post", sa.String(length=200), nullable=False),
        sa.Column("scene", sa.String(length=200), nullable=True),
        sa.Column("tasks", sa.Text(), nullable=True),
        sa.Column("sector", sa.String(length=100), nullable=False),
        sa.Column("skills", sa.String(length=500), nullable=True),
        sa.Column("mentor_id", sa.Integer(), nullable=True),
        sa.Column("seats", sa.Integer(), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=False),
        sa.Column("working_days", sa.Integer(), nullable=False),
        sa.Column("city", sa.String(length=100), nullable=True),
        sa.Column("location", sa.String(length=200), nullable=True),
        sa.Column("bring_back", sa.Text(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "status IN ('open', 'withdrawn')", name=op.f("ck_placement_offers_status")
        ),
        sa.CheckConstraint(
            "ends_on >= starts_on", name=op.f("ck_placement_offers_date_order")
        ),
        sa.CheckConstraint(
            "seats >= 1", name=op.f("ck_placement_offers_seats_positive")
        ),
        sa.CheckConstraint(
            "working_days >= 0",
            name=op.f("ck_placement_offers_working_days_nonnegative"),
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["users.id"],
            name=op.f("fk_placement_offers_created_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["enterprise_id"],
            ["enterprises.id"],
            name=op.f("fk_placement_offers_enterprise_id_enterprises"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["mentor_id"],
            ["users.id"],
            name=op.f("fk_placement_offers_mentor_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_placement_offers")),
    )
    with op.batch_alter_table("placement_offers", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_placement_offers_enterprise_id"),
            ["enterprise_id"],
            unique=False,
        )
        batch_op.create_index("ix_placement_offers_sector", ["sector"], unique=False)
        batch_op.create_index(
            "ix_placement_offers_status_starts_on",
            ["status", "starts_on"],
            unique=False,
        )

    op.create_table(
        "mentor_assessments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("placement_id", sa.Integer(), nullable=False),
        sa.Column("mentor_id", sa.Integer(), nullable=True),
        sa.Column("scale", sa.String(length=8), nullable=False),
        sa.Column("attendance_score", sa.SmallInteger(), nullable=False),
        sa.Column("task_score", sa.SmallInteger(), nullable=False),
        sa.Column("skill_score", sa.SmallInteger(), nullable=False),
        sa.Column("attitude_score", sa.SmallInteger(), nullable=False),
        sa.Column("comments", sa.Text(), nullable=True),
        sa.Column("confirmed_days", sa.Integer(), nullable=False),
        sa.Column(
            "submitted_at",
            sa.DateTime(timezone=True),
            nullable=False,
        ),
        _score_check("attendance_score"),
        _score_check("attitude_score"),
        _score_check("skill_score"),
        _score_check("task_score"),
        sa.CheckConstraint(
            "scale IN ('grade', 'points')", name=op.f("ck_mentor_assessments_scale")
        ),
        sa.CheckConstraint(
            "confirmed_days >= 1",
            name=op.f("ck_mentor_assessments_confirmed_days_positive"),
        ),
        sa.ForeignKeyConstraint(
            ["mentor_id"],
            ["users.id"],
            name=op.f("fk_mentor_assessments_mentor_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["placement_id"],
            ["placements.id"],
            name=op.f("fk_mentor_assessments_placement_id_placements"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mentor_assessments")),
        sa.UniqueConstraint(
            "placement_id", name=op.f("uq_mentor_assessments_placement_id")
        ),
    )
    op.create_table(
        "placement_attendance",
        sa.Column("placement_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("recorded_by_id", sa.Integer(), nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["placement_id"],
            ["placements.id"],
            name=op.f("fk_placement_attendance_placement_id_placements"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"],
            ["users.id"],
            name=op.f("fk_placement_attendance_recorded_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint(
            "placement_id", "day", name=op.f("pk_placement_attendance")
        ),
    )
    op.create_table(
        "placement_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("offer_id", sa.Integer(), nullable=False),
        sa.Column("teacher_id", sa.Integer(), nullable=False),
        sa.Column("requested_by_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("decline_reason", sa.String(length=500), nullable=True),
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("placement_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "status <> 'confirmed' OR placement_id IS NOT NULL",
            name=op.f("ck_placement_requests_confirmed_has_placement"),
        ),
        sa.CheckConstraint(
            "status <> 'declined' OR decline_reason IS NOT NULL",
            name=op.f("ck_placement_requests_declined_has_reason"),
        ),
        sa.CheckConstraint(
            "status IN ('asked', 'requested', 'confirmed', 'declined', 'withdrawn')",
            name=op.f("ck_placement_requests_status"),
        ),
        sa.ForeignKeyConstraint(
            ["decided_by_id"],
            ["users.id"],
            name=op.f("fk_placement_requests_decided_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["offer_id"],
            ["placement_offers.id"],
            name=op.f("fk_placement_requests_offer_id_placement_offers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["placement_id"],
            ["placements.id"],
            name=op.f("fk_placement_requests_placement_id_placements"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["requested_by_id"],
            ["users.id"],
            name=op.f("fk_placement_requests_requested_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["teacher_id"],
            ["users.id"],
            name=op.f("fk_placement_requests_teacher_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_placement_requests")),
        sa.UniqueConstraint("offer_id", "teacher_id", name="one_per_teacher"),
        sa.UniqueConstraint(
            "placement_id", name=op.f("uq_placement_requests_placement_id")
        ),
    )
    with op.batch_alter_table("placement_requests", schema=None) as batch_op:
        batch_op.create_index(
            "ix_placement_requests_offer_id_status",
            ["offer_id", "status"],
            unique=False,
        )
        batch_op.create_index(
            "ix_placement_requests_teacher_id", ["teacher_id"], unique=False
        )

    with op.batch_alter_table("placements", schema=None) as batch_op:
        batch_op.add_column(sa.Column("offer_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("mentor_id", sa.Integer(), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_placements_mentor_id"), ["mentor_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_placements_offer_id"), ["offer_id"], unique=False
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_placements_offer_id_placement_offers"),
            "placement_offers",
            ["offer_id"],
            ["id"],
            ondelete="SET NULL",
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_placements_mentor_id_users"),
            "users",
            ["mentor_id"],
            ["id"],
            ondelete="SET NULL",
        )


def downgrade():
    with op.batch_alter_table("placements", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_placements_mentor_id_users"), type_="foreignkey"
        )
        batch_op.drop_constraint(
            batch_op.f("fk_placements_offer_id_placement_offers"), type_="foreignkey"
        )
        batch_op.drop_index(batch_op.f("ix_placements_offer_id"))
        batch_op.drop_index(batch_op.f("ix_placements_mentor_id"))
        batch_op.drop_column("mentor_id")
        batch_op.drop_column("offer_id")

    with op.batch_alter_table("placement_requests", schema=None) as batch_op:
        batch_op.drop_index("ix_placement_requests_teacher_id")
        batch_op.drop_index("ix_placement_requests_offer_id_status")

    op.drop_table("placement_requests")
    op.drop_table("placement_attendance")
    op.drop_table("mentor_assessments")
    with op.batch_alter_table("placement_offers", schema=None) as batch_op:
        batch_op.drop_index("ix_placement_offers_status_starts_on")
        batch_op.drop_index("ix_placement_offers_sector")
        batch_op.drop_index(batch_op.f("ix_placement_offers_enterprise_id"))

    op.drop_table("placement_offers")
    with op.batch_alter_table("enterprise_mentors", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_enterprise_mentors_enterprise_id"))

    op.drop_table("enterprise_mentors")
    op.drop_table("department_sectors")
