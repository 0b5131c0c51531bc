"""A whole recognition round through the services (issue 13, "What it must show")."""

from __future__ import annotations

import base64
from datetime import date, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from pdtracker.activities.models import Activity
from pdtracker.extensions import db
from pdtracker.notifications.models import Notification
from pdtracker.recognition import applications, panel, results, rounds
from pdtracker.recognition.errors import Refused
from pdtracker.recognition.models import (
    PanelVote,
    RecognitionApplication,
)
from pdtracker.recognition.queries import visible_clause
from tests.recognition.conftest import NOW, qualify
from tests.recognition.flow import apply, open_round, publish, through_panel, user


@pytest.fixture
def qualified(app, cast):
    """teacher1 reaches the primary level, teacher2 the intermediate one."""
    return {
        "teacher1": qualify(app, cast["teacher1"], "primary"),
        "teacher2": qualify(app, cast["teacher2"], "intermediate"),
    }


def test_opening_freezes_the_ruleset(ctx, cast):
    rnd = open_round(NOW)
    assert (rnd.ruleset_name, rnd.ruleset_version) == ("cn-vocational-default", 1)
    assert rnd.state == "open"
    assert rnd.levels == ["primary", "intermediate", "senior"]


def test_apply_freezes_a_snapshot_that_later_edits_leave_alone(ctx, cast, qualified):
    rnd = open_round(NOW)
    application = apply(rnd, "teacher1", "primary", NOW)
    db.session.commit()
    assert application.precheck_meets is True
    frozen = application.snapshot
    ids = {a["id"] for a in frozen["activities"]}
    assert ids == set(qualified["teacher1"].values())
    training = next(a for a in frozen["activities"] if a["kind"] == "training")
    assert training["evidence"][0]["sha256"] == f"{training['id']:064x}"
    assert frozen["report"]["level"] == "primary"
    # Later the teacher's activity changes: the stored snapshot does not.
    activity = db.session.get(Activity, qualified["teacher1"]["training"])
    activity.title = "改过的标题"
    activity.hours = 1
    db.session.commit()
    db.session.expire_all()
    stored = db.session.get(RecognitionApplication, application.id)
    assert stored.snapshot == frozen
    assert stored.snapshot["activities"][1]["title"] == "国培计划"


def test_not_meeting_needs_a_statement_and_is_flagged(ctx, cast, qualified):
    rnd = open_round(NOW)
    with pytest.raises(Refused) as refused:
        apply(rnd, "teacher1", "intermediate", NOW)
    assert refused.value.code == "statement_required"
    application = apply(
        rnd, "teacher1", "intermediate", NOW, statement="我有企业项目在审"
    )
    assert application.precheck_meets is False
    unmet = [row["code"] for row in application.precheck_explanation if not row["met"]]
    assert "industry_certificate" in unmet


def test_outside_the_window_or_twice_is_refused(ctx, cast, qualified):
    rnd = open_round(NOW, opens_on=NOW.date() + timedelta(days=1))
    with pytest.raises(Refused) as early:
        apply(rnd, "teacher1", "primary", NOW)
    assert early.value.code == "window_closed"
    rnd2 = open_round(NOW, name="第二批", reviewers=())
    apply(rnd2, "teacher1", "primary", NOW)
    with pytest.raises(Refused) as twice:
        apply(rnd2, "teacher1", "primary", NOW)
    assert twice.value.code == "already_applied"


def test_return_and_resubmit_once_only(ctx, cast, qualified):
    rnd = open_round(NOW)
    application = apply(rnd, "teacher1", "primary", NOW)
    head = user("head_ai")
    applications.formal_check(
        head, application, complete=False, note="请补充证明", now=NOW
    )
    assert application.state == "returned"
    applications.resubmit(user("teacher1"), application, statement=None, now=NOW)
    assert application.state == "resubmitted"
    applications.formal_check(
        head, application, complete=False, note="仍不完整", now=NOW
    )
    assert application.state == "closed"
    with pytest.raises(Refused) as again:
        applications.resubmit(user("teacher1"), application, statement=None, now=NOW)
    assert again.value.code == "cannot_resubmit"


def test_only_the_applicants_head_checks_the_form(ctx, cast, qualified):
    rnd = open_round(NOW)
    application = apply(rnd, "teacher1", "primary", NOW)
    with pytest.raises(Refused):
        applications.formal_check(user("head_me"), application, complete=True,
                                  note=None, now=NOW)  # fmt: skip
    with pytest.raises(Refused) as no_note:
        applications.formal_check(user("head_ai"), application, complete=False,
                                  note=" ", now=NOW)  # fmt: skip
    assert no_note.value.code == "note_required"


def test_a_reviewer_of_the_same_department_is_excluded(ctx, cast, qualified):
    rnd = open_round(NOW)
    application = apply(rnd, "teacher1", "primary", NOW)
    applications.formal_check(user("head_ai"), application, complete=True, note=None,
                              now=NOW)  # fmt: skip
    db.session.flush()
    conflicted, other = user("reviewer_ai"), user("reviewer_me")
    assert not panel.may_review(conflicted, application)
    with pytest.raises(Refused):
        panel.cast_vote(conflicted, application, approve=True, reason="好", now=NOW)

    def visible(reviewer):
        return db.session.scalars(
            select(RecognitionApplication.id).where(visible_clause(reviewer))
        ).all()

    assert visible(conflicted) == []
    assert visible(other) == [application.id]
    panel.cast_vote(other, application, approve=True, reason="好", now=NOW)


def test_the_database_refuses_a_vote_on_ones_own_or_off_the_panel(ctx, cast, qualified):
    rnd = open_round(NOW, reviewers=("reviewer_me",))
    application = apply(rnd, "teacher1", "primary", NOW)
    db.session.commit()
    for reviewer in ("teacher1", "teacher2"):  # own application; not on the panel
        db.session.add(
            PanelVote(application_id=application.id, round_id=rnd.id,
                      teacher_id=application.teacher_id,
                      reviewer_id=user(reviewer).id, choice="approve", reason="x",
                      voted_at=NOW)
        )  # fmt: skip
        with pytest.raises(IntegrityError):
            db.session.commit()
        db.session.rollback()


def test_approve_at_a_lower_level_and_never_higher(ctx, cast, qualified):
    rnd = open_round(NOW)
    application = apply(rnd, "teacher1", "intermediate", NOW, statement="申请中级")
    applications.formal_check(user("head_ai"), application, complete=True, note=None,
                              now=NOW)  # fmt: skip
    panel.cast_vote(user("reviewer_me"), application, approve=True, reason="初级可",
                    now=NOW)  # fmt: skip
    with pytest.raises(Refused) as higher:
        panel.decide(user("cadmin"), application, approve=True, level="senior",
                     reason=None, now=NOW)  # fmt: skip
    assert higher.value.code == "level_above_applied"
    decision = panel.decide(user("cadmin"), application, approve=True, level="primary",
                            reason="初级", now=NOW)  # fmt: skip
    assert (decision.outcome, decision.level) == ("approve", "primary")
    [rec] = publish(rnd, NOW)
    assert rec.level == "primary"


def test_publish_creates_recognitions_and_tells_the_teachers(ctx, cast, qualified):
    rnd = open_round(NOW, validity_years=5)
    a1 = apply(rnd, "teacher1", "primary", NOW)
    a2 = apply(rnd, "teacher2", "intermediate", NOW)
    through_panel(a1, NOW)
    through_panel(a2, NOW, approve=False)
    [rec] = publish(rnd, NOW)
    db.session.commit()
    assert rec.teacher_id == a1.teacher_id
    assert (rec.valid_from, rec.valid_until) == (date(2026, 12, 7), date(2031, 12, 6))
    assert rec.certificate_number.startswith("SX-")
    assert len(base64.b32decode(rec.certificate_number[3:])) == 10  # 80 random bits
    assert len(rec.certificate_number) == 19
    assert {b.activity_ref for b in rec.basis} == set(qualified["teacher1"].values())
    assert all(len(b.files) == 1 for b in rec.basis)
    kinds = {
        (n.recipient_id, n.payload["granted"])
        for n in db.session.scalars(
            select(Notification).where(Notification.kind == "recognition_result")
        )
    }
    assert kinds == {(a1.teacher_id, True), (a2.teacher_id, False)}
    assert rnd.objections_until == date(2026, 12, 14)


def test_publish_waits_for_every_decision(ctx, cast, qualified):
    rnd = open_round(NOW)
    apply(rnd, "teacher1", "primary", NOW)
    rounds.close_round(user("cadmin"), rnd, NOW)
    with pytest.raises(Refused) as undecided:
        results.publish(user("cadmin"), rnd, NOW)
    assert undecided.value.code == "undecided"


def test_objection_once_within_the_period_and_the_admin_changes(ctx, cast, qualified):
    rnd = open_round(NOW)
    application = apply(rnd, "teacher2", "intermediate", NOW)
    through_panel(application, NOW, approve=False)
    assert publish(rnd, NOW) == []
    teacher = user("teacher2")
    objection = results.file_objection(teacher, application, statement="证书有效",
                                       now=NOW)  # fmt: skip
    with pytest.raises(Refused) as twice:
        results.file_objection(teacher, application, statement="再次", now=NOW)
    assert twice.value.code == "already_objected"
    results.resolve_objection(user("cadmin"), objection, change=True, approve=True,
                              level="intermediate", resolution="复核通过",
                              now=NOW)  # fmt: skip
    db.session.flush()
    rec = results.recognition_of(application.id)
    assert rec is not None
    assert (rec.level, rec.state, objection.state) == (
        "intermediate",
        "active",
        "changed",
    )


def test_objection_after_the_period_is_refused(ctx, cast, qualified):
    rnd = open_round(NOW, objection_days=3)
    application = apply(rnd, "teacher1", "primary", NOW)
    through_panel(application, NOW)
    publish(rnd, NOW)
    with pytest.raises(Refused) as late:
        results.file_objection(user("teacher1"), application, statement="晚了",
                               now=NOW + timedelta(days=4))  # fmt: skip
    assert late.value.code == "objection_closed"


def test_an_upheld_objection_changes_nothing(ctx, cast, qualified):
    rnd = open_round(NOW)
    application = apply(rnd, "teacher1", "primary", NOW)
    through_panel(application, NOW)
    [rec] = publish(rnd, NOW)
    objection = results.file_objection(user("teacher1"), application,
                                       statement="我要申请中级", now=NOW)  # fmt: skip
    results.resolve_objection(user("cadmin"), objection, change=False,
                              resolution="维持", now=NOW)  # fmt: skip
    assert (objection.state, rec.state) == ("upheld", "active")


LAYER = """
name = "demo-college"
version = "1"
extends = "cn-vocational-default"
title = { zh = "示范学院细则", en = "Demo college rules" }
"""

STRICTER = (
    LAYER
    + """
[[levels]]
code = "primary"

[[levels.requirements]]
code = "training_hours"
threshold = 400
"""
)


def test_the_round_keeps_its_frozen_college_layer(ctx, cast, qualified):
    from pdtracker.progress import records

    admin = user("cadmin")
    institution_id = admin.institution_id
    v1 = records.create_draft(LAYER, "toml", actor=admin, now=NOW,
                              institution_id=institution_id)  # fmt: skip
    records.publish(v1, actor=admin, now=NOW)
    rnd = open_round(NOW)
    assert (rnd.ruleset_name, rnd.ruleset_version) == ("demo-college", 1)
    # The college publishes stricter rules after the round opened.
    v2 = records.create_draft(STRICTER, "toml", actor=admin, now=NOW,
                              institution_id=institution_id)  # fmt: skip
    records.publish(v2, actor=admin, now=NOW)
    assert records.active_ruleset_for(institution_id).version == 2
    application = apply(rnd, "teacher1", "primary", NOW)
    assert application.precheck_meets is True  # 360 hours: enough under version 1
    assert application.snapshot["ruleset"] == {"name": "demo-college", "version": 1}
    other = open_round(NOW, name="新规则批次", reviewers=())
    assert other.ruleset_version == 2
    with pytest.raises(Refused):
        apply(other, "teacher1", "primary", NOW)  # not meeting: a statement is needed


def test_changing_an_objection_to_reject_revokes_the_recognition(ctx, cast, qualified):
    rnd = open_round(NOW)
    application = apply(rnd, "teacher1", "primary", NOW)
    through_panel(application, NOW)
    [rec] = publish(rnd, NOW)
    objection = results.file_objection(user("teacher1"), application,
                                       statement="请复核", now=NOW)  # fmt: skip
    results.resolve_objection(user("cadmin"), objection, change=True, approve=False,
                              resolution="复核发现材料不实", now=NOW)  # fmt: skip
    assert (rec.state, rec.revoke_reason) == ("revoked", "复核发现材料不实")
    assert application.decision.outcome == "reject"
