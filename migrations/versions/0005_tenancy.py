"""Tenancy: people belong to a college, college admins and mentors, rules per college

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07 00:20:00

One deployment serves an association and its member colleges. Every person in
a department now also names their college (users.institution_id), and a
composite foreign key to (departments.id, departments.institution_id) keeps the
two equal. Two roles join: college_admin (one college) and mentor (one
enterprise). Ruleset versions may belong to a college: one active version per
scope (the deployment's regional layer, and each college's own).
"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

OLD_ROLES = ("teacher", "head", "staff", "admin")
NEW_ROLES = ("teacher", "head", "college_admin", "staff", "mentor", "admin")


def _role_check(roles):
    return "role IN ({})".format(", ".join(f"'{r}'" for r in roles))


def _replace_role_check(roles):
    with op.batch_alter_table("user_roles") as batch_op:
        batch_op.drop_constraint(op.f("ck_user_roles_role"), type_="check")
        batch_op.create_check_constraint(op.f("ck_user_roles_role"), _role_check(roles))


def upgrade():
    _replace_role_check(NEW_ROLES)
    with op.batch_alter_table("departments") as batch_op:
        batch_op.create_unique_constraint(
            "uq_departments_id_institution", ["id", "institution_id"]
        )
    with op.batch_alter_table("users") as batch_op:
        batch_op.add_column(sa.Column("institution_id", sa.Integer(), nullable=True))
    # Everyone in a department belongs to its college; the demo's (single) college
    # also takes the people without a department who teach or head there.
    op.execute(
        "UPDATE users SET institution_id = "
        "(SELECT institution_id FROM departments WHERE departments.id = users.department_id) "
        "WHERE department_id IS NOT NULL"
    )
    with op.batch_alter_table("users") as batch_op:
        batch_op.create_index("ix_users_institution_id", ["institution_id"], unique=False)
        batch_op.create_foreign_key(
            op.f("fk_users_institution_id_institutions"),
            "institutions",
            ["institution_id"],
            ["id"],
            ondelete="RESTRICT",
        )
        batch_op.create_foreign_key(
            "fk_users_department_institution",
            "departments",
            ["department_id", "institution_id"],
            ["id", "institution_id"],
        )
        batch_op.create_check_constraint(
            op.f("ck_users_department_has_institution"),
            "department_id IS NULL OR institution_id IS NOT NULL",
        )
    with op.batch_alter_table("rulesets") as batch_op:
        batch_op.add_column(sa.Column("institution_id", sa.Integer(), nullable=True))
        batch_op.create_index("ix_rulesets_institution_id", ["institution_id"], unique=False)
        batch_op.create_foreign_key(
            op.f("fk_rulesets_institution_id_institutions"),
            "institutions",
            ["institution_id"],
            ["id"],
            ondelete="RESTRICT",
        )
        batch_op.drop_index("uq_rulesets_is_active")
        batch_op.create_index(
            "uq_rulesets_active_regional",
            ["is_active"],
            unique=True,
            sqlite_where=sa.text("is_active AND institution_id IS NULL"),
            postgresql_where=sa.text("is_active AND institution_id IS NULL"),
        )
        batch_op.create_index(
            "uq_rulesets_active_college",
            ["institution_id"],
            unique=True,
            sqlite_where=sa.text("is_active AND institution_id IS NOT NULL"),
            postgresql_where=sa.text("is_active AND institution_id IS NOT NULL"),
        )


def downgrade():
    # College layers and the new roles have no place in the old schema.
    op.execute("DELETE FROM rulesets WHERE institution_id IS NOT NULL AND status = 'draft'")
    op.execute("UPDATE rulesets SET is_active = false WHERE institution_id IS NOT NULL")
    op.execute("DELETE FROM user_roles WHERE role IN ('college_admin', 'mentor')")
    with op.batch_alter_table("rulesets") as batch_op:
        batch_op.drop_index("uq_rulesets_active_college")
        batch_op.drop_index("uq_rulesets_active_regional")
        batch_op.drop_constraint(
            op.f("fk_rulesets_institution_id_institutions"), type_="foreignkey"
        )
        batch_op.drop_index("ix_rulesets_institution_id")
        batch_op.drop_column("institution_id")
        batch_op.create_index(
            "uq_rulesets_is_active",
            ["is_active"],
            unique=True,
            sqlite_where=sa.text("is_active"),
            postgresql_where=sa.text("is_active"),
        )
    with op.batch_alter_table("users") as batch_op:
        batch_op.drop_constraint(
            op.f("ck_users_department_has_institution"), type_="check"
        )
        batch_op.drop_constraint("fk_users_department_institution", type_="foreignkey")
        batch_op.drop_constraint(
            op.f("fk_users_institution_id_institutions"), type_="foreignkey"
        )
        batch_op.drop_index("ix_users_institution_id")
        batch_op.drop_column("institution_id")
    with op.batch_alter_table("departments") as batch_op:
        batch_op.drop_constraint("uq_departments_id_institution", type_="unique")
    _replace_role_check(OLD_ROLES)
