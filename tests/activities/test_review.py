"""The department head's verification queue, verify and reject."""

from __future__ import annotations

from sqlalchemy import select

from pdtracker.audit import AuditEntry
from pdtracker.extensions import db


def _audit(app) -> list[AuditEntry]:
    with app.app_context():
        rows = list(db.session.scalars(select(AuditEntry).order_by(AuditEntry.id)))
        for row in rows:
            db.session.expunge(row)
        return rows


def test_queue_lists_only_completed_activities_of_own_department(
    client, auth, world, make_activity, make_user, make_evidence
) -> None:
    waiting = make_activity(world["teacher1"], title="待审核的讲座")
    make_evidence(waiting, name="签到表.pdf")
    make_activity(world["teacher2"], title="同事的培训", kind_code="training")
    make_activity(world["teacher1"], title="计划中的会议", status="planned")
    make_activity(world["teacher1"], title="已核验的讲座", status="verified")
    make_activity(
        world["teacher1"], title="被退回的讲座", status="rejected", rejection_reason="x"
    )
    make_activity(world["head1"], title="系主任自己的讲座")
    outsider = make_user("teacher9", department=world["other"])
    make_activity(outsider, title="机电系的讲座")
    auth.login("head1")

    page = client.get("/activities/review").get_data(as_text=True)

    assert "待审核的讲座" in page
    assert "同事的培训" in page
    assert "签到表.pdf" in page
    assert f"/activities/{waiting.id}/evidence/" in page
    for hidden in (
        "计划中的会议",
        "已核验的讲座",
        "被退回的讲座",
        "系主任自己的讲座",
        "机电系的讲座",
    ):
        assert hidden not in page


def test_other_head_sees_their_own_department_only(
    client, auth, world, make_activity, make_user
) -> None:
    make_activity(world["teacher1"], title="人工智能系的讲座")
    outsider = make_user("teacher9", department=world["other"])
    make_activity(outsider, title="机电系的讲座")
    auth.login("head2")
    page = client.get("/activities/review").get_data(as_text=True)
    assert "机电系的讲座" in page
    assert "人工智能系的讲座" not in page


def test_verify_locks_and_audits(
    app, client, auth, world, make_activity, load_activity
) -> None:
    activity = make_activity(world["teacher1"])
    auth.login("head1")
    response = client.post(f"/activities/{activity.id}/verify")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/activities/review")
    row = load_activity(activity.id)
    assert row.status == "verified"
    assert row.verified_by_id == world["head1"].id
    assert row.verified_at is not None
    [entry] = _audit(app)
    assert (entry.actor_id, entry.action, entry.object_type, entry.object_id) == (
        world["head1"].id,
        "activity.verify",
        "activity",
        activity.id,
    )
    # Verified twice: refused, nothing more recorded.
    again = client.post(f"/activities/{activity.id}/verify")
    assert again.status_code == 302
    assert len(_audit(app)) == 1


def test_reject_needs_a_reason_and_audits_it(
    app, client, auth, world, make_activity, load_activity, table_counts
) -> None:
    activity = make_activity(world["teacher1"])
    auth.login("head1")
    client.post("/language", data={"locale": "en"})
    before = table_counts()
    for reason in ("", "   ", "理" * 501):
        response = client.post(
            f"/activities/{activity.id}/reject", data={"reason": reason}
        )
        assert response.status_code == 400
        assert "is-invalid" in response.get_data(as_text=True)
    assert table_counts() == before
    assert load_activity(activity.id).status == "completed"

    response = client.post(
        f"/activities/{activity.id}/reject?next=detail",
        data={"reason": "缺少企业盖章的证明"},
    )
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/activities/{activity.id}")
    row = load_activity(activity.id)
    assert (row.status, row.rejection_reason) == ("rejected", "缺少企业盖章的证明")
    [entry] = _audit(app)
    assert entry.action == "activity.reject"
    assert entry.details == {"reason": "缺少企业盖章的证明"}
    assert entry.actor_id == world["head1"].id


def test_teacher_sees_the_rejection_reason(client, auth, world, make_activity) -> None:
    activity = make_activity(
        world["teacher1"], status="rejected", rejection_reason="请补充照片"
    )
    auth.login("teacher1")
    page = client.get(f"/activities/{activity.id}").get_data(as_text=True)
    assert "请补充照片" in page


def test_planned_activity_cannot_be_verified(
    client, auth, world, make_activity, load_activity, table_counts
) -> None:
    activity = make_activity(world["teacher1"], status="planned")
    auth.login("head1")
    before = table_counts()
    response = client.post(f"/activities/{activity.id}/verify")
    assert response.status_code == 302
    assert table_counts() == before
    assert load_activity(activity.id).status == "planned"


def test_verified_activity_disappears_from_the_queue(
    client, auth, world, make_activity
) -> None:
    activity = make_activity(world["teacher1"], title="马上核验")
    auth.login("head1")
    assert "马上核验" in client.get("/activities/review").get_data(as_text=True)
    client.post(f"/activities/{activity.id}/verify")
    assert "马上核验" not in client.get("/activities/review").get_data(as_text=True)


def test_an_administrator_reviews_what_heads_log_themselves(
    client, auth, world, make_activity, load_activity
) -> None:
    """No head reviews their own work; the admin's queue holds the heads' activities."""
    own = make_activity(world["head1"], title="系主任的企业调研")
    teachers = make_activity(world["teacher1"], title="教师一的讲座")
    auth.login("head1")
    assert "系主任的企业调研" not in client.get("/activities/review").get_data(
        as_text=True
    )
    assert client.post(f"/activities/{own.id}/verify").status_code == 403
    auth.logout()
    auth.login("head2")  # another department's head: not theirs to see
    assert client.post(f"/activities/{own.id}/verify").status_code == 404
    auth.logout()
    auth.login("admin")
    queue = client.get("/activities/review").get_data(as_text=True)
    assert "系主任的企业调研" in queue
    assert "教师一的讲座" not in queue  # the department's head reviews those
    assert client.post(f"/activities/{teachers.id}/verify").status_code == 404
    detail = client.get(f"/activities/{own.id}").get_data(as_text=True)
    assert f"/activities/{own.id}/verify" in detail
    assert client.post(f"/activities/{own.id}/verify").status_code == 302
    verified = load_activity(own.id)
    assert verified.status == "verified"
    assert verified.verified_by_id == world["admin"].id
    assert load_activity(teachers.id).status == "completed"


def test_an_administrator_who_is_a_head_still_cannot_review_their_own(
    app, client, auth, world, make_activity, load_activity
) -> None:
    from pdtracker.auth.models import Role, User
    from pdtracker.extensions import db

    with app.app_context():
        head = db.session.get(User, world["head1"].id)
        head.set_roles({Role.HEAD, Role.TEACHER, Role.ADMIN})
        db.session.commit()
    own = make_activity(world["head1"], title="兼任管理员的系主任的活动")
    auth.login("head1")
    assert "兼任管理员" not in client.get("/activities/review").get_data(as_text=True)
    assert client.post(f"/activities/{own.id}/verify").status_code == 403
    assert load_activity(own.id).status == "completed"
