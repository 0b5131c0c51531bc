"""Saved import mappings belong to a college

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07 03:40:00

import_mappings gains institution_id: a college's admins and heads see and use
only their college's mappings, and each college may use a name for its own. A
mapping of no college (the deployment admin's, the command line's) keeps its
name unique through a partial index. Existing mappings go to their creator's
college (none when the creator had none or is gone).
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

NO_COLLEGE = sa.text("institution_id IS NULL")


def upgrade():
    with op.batch_alter_table("import_mappings") as batch_op:
        batch_op.add_column(sa.Column("institution_id", sa.Integer(), nullable=True))
    op.execute(
        "UPDATE import_mappings SET institution_id = (SELECT users.institution_id "
        "FROM users WHERE users.id = import_mappings.created_by_id)"
    )
    with op.batch_alter_table("import_mappings") as batch_op:
        batch_op.drop_constraint(
            op.f("uq_import_mappings_importer_name"), type_="unique"
        )
        batch_op.create_index(
            "ix_import_mappings_institution_id", ["institution_id"], unique=False
        )
        batch_op.create_foreign_key(
            op.f("fk_import_mappings_institution_id_institutions"),
            "institutions",
            ["institution_id"],
            ["id"],
            ondelete="CASCADE",
        )
        batch_op.create_unique_constraint(
            op.f("uq_import_mappings_institution_id_importer_name"),
            ["institution_id", "importer", "name"],
        )
        batch_op.create_index(
            "uq_import_mappings_deployment",
            ["importer", "name"],
            unique=True,
            sqlite_where=NO_COLLEGE,
            postgresql_where=NO_COLLEGE,
        )


def downgrade():
    # One mapping per importer and name again: the oldest keeps the name.
    op.execute(
        "DELETE FROM import_mappings WHERE id NOT IN (SELECT MIN(id) FROM "
        "import_mappings GROUP BY importer, name)"
    )
    with op.batch_alter_table("import_mappings") as batch_op:
        batch_op.drop_index("uq_import_mappings_deployment")
        batch_op.drop_constraint(
            op.f("uq_import_mappings_institution_id_importer_name"), type_="unique"
        )
        batch_op.drop_constraint(
            op.f("fk_import_mappings_institution_id_institutions"),
            type_="foreignkey",
        )
        batch_op.drop_index("ix_import_mappings_institution_id")
        batch_op.drop_column("institution_id")
        batch_op.create_unique_constraint(
            op.f("uq_import_mappings_importer_name"), ["importer", "name"]
        )
