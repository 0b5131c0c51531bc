"""Activity services: explicit actor and time, flush without commit, workflow rules."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import func, select
from werkzeug.exceptions import NotFound

from pdtracker.activities import services as svc
from pdtracker.activities.models import Activity
from pdtracker.audit import AuditEntry
from pdtracker.auth.models import User
from pdtracker.extensions import db

NOW = datetime(2026, 3, 11, 2, 0, tzinfo=UTC)


def _user(username: str) -> User:
    return db.session.scalar(select(User).filter_by(username=username))


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_record_flushes_but_does_not_commit(app, world) -> None:
    with app.app_context():
        teacher = _user("teacher1")
        fields = svc.ActivityFields(
            kind_code="training",
            title="双师型教师培训",
            starts_on=date(2026, 3, 1),
            hours=Decimal("16"),
        )
        activity = svc.record_activity(teacher, fields, actor=teacher, now=NOW)
        assert activity.id is not None
        assert activity.created_at == NOW
        entry = db.session.scalar(select(AuditEntry))
        assert (entry.action, entry.created_at) == ("activity.create", NOW)
        db.session.rollback()
        assert _count(Activity) == 0
        assert _count(AuditEntry) == 0


def test_teacher_cannot_set_review_statuses(app, world) -> None:
    with app.app_context():
        teacher = _user("teacher1")
        fields = svc.ActivityFields(
            kind_code="seminar",
            title="x",
            starts_on=date(2026, 3, 1),
            hours=Decimal(1),
            status="verified",
        )
        with pytest.raises(ValueError, match="status"):
            svc.record_activity(teacher, fields, actor=teacher, now=NOW)


def test_locked_activity_refuses_changes(app, world, make_activity) -> None:
    activity = make_activity(world["teacher1"], status="verified")
    with app.app_context():
        teacher, row = _user("teacher1"), db.session.get(Activity, activity.id)
        fields = svc.ActivityFields(
            kind_code="seminar", title="x", starts_on=date(2026, 3, 1), hours=Decimal(1)
        )
        with pytest.raises(svc.ActivityLocked):
            svc.update_activity(row, fields, actor=teacher, now=NOW)
        with pytest.raises(svc.ActivityLocked):
            svc.delete_activity(row, actor=teacher, now=NOW)


def test_review_rules(app, world, make_activity) -> None:
    own = make_activity(world["head1"])
    planned = make_activity(world["teacher1"], status="planned")
    done = make_activity(world["teacher1"])
    with app.app_context():
        head = _user("head1")
        with pytest.raises(svc.ConflictOfInterest):
            svc.verify_activity(db.session.get(Activity, own.id), actor=head, now=NOW)
        with pytest.raises(svc.NotReviewable):
            svc.verify_activity(
                db.session.get(Activity, planned.id), actor=head, now=NOW
            )
        with pytest.raises(ValueError, match="reason"):
            svc.reject_activity(
                db.session.get(Activity, done.id), " ", actor=head, now=NOW
            )
        verified = svc.verify_activity(
            db.session.get(Activity, done.id), actor=head, now=NOW
        )
        assert (verified.status, verified.verified_at) == ("verified", NOW)


def test_visibility_and_queue_queries(app, world, make_activity) -> None:
    mine = make_activity(world["teacher1"])
    make_activity(world["head1"])
    with app.app_context():
        assert svc.visible_activity_or_404(_user("teacher1"), mine.id).id == mine.id
        assert svc.visible_activity_or_404(_user("head1"), mine.id).id == mine.id
        assert svc.visible_activity_or_404(_user("admin"), mine.id).id == mine.id
        for outsider in ("teacher2", "head2", "staff1"):
            with pytest.raises(NotFound):
                svc.visible_activity_or_404(_user(outsider), mine.id)
        queue = db.session.scalars(svc.review_queue_for(_user("head1"))).all()
        assert [a.id for a in queue] == [mine.id]
        assert db.session.scalars(svc.review_queue_for(_user("head2"))).all() == []
