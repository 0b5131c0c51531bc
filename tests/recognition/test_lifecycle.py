"""A recognition's life after publication: the calendar and the evidence graph.

The activities area has no step yet that rejects or deletes a verified activity
(an administrator's correction, an import, a cascade); the flush listener sees
the change whatever makes it, so these tests change the rows through the ORM.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from pdtracker.activities.models import Activity
from pdtracker.audit import AuditEntry
from pdtracker.extensions import db
from pdtracker.notifications.models import Notification
from pdtracker.recognition import lifecycle
from pdtracker.recognition.errors import Refused
from pdtracker.recognition.models import Recognition, RecognitionChange
from tests.recognition.conftest import NOW, qualify
from tests.recognition.flow import apply, day, open_round, publish, through_panel, user


def _trail(rec_id: int) -> list[tuple[str | None, str]]:
    return [
        (c.from_state, c.to_state)
        for c in db.session.scalars(
            select(RecognitionChange)
            .where(RecognitionChange.recognition_id == rec_id)
            .order_by(RecognitionChange.id)
        )
    ]


def _notified(kind: str) -> list[int]:
    return sorted(
        db.session.scalars(
            select(Notification.recipient_id).where(Notification.kind == kind)
        )
    )


def _reject(activity: Activity, reason: str) -> None:
    activity.status = "rejected"
    activity.rejection_reason = reason


@pytest.fixture
def recognised(app, cast):
    """teacher2 recognised at the intermediate level (a certificate among the basis)."""
    ids = qualify(app, cast["teacher2"], "intermediate")
    with app.app_context():
        rnd = open_round(NOW)
        application = apply(rnd, "teacher2", "intermediate", NOW)
        through_panel(application, NOW)
        [rec] = publish(rnd, NOW)
        db.session.commit()
        return {"id": rec.id, "activities": ids}


def _rec(recognised) -> Recognition:
    rec = db.session.get(Recognition, recognised["id"])
    assert rec is not None
    return rec


def test_review_due_then_expired_by_the_date(ctx, cast, recognised):
    rec = _rec(recognised)
    rec_id, until = rec.id, rec.valid_until
    # Keep the certificate valid throughout: only the calendar acts here.
    db.session.get(Activity, recognised["activities"]["certificate"]).ends_on = None
    db.session.commit()
    before = day(until - timedelta(days=91))
    assert lifecycle.daily(before)["review_due"] == 0
    first = day(until - timedelta(days=90))
    counts = lifecycle.daily(first)
    assert (counts["review_due"], _rec(recognised).state) == (1, "review_due")
    heads_and_teacher = sorted([user("teacher2").id, user("head_ai").id])
    assert _notified("recognition_review_due") == heads_and_teacher
    # Idempotent: the same day again, and the next day, change and send nothing.
    assert lifecycle.daily(first)["review_due"] == 0
    assert lifecycle.daily(first + timedelta(days=1))["notified"] == 0
    assert _notified("recognition_review_due") == heads_and_teacher
    lifecycle.daily(day(until))
    assert _rec(recognised).state == "review_due"
    assert lifecycle.daily(day(until + timedelta(days=1)))["expired"] == 1
    assert _trail(rec_id) == [
        (None, "active"), ("active", "review_due"), ("review_due", "expired")
    ]  # fmt: skip


def test_rejecting_a_counted_activity_suspends_and_tells_the_head(
    ctx, cast, recognised
):
    activity = db.session.get(Activity, recognised["activities"]["training"])
    _reject(activity, "证明不实")
    db.session.commit()
    rec = _rec(recognised)
    assert rec.state == "suspended"
    [bad] = [b for b in rec.basis if b.went_bad_reason is not None]
    assert (bad.activity_ref, bad.went_bad_reason) == (activity.id, "rejected")
    assert user("head_ai").id in _notified("recognition_suspended")
    payloads = db.session.scalars(
        select(Notification.payload).where(Notification.kind == "recognition_suspended")
    ).all()
    assert {p["teacher_id"] for p in payloads} == {rec.teacher_id}
    entries = db.session.scalars(
        select(AuditEntry)
        .where(AuditEntry.object_type == "recognition", AuditEntry.object_id == rec.id)
        .order_by(AuditEntry.id)
    ).all()
    assert {"before": "active", "after": "suspended"}.items() <= entries[
        -1
    ].details.items()


def test_the_review_restores_or_revokes(ctx, cast, recognised):
    activity = db.session.get(Activity, recognised["activities"]["training"])
    _reject(activity, "证明不实")
    db.session.commit()
    rec = _rec(recognised)
    admin = user("cadmin")
    with pytest.raises(Refused):
        lifecycle.review(user("north_admin"), rec, restore=True, reason="x", now=NOW)
    lifecycle.review(admin, rec, restore=True, reason="其他培训足够", now=NOW)
    assert rec.state == "active"
    # Evidence already known bad does not suspend it a second time.
    db.session.commit()
    lifecycle.revoke(admin, rec, reason="弄虚作假", now=NOW)
    assert (rec.state, rec.revoke_reason) == ("revoked", "弄虚作假")
    assert _trail(rec.id)[-3:] == [
        ("active", "suspended"), ("suspended", "active"), ("active", "revoked")
    ]  # fmt: skip


def test_a_suspended_recognition_can_be_revoked_by_the_review(ctx, cast, recognised):
    activity = db.session.get(Activity, recognised["activities"]["project"])
    _reject(activity, "无")
    db.session.commit()
    rec = _rec(recognised)
    with pytest.raises(Refused) as no_reason:
        lifecycle.review(user("cadmin"), rec, restore=False, reason=" ", now=NOW)
    assert no_reason.value.code == "reason_required"
    lifecycle.review(user("cadmin"), rec, restore=False, reason="项目不实", now=NOW)
    assert (rec.state, rec.revoke_reason) == ("revoked", "项目不实")


def test_deleting_a_counted_activity_suspends(ctx, cast, recognised):
    activity = db.session.get(Activity, recognised["activities"]["lecture0"])
    activity_id = activity.id
    db.session.delete(activity)
    db.session.commit()
    rec = _rec(recognised)
    [bad] = [b for b in rec.basis if b.went_bad_reason is not None]
    assert (bad.activity_ref, bad.activity_id, bad.went_bad_reason) == (
        activity_id, None, "deleted",
    )  # fmt: skip
    assert rec.state == "suspended"


def test_an_edit_that_keeps_it_verified_changes_nothing(ctx, cast, recognised):
    activity = db.session.get(Activity, recognised["activities"]["lecture1"])
    activity.title = "新标题"
    db.session.commit()
    assert _rec(recognised).state == "active"


def test_a_certificate_past_its_expiry_suspends(ctx, cast, recognised):
    expires = date(2027, 1, 31)
    assert lifecycle.daily(day(expires))["suspended"] == 0
    counts = lifecycle.daily(day(expires + timedelta(days=1)))
    rec = _rec(recognised)
    assert (counts["suspended"], rec.state) == (1, "suspended")
    [bad] = [b for b in rec.basis if b.went_bad_reason is not None]
    assert bad.went_bad_reason == "expired"
    assert lifecycle.daily(day(expires + timedelta(days=2)))["suspended"] == 0
