"""Event sessions: per-session registration, capacity, attendance and changes

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07 01:00:00

A series' occurrences become sessions (event_sessions, keyed by the event and the
occurrence's original start, stored once something refers to them). Teachers hold
a seat or waitlist place per session (session_registrations); attendance credits
one activity per session, kept once by unique keys. events.allow_walk_ins lets
staff register teachers at the door. Registrations made before this revision get
their session places the first time their event is touched (adopt_unsplit).
"""

from alembic import op
import sqlalchemy as sa

import pdtracker.timeutil


# revision identifiers, used by Alembic.
revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

UTC_TIME = pdtracker.timeutil.UTCDateTime(timezone=True)


def upgrade():
    with op.batch_alter_table("events") as batch_op:
        batch_op.add_column(
            sa.Column(
                "allow_walk_ins", sa.Boolean(), server_default=sa.false(), nullable=False
            )
        )
    op.create_table(
        "event_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=20), nullable=False),
        sa.Column("original_starts_at", UTC_TIME, nullable=False),
        sa.Column("starts_at", UTC_TIME, nullable=False),
        sa.Column("ends_at", UTC_TIME, nullable=False),
        sa.Column("location", sa.String(length=500), nullable=True),
        sa.Column("is_moved", sa.Boolean(), nullable=False),
        sa.Column("is_cancelled", sa.Boolean(), nullable=False),
        sa.Column("cancelled_at", UTC_TIME, nullable=True),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("created_at", UTC_TIME, nullable=False),
        sa.Column("updated_at", UTC_TIME, nullable=False),
        sa.CheckConstraint("ends_at >= starts_at", name=op.f("ck_event_sessions_time_order")),
        sa.CheckConstraint("sequence >= 0", name=op.f("ck_event_sessions_sequence_nonnegative")),
        sa.CheckConstraint(
            "is_cancelled = (cancelled_at IS NOT NULL)",
            name=op.f("ck_event_sessions_cancelled_has_time"),
        ),
        sa.ForeignKeyConstraint(["event_id"], ["events.id"], name=op.f("fk_event_sessions_event_id_events"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_event_sessions")),
        sa.UniqueConstraint("event_id", "key", name=op.f("uq_event_sessions_event_id_key")),
    )
    op.create_table(
        "session_registrations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("registration_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("queued_at", UTC_TIME, nullable=False),
        sa.Column("cancelled_at", UTC_TIME, nullable=True),
        sa.Column("attended_at", UTC_TIME, nullable=True),
        sa.Column("source", sa.String(length=16), nullable=True),
        sa.Column("marked_by_id", sa.Integer(), nullable=True),
        sa.Column("activity_id", sa.Integer(), nullable=True),
        sa.Column("created_at", UTC_TIME, nullable=False),
        sa.Column("updated_at", UTC_TIME, nullable=False),
        sa.CheckConstraint(
            "status IN ('registered', 'waitlisted', 'cancelled', 'attended')",
            name=op.f("ck_session_registrations_status"),
        ),
        sa.CheckConstraint(
            "source IS NULL OR source IN ('manual', 'bulk', 'checkin', 'walk_in')",
            name=op.f("ck_session_registrations_source"),
        ),
        sa.CheckConstraint(
            "(status = 'attended') = (attended_at IS NOT NULL)",
            name=op.f("ck_session_registrations_attended_has_time"),
        ),
        sa.ForeignKeyConstraint(["session_id"], ["event_sessions.id"], name=op.f("fk_session_registrations_session_id_event_sessions"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["registration_id"], ["registrations.id"], name=op.f("fk_session_registrations_registration_id_registrations"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["marked_by_id"], ["users.id"], name=op.f("fk_session_registrations_marked_by_id_users"), ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["activity_id"], ["activities.id"], name=op.f("fk_session_registrations_activity_id_activities"), ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_session_registrations")),
        sa.UniqueConstraint("session_id", "registration_id", name=op.f("uq_session_registrations_session_id_registration_id")),
        sa.UniqueConstraint("activity_id", name=op.f("uq_session_registrations_activity_id")),
    )
    op.create_index("ix_session_registrations_registration_id", "session_registrations", ["registration_id"], unique=False)
    op.create_index(
        "ix_session_registrations_session_id_status_queued_at",
        "session_registrations",
        ["session_id", "status", "queued_at"],
        unique=False,
    )


def downgrade():
    op.drop_index("ix_session_registrations_session_id_status_queued_at", table_name="session_registrations")
    op.drop_index("ix_session_registrations_registration_id", table_name="session_registrations")
    op.drop_table("session_registrations")
    op.drop_table("event_sessions")
    with op.batch_alter_table("events") as batch_op:
        batch_op.drop_column("allow_walk_ins")
