"""Recognition rounds, applications, review, decisions and recognitions

Revision ID: 0010
Revises: 0006
Create Date: 2026-12-07 00:40:00

A college opens a recognition round (认定批次) with its active ruleset version
frozen; teachers apply with a frozen snapshot; the head's formal check, the
panel's votes and the round's decision follow; published results become
recognitions with a certificate number, a state trail and the evidence graph
(the activities and files each recognition rests on). The composite keys on
votes refuse a vote by someone off the panel or on one's own application.
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0010"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "recognition_rounds",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("institution_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("levels", sa.JSON(), nullable=False),
        sa.Column("opens_on", sa.Date(), nullable=False),
        sa.Column("closes_on", sa.Date(), nullable=False),
        sa.Column("ruleset_name", sa.String(length=80), nullable=True),
        sa.Column("ruleset_version", sa.Integer(), nullable=True),
        sa.Column("objection_days", sa.Integer(), server_default="7", nullable=False),
        sa.Column("validity_years", sa.Integer(), server_default="5", nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("objections_until", sa.Date(), nullable=True),
        sa.CheckConstraint(
            "(state = 'published') = (published_at IS NOT NULL)",
            name=op.f("ck_recognition_rounds_published_has_time"),
        ),
        sa.CheckConstraint(
            "state = 'draft' OR (ruleset_name IS NOT NULL "
            "AND ruleset_version IS NOT NULL AND opened_at IS NOT NULL)",
            name=op.f("ck_recognition_rounds_opened_has_ruleset"),
        ),
        sa.CheckConstraint(
            "state IN ('draft', 'open', 'closed', 'published')",
            name=op.f("ck_recognition_rounds_state"),
        ),
        sa.CheckConstraint(
            "closes_on >= opens_on", name=op.f("ck_recognition_rounds_window_order")
        ),
        sa.CheckConstraint(
            "objection_days >= 0", name=op.f("ck_recognition_rounds_objection_days")
        ),
        sa.CheckConstraint(
            "validity_years >= 1", name=op.f("ck_recognition_rounds_validity_years")
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["users.id"],
            name=op.f("fk_recognition_rounds_created_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["institution_id"],
            ["institutions.id"],
            name=op.f("fk_recognition_rounds_institution_id_institutions"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recognition_rounds")),
        sa.UniqueConstraint(
            "institution_id",
            "name",
            name=op.f("uq_recognition_rounds_institution_id_name"),
        ),
    )
    op.create_index(
        op.f("ix_recognition_rounds_institution_id"),
        "recognition_rounds",
        ["institution_id"],
        unique=False,
    )
    op.create_table(
        "recognition_applications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("teacher_id", sa.Integer(), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=True),
        sa.Column("level_applied", sa.String(length=64), nullable=False),
        sa.Column("statement", sa.Text(), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("snapshot", sa.JSON(), nullable=False),
        sa.Column("snapshot_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("precheck_meets", sa.Boolean(), nullable=False),
        sa.Column("precheck_explanation", sa.JSON(), nullable=False),
        sa.Column("returns_count", sa.Integer(), server_default="0", nullable=False),
        sa.Column("resubmits_count", sa.Integer(), server_default="0", nullable=False),
        sa.Column("return_note", sa.Text(), nullable=True),
        sa.Column(
            "submitted_at",
            sa.DateTime(timezone=True),
            nullable=False,
        ),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "state IN ('submitted', 'returned', 'resubmitted', 'formal_ok', 'decided', 'closed')",
            name=op.f("ck_recognition_applications_state"),
        ),
        sa.CheckConstraint(
            "precheck_meets OR statement IS NOT NULL",
            name=op.f("ck_recognition_applications_not_meeting_has_statement"),
        ),
        sa.CheckConstraint(
            "resubmits_count BETWEEN 0 AND 1",
            name=op.f("ck_recognition_applications_resubmits_count"),
        ),
        sa.CheckConstraint(
            "returns_count BETWEEN 0 AND 2",
            name=op.f("ck_recognition_applications_returns_count"),
        ),
        sa.ForeignKeyConstraint(
            ["department_id"],
            ["departments.id"],
            name=op.f("fk_recognition_applications_department_id_departments"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["round_id"],
            ["recognition_rounds.id"],
            name=op.f("fk_recognition_applications_round_id_recognition_rounds"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["teacher_id"],
            ["users.id"],
            name=op.f("fk_recognition_applications_teacher_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recognition_applications")),
        sa.UniqueConstraint(
            "id",
            "round_id",
            "teacher_id",
            name=op.f("uq_recognition_applications_id_round_id_teacher_id"),
        ),
        sa.UniqueConstraint(
            "round_id",
            "teacher_id",
            name=op.f("uq_recognition_applications_round_id_teacher_id"),
        ),
    )
    op.create_index(
        op.f("ix_recognition_applications_department_id"),
        "recognition_applications",
        ["department_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_recognition_applications_round_id"),
        "recognition_applications",
        ["round_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_recognition_applications_teacher_id"),
        "recognition_applications",
        ["teacher_id"],
        unique=False,
    )
    op.create_table(
        "recognition_round_reviewers",
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("reviewer_id", sa.Integer(), nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["reviewer_id"],
            ["users.id"],
            name=op.f("fk_recognition_round_reviewers_reviewer_id_users"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["round_id"],
            ["recognition_rounds.id"],
            name=op.f("fk_recognition_round_reviewers_round_id_recognition_rounds"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "round_id", "reviewer_id", name=op.f("pk_recognition_round_reviewers")
        ),
    )
    op.create_index(
        op.f("ix_recognition_round_reviewers_reviewer_id"),
        "recognition_round_reviewers",
        ["reviewer_id"],
        unique=False,
    )
    op.create_table(
        "recognition_decisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("application_id", sa.Integer(), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("level", sa.String(length=64), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "(outcome = 'approve') = (level IS NOT NULL)",
            name=op.f("ck_recognition_decisions_approve_has_level"),
        ),
        sa.CheckConstraint(
            "outcome IN ('approve', 'reject')",
            name=op.f("ck_recognition_decisions_outcome"),
        ),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["recognition_applications.id"],
            name=op.f(
                "fk_recognition_decisions_application_id_recognition_applications"
            ),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["decided_by_id"],
            ["users.id"],
            name=op.f("fk_recognition_decisions_decided_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recognition_decisions")),
        sa.UniqueConstraint(
            "application_id", name=op.f("uq_recognition_decisions_application_id")
        ),
    )
    op.create_table(
        "recognition_formal_checks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("application_id", sa.Integer(), nullable=False),
        sa.Column("checker_id", sa.Integer(), nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("checked_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "outcome = 'complete' OR note IS NOT NULL",
            name=op.f("ck_recognition_formal_checks_returned_has_note"),
        ),
        sa.CheckConstraint(
            "outcome IN ('complete', 'returned')",
            name=op.f("ck_recognition_formal_checks_outcome"),
        ),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["recognition_applications.id"],
            name=op.f(
                "fk_recognition_formal_checks_application_id_recognition_applications"
            ),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["checker_id"],
            ["users.id"],
            name=op.f("fk_recognition_formal_checks_checker_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recognition_formal_checks")),
    )
    op.create_index(
        op.f("ix_recognition_formal_checks_application_id"),
        "recognition_formal_checks",
        ["application_id"],
        unique=False,
    )
    op.create_table(
        "recognition_objections",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("application_id", sa.Integer(), nullable=False),
        sa.Column("statement", sa.Text(), nullable=False),
        sa.Column("filed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("resolution", sa.Text(), nullable=True),
        sa.Column("resolved_by_id", sa.Integer(), nullable=True),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "(state = 'pending') = (resolved_at IS NULL)",
            name=op.f("ck_recognition_objections_resolved_has_time"),
        ),
        sa.CheckConstraint(
            "state IN ('pending', 'upheld', 'changed')",
            name=op.f("ck_recognition_objections_state"),
        ),
        sa.CheckConstraint(
            "length(statement) > 0",
            name=op.f("ck_recognition_objections_has_statement"),
        ),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["recognition_applications.id"],
            name=op.f(
                "fk_recognition_objections_application_id_recognition_applications"
            ),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["resolved_by_id"],
            ["users.id"],
            name=op.f("fk_recognition_objections_resolved_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recognition_objections")),
        sa.UniqueConstraint(
            "application_id", name=op.f("uq_recognition_objections_application_id")
        ),
    )
    op.create_table(
        "recognition_votes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("application_id", sa.Integer(), nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("teacher_id", sa.Integer(), nullable=False),
        sa.Column("reviewer_id", sa.Integer(), nullable=False),
        sa.Column("choice", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("voted_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "choice IN ('approve', 'reject')", name=op.f("ck_recognition_votes_choice")
        ),
        sa.CheckConstraint(
            "length(reason) > 0", name=op.f("ck_recognition_votes_has_reason")
        ),
        sa.CheckConstraint(
            "reviewer_id <> teacher_id", name=op.f("ck_recognition_votes_not_own")
        ),
        sa.ForeignKeyConstraint(
            ["application_id", "round_id", "teacher_id"],
            [
                "recognition_applications.id",
                "recognition_applications.round_id",
                "recognition_applications.teacher_id",
            ],
            name="fk_recognition_votes_application",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["round_id", "reviewer_id"],
            [
                "recognition_round_reviewers.round_id",
                "recognition_round_reviewers.reviewer_id",
            ],
            name="fk_recognition_votes_panel",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recognition_votes")),
        sa.UniqueConstraint(
            "application_id",
            "reviewer_id",
            name=op.f("uq_recognition_votes_application_id_reviewer_id"),
        ),
    )
    op.create_index(
        op.f("ix_recognition_votes_application_id"),
        "recognition_votes",
        ["application_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_recognition_votes_reviewer_id"),
        "recognition_votes",
        ["reviewer_id"],
        unique=False,
    )
    op.create_table(
        "recognitions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("teacher_id", sa.Integer(), nullable=False),
        sa.Column("institution_id", sa.Integer(), nullable=False),
        sa.Column("application_id", sa.Integer(), nullable=False),
        sa.Column("level", sa.String(length=64), nullable=False),
        sa.Column("certificate_number", sa.String(length=32), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_until", sa.Date(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("revoke_reason", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "state <> 'revoked' OR revoke_reason IS NOT NULL",
            name=op.f("ck_recognitions_revoked_has_reason"),
        ),
        sa.CheckConstraint(
            "state IN ('active', 'review_due', 'expired', 'suspended', 'revoked')",
            name=op.f("ck_recognitions_state"),
        ),
        sa.CheckConstraint(
            "valid_until > valid_from", name=op.f("ck_recognitions_validity_order")
        ),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["recognition_applications.id"],
            name=op.f("fk_recognitions_application_id_recognition_applications"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["institution_id"],
            ["institutions.id"],
            name=op.f("fk_recognitions_institution_id_institutions"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["teacher_id"],
            ["users.id"],
            name=op.f("fk_recognitions_teacher_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recognitions")),
        sa.UniqueConstraint(
            "application_id", name=op.f("uq_recognitions_application_id")
        ),
        sa.UniqueConstraint(
            "certificate_number", name=op.f("uq_recognitions_certificate_number")
        ),
    )
    op.create_index(
        op.f("ix_recognitions_institution_id"),
        "recognitions",
        ["institution_id"],
        unique=False,
    )
    op.create_index(
        "ix_recognitions_state_valid_until",
        "recognitions",
        ["state", "valid_until"],
        unique=False,
    )
    op.create_index(
        op.f("ix_recognitions_teacher_id"), "recognitions", ["teacher_id"], unique=False
    )
    op.create_table(
        "recognition_basis",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("recognition_id", sa.Integer(), nullable=False),
        sa.Column("activity_id", sa.Integer(), nullable=True),
        sa.Column("activity_ref", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("kind_code", sa.String(length=32), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=True),
        sa.Column("went_bad_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("went_bad_reason", sa.String(length=16), nullable=True),
        sa.CheckConstraint(
            "went_bad_reason IS NULL OR went_bad_reason IN "
            "('rejected', 'unverified', 'deleted', 'expired')",
            name=op.f("ck_recognition_basis_bad_reason"),
        ),
        sa.CheckConstraint(
            "(went_bad_at IS NULL) = (went_bad_reason IS NULL)",
            name=op.f("ck_recognition_basis_bad_has_reason"),
        ),
        sa.ForeignKeyConstraint(
            ["activity_id"],
            ["activities.id"],
            name=op.f("fk_recognition_basis_activity_id_activities"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["recognition_id"],
            ["recognitions.id"],
            name=op.f("fk_recognition_basis_recognition_id_recognitions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recognition_basis")),
        sa.UniqueConstraint(
            "recognition_id",
            "activity_ref",
            name=op.f("uq_recognition_basis_recognition_id_activity_ref"),
        ),
    )
    op.create_index(
        op.f("ix_recognition_basis_activity_id"),
        "recognition_basis",
        ["activity_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_recognition_basis_recognition_id"),
        "recognition_basis",
        ["recognition_id"],
        unique=False,
    )
    op.create_table(
        "recognition_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("recognition_id", sa.Integer(), nullable=False),
        sa.Column("from_state", sa.String(length=16), nullable=True),
        sa.Column("to_state", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "from_state IS NULL OR from_state IN "
            "('active', 'review_due', 'expired', 'suspended', 'revoked')",
            name=op.f("ck_recognition_changes_from_state"),
        ),
        sa.CheckConstraint(
            "to_state IN ('active', 'review_due', 'expired', 'suspended', 'revoked')",
            name=op.f("ck_recognition_changes_to_state"),
        ),
        sa.ForeignKeyConstraint(
            ["actor_id"],
            ["users.id"],
            name=op.f("fk_recognition_changes_actor_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["recognition_id"],
            ["recognitions.id"],
            name=op.f("fk_recognition_changes_recognition_id_recognitions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recognition_changes")),
    )
    op.create_index(
        op.f("ix_recognition_changes_recognition_id"),
        "recognition_changes",
        ["recognition_id"],
        unique=False,
    )
    op.create_table(
        "recognition_basis_files",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("basis_id", sa.Integer(), nullable=False),
        sa.Column("evidence_file_id", sa.Integer(), nullable=True),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["basis_id"],
            ["recognition_basis.id"],
            name=op.f("fk_recognition_basis_files_basis_id_recognition_basis"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["evidence_file_id"],
            ["evidence_files.id"],
            name=op.f("fk_recognition_basis_files_evidence_file_id_evidence_files"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recognition_basis_files")),
    )
    op.create_index(
        op.f("ix_recognition_basis_files_basis_id"),
        "recognition_basis_files",
        ["basis_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_recognition_basis_files_evidence_file_id"),
        "recognition_basis_files",
        ["evidence_file_id"],
        unique=False,
    )


def downgrade():
    op.drop_index(
        op.f("ix_recognition_basis_files_evidence_file_id"),
        table_name="recognition_basis_files",
    )
    op.drop_index(
        op.f("ix_recognition_basis_files_basis_id"),
        table_name="recognition_basis_files",
    )
    op.drop_table("recognition_basis_files")
    op.drop_index(
        op.f("ix_recognition_changes_recognition_id"), table_name="recognition_changes"
    )
    op.drop_table("recognition_changes")
    op.drop_index(
        op.f("ix_recognition_basis_recognition_id"), table_name="recognition_basis"
    )
    op.drop_index(
        op.f("ix_recognition_basis_activity_id"), table_name="recognition_basis"
    )
    op.drop_table("recognition_basis")
    op.drop_index(op.f("ix_recognitions_teacher_id"), table_name="recognitions")
    op.drop_index("ix_recognitions_state_valid_until", table_name="recognitions")
    op.drop_index(op.f("ix_recognitions_institution_id"), table_name="recognitions")
    op.drop_table("recognitions")
    op.drop_index(
        op.f("ix_recognition_votes_reviewer_id"), table_name="recognition_votes"
    )
    op.drop_index(
        op.f("ix_recognition_votes_application_id"), table_name="recognition_votes"
    )
    op.drop_table("recognition_votes")
    op.drop_table("recognition_objections")
    op.drop_index(
        op.f("ix_recognition_formal_checks_application_id"),
        table_name="recognition_formal_checks",
    )
    op.drop_table("recognition_formal_checks")
    op.drop_table("recognition_decisions")
    op.drop_index(
        op.f("ix_recognition_round_reviewers_reviewer_id"),
        table_name="recognition_round_reviewers",
    )
    op.drop_table("recognition_round_reviewers")
    op.drop_index(
        op.f("ix_recognition_applications_teacher_id"),
        table_name="recognition_applications",
    )
    op.drop_index(
        op.f("ix_recognition_applications_round_id"),
        table_name="recognition_applications",
    )
    op.drop_index(
        op.f("ix_recognition_applications_department_id"),
        table_name="recognition_applications",
    )
    op.drop_table("recognition_applications")
    op.drop_index(
        op.f("ix_recognition_rounds_institution_id"), table_name="recognition_rounds"
    )
    op.drop_table("recognition_rounds")
