"""Activities get an iCalendar SEQUENCE

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 12:20:00

Planned activities appear in teachers' feeds; calendar clients (Google in
particular) use SEQUENCE to tell an updated entry from an old copy (CALENDAR.md A4).
Existing rows start at 0, as events and placements did.
"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade():
    # Batch mode: SQLite cannot add a CHECK constraint to an existing table.
    with op.batch_alter_table("activities") as batch_op:
        batch_op.add_column(
            sa.Column("sequence", sa.Integer(), server_default="0", nullable=False)
        )
        batch_op.create_check_constraint(
            op.f("ck_activities_sequence_nonnegative"), "sequence >= 0"
        )


def downgrade():
    with op.batch_alter_table("activities") as batch_op:
        batch_op.drop_constraint(
            op.f("ck_activities_sequence_nonnegative"), type_="check"
        )
        batch_op.drop_column("sequence")
