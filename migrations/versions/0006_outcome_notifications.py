"""Outcome notifications: the kinds that tell people what happened, once each

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07 00:30:00

A teacher hears when an activity is verified or rejected, a placement approved,
started, completed or cancelled, a waitlisted seat freed, attendance credited, an
event they registered for changed or cancelled; recognition results and reviews,
and answers to placement requests. Only the kind CHECK constraints change.
"""

from alembic import op


# revision identifiers, used by Alembic.
revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

OLD_KINDS = (
    "event_tomorrow",
    "registration_deadline",
    "placement_starting",
    "placement_report_due",
    "verification_digest",
    "lapse_warning",
    "department_digest",
    "feed_failed",
    "password_reset",
    "account_activation",
)
ADDED_KINDS = (
    "activity_verified",
    "activity_rejected",
    "placement_approved",
    "placement_started",
    "placement_completed",
    "placement_cancelled",
    "waitlist_promoted",
    "attendance_credited",
    "event_changed",
    "event_cancelled",
    "recognition_result",
    "recognition_review_due",
    "recognition_suspended",
    "placement_request_confirmed",
    "placement_request_declined",
)
NEW_KINDS = (*OLD_KINDS, *ADDED_KINDS)
KIND_TABLES = ("notifications", "notification_preferences")


def _kind_check(kinds):
    return "kind IN ({})".format(", ".join(f"'{k}'" for k in kinds))


def _replace_kind_check(kinds):
    # Batch mode: SQLite cannot alter a CHECK constraint in place.
    for table in KIND_TABLES:
        with op.batch_alter_table(table) as batch_op:
            batch_op.drop_constraint(op.f(f"ck_{table}_kind"), type_="check")
            batch_op.create_check_constraint(op.f(f"ck_{table}_kind"), _kind_check(kinds))


def upgrade():
    _replace_kind_check(NEW_KINDS)


def downgrade():
    # Rows of the new kinds name a kind the old CHECK refuses.
    added = ", ".join(f"'{k}'" for k in ADDED_KINDS)
    for table in KIND_TABLES:
        op.execute(f"DELETE FROM {table} WHERE kind IN ({added})")
    _replace_kind_check(OLD_KINDS)
