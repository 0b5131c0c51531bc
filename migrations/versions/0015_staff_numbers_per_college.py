"""Staff numbers are unique per college

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07 06:20:00

Colleges number their people independently (many start at 0001), so one
deployment must hold the same 工号 in two colleges. teacher_profiles gains
institution_id, filled from the user's college, and a composite foreign key
(user_id, institution_id) → users(id, institution_id) keeps it equal to the
user's (ON UPDATE CASCADE: a user who moves college takes the profile along);
users gains the unique key that foreign key needs. UNIQUE (institution_id,
staff_number) replaces the deployment-wide unique staff number.

A profile needs a college. A profile whose user has none goes, with its user,
to the deployment's only college; with several colleges the upgrade stops and
names those users. Downgrading restores the deployment-wide unique staff number
and stops, naming them, while two colleges share a staff number.
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

NO_COLLEGE = sa.text(
    "SELECT users.username FROM teacher_profiles JOIN users "
    "ON users.id = teacher_profiles.user_id WHERE users.institution_id IS NULL "
    "ORDER BY users.username"
)


def upgrade():
    _give_profiles_a_college()
    with op.batch_alter_table("users") as batch_op:
        batch_op.create_unique_constraint(
            "uq_users_id_institution", ["id", "institution_id"]
        )
    with op.batch_alter_table("teacher_profiles") as batch_op:
        batch_op.add_column(sa.Column("institution_id", sa.Integer(), nullable=True))
    # One statement for every row (a populated deployment holds tens of thousands).
    op.execute(
        "UPDATE teacher_profiles SET institution_id = users.institution_id "
        "FROM users WHERE users.id = teacher_profiles.user_id"
    )
    with op.batch_alter_table("teacher_profiles") as batch_op:
        batch_op.alter_column(
            "institution_id", existing_type=sa.Integer(), nullable=False
        )
        batch_op.drop_constraint(
            op.f("uq_teacher_profiles_staff_number"), type_="unique"
        )
        batch_op.drop_constraint(
            op.f("fk_teacher_profiles_user_id_users"), type_="foreignkey"
        )
        batch_op.create_unique_constraint(
            op.f("uq_teacher_profiles_institution_id_staff_number"),
            ["institution_id", "staff_number"],
        )
        batch_op.create_foreign_key(
            "fk_teacher_profiles_user_institution",
            "users",
            ["user_id", "institution_id"],
            ["id", "institution_id"],
            ondelete="CASCADE",
            onupdate="CASCADE",
        )


def _give_profiles_a_college():
    """Profiles of users without a college: the only college takes them, or stop."""
    bind = op.get_bind()
    homeless = bind.execute(NO_COLLEGE).scalars().all()
    if not homeless:
        return
    colleges = bind.execute(sa.text("SELECT id FROM institutions")).scalars().all()
    if len(colleges) != 1:
        raise RuntimeError(
            "Cannot upgrade: staff numbers now belong to a college, and these "
            f"{len(homeless)} people with a teacher profile have none: "
            f"{', '.join(homeless[:20])}{' …' if len(homeless) > 20 else ''}. "
            "Give each a department or a college, then upgrade again."
        )
    op.execute(
        sa.text(
            "UPDATE users SET institution_id = :college WHERE institution_id IS NULL "
            "AND id IN (SELECT user_id FROM teacher_profiles)"
        ).bindparams(college=colleges[0])
    )


def downgrade():
    shared = (
        op.get_bind()
        .execute(
            sa.text(
                "SELECT staff_number FROM teacher_profiles GROUP BY staff_number "
                "HAVING count(*) > 1 ORDER BY staff_number"
            )
        )
        .scalars()
        .all()
    )
    if shared:
        raise RuntimeError(
            "Cannot downgrade: before 0015 a staff number was unique across the "
            f"deployment, and {len(shared)} are used in several colleges: "
            f"{', '.join(shared[:20])}{' …' if len(shared) > 20 else ''}. "
            "Change them so that each is used once, then downgrade again."
        )
    with op.batch_alter_table("teacher_profiles") as batch_op:
        batch_op.drop_constraint(
            "fk_teacher_profiles_user_institution", type_="foreignkey"
        )
        batch_op.drop_constraint(
            op.f("uq_teacher_profiles_institution_id_staff_number"), type_="unique"
        )
        batch_op.create_foreign_key(
            op.f("fk_teacher_profiles_user_id_users"),
            "users",
            ["user_id"],
            ["id"],
            ondelete="CASCADE",
        )
        batch_op.create_unique_constraint(
            op.f("uq_teacher_profiles_staff_number"), ["staff_number"]
        )
        batch_op.drop_column("institution_id")
    with op.batch_alter_table("users") as batch_op:
        batch_op.drop_constraint("uq_users_id_institution", type_="unique")
