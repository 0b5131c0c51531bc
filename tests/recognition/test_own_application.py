"""A college admin who also teaches applies like anyone else, and never acts as the
round on their own application: no decision, no resolution of their own
objection, no review of their own recognition, and no sight of the panel's votes."""

from __future__ import annotations

from sqlalchemy import select

from pdtracker.auth.models import Role
from pdtracker.extensions import db
from pdtracker.recognition import lifecycle
from pdtracker.recognition.models import (
    Decision,
    Objection,
    Recognition,
    RecognitionApplication,
)
from pdtracker.timeutil import utcnow
from tests import factories
from tests.recognition.conftest import qualify
from tests.recognition.flow import apply, open_round, publish, through_panel, user


def _admin_teacher(app, cast):
    """DEMO's second college admin, also a teacher of ME."""
    person = factories.make_user(
        app, "admin_teacher", Role.COLLEGE_ADMIN, Role.TEACHER,
        department=cast["me"], display_name="管理教师",
    )  # fmt: skip
    qualify(app, person, "primary")
    return person


def test_a_college_admin_does_not_decide_on_their_own_application(
    app, client, auth, cast
):
    _admin_teacher(app, cast)
    now = utcnow()
    with app.app_context():
        from pdtracker.recognition import applications, panel

        rnd = open_round(now)
        a = apply(rnd, "admin_teacher", "primary", now)
        applications.formal_check(user("head_me"), a, complete=True, note=None,
                                  now=now)  # fmt: skip
        panel.cast_vote(user("reviewer_ai"), a, approve=False, reason="不同意",
                        now=now)  # fmt: skip
        db.session.commit()
        a_id = a.id
    auth.login("admin_teacher")
    page = client.get(f"/recognition/applications/{a_id}")
    assert page.status_code == 200
    assert f"/recognition/applications/{a_id}/decide" not in page.text
    assert 'id="votes"' not in page.text  # the panel's names and reasons
    assert "不同意" not in page.text
    response = client.post(
        f"/recognition/applications/{a_id}/decide",
        data={"decide-outcome": "approve", "decide-level": "primary"},
        follow_redirects=True,
    )
    assert response.status_code in (200, 404)
    with app.app_context():
        assert db.session.scalar(select(Decision.id)) is None
        stored = db.session.get(RecognitionApplication, a_id)
        assert stored is not None
        assert stored.state == "formal_ok"


def test_a_college_admin_does_not_resolve_their_own_objection_nor_review_their_own_recognition(
    app, client, auth, cast
):
    _admin_teacher(app, cast)
    now = utcnow()
    with app.app_context():
        rnd = open_round(now)
        a = apply(rnd, "admin_teacher", "primary", now)
        through_panel(a, now, head="head_me", reviewer="reviewer_ai")
        publish(rnd, now)
        db.session.commit()
        a_id = a.id
        rec = db.session.scalar(select(Recognition))
        assert rec is not None
        rec_id = rec.id
    auth.login("admin_teacher")
    client.post(f"/recognition/applications/{a_id}/object",
                data={"object-statement": "应为中级"})  # fmt: skip
    with app.app_context():
        objection = db.session.scalar(select(Objection))
        assert objection is not None
        assert objection.state == "pending"
        objection_id = objection.id
    page = client.get(f"/recognition/applications/{a_id}").text
    assert f"/recognition/objections/{objection_id}/resolve" not in page
    client.post(
        f"/recognition/objections/{objection_id}/resolve",
        data={"resolve-outcome": "reject", "resolve-resolution": "撤销"},
    )
    with app.app_context():
        stored = db.session.get(Objection, objection_id)
        assert stored is not None
        assert stored.state == "pending"
        # Suspended by its evidence: its holder may not restore it.
        rec = db.session.get(Recognition, rec_id)
        assert rec is not None
        lifecycle.change_state(rec, "suspended", now, reason="evidence_rejected")
        db.session.commit()
    client.post(f"/recognition/recognitions/{rec_id}",
                data={"outcome": "restore", "reason": "我自己恢复"})  # fmt: skip
    with app.app_context():
        rec = db.session.get(Recognition, rec_id)
        assert rec is not None
        assert rec.state == "suspended"
