"""A token opens its own feed and nothing else; department feeds carry no private text."""

from __future__ import annotations

import re
from datetime import time, timedelta

import pytest

from pdtracker.auth.models import Role
from pdtracker.calendar.ics import feed_uid
from pdtracker.calendar.models import FeedScope
from pdtracker.timeutil import SHANGHAI, utcnow
from tests.calendar.feedkit import FeedKit, get

NOTES = "私人备注：身体原因需调整时间"
TASKS = "任务：参与产线数字化改造"
MENTOR_CONTACT = "mentor.wang@factory.example.com"
ACTIVITY_NOTES = "个人笔记：别忘了带证书复印件"
EMAIL = re.compile(rb"[\w.+-]+@[\w-]+\.[\w.-]+")


@pytest.fixture
def kit(app) -> FeedKit:
    """Factories bound to the app."""
    return FeedKit(app)


@pytest.fixture
def teacher1_rows(kit, world) -> dict[str, str]:
    """teacher1's registration, placement and planned activity, as UIDs."""
    t1 = world["teacher1"]
    today = utcnow().astimezone(SHANGHAI).date()
    event = kit.event(title="只有教师一报名的讲座")
    kit.register(t1, event)
    enterprise = kit.enterprise()
    placement = kit.placement(
        t1, enterprise, notes=NOTES, tasks=TASKS, mentor_name="王工",
        mentor_contact=MENTOR_CONTACT,
    )  # fmt: skip
    activity = kit.activity(
        t1, notes=ACTIVITY_NOTES, starts_on=today + timedelta(days=3),
        start_time=time(9), end_time=time(11),
    )  # fmt: skip
    domain = kit.app.config["FEED_DOMAIN"]
    return {
        "event": event.uid,
        "placement": feed_uid("placement", placement.id, domain),
        "activity": feed_uid("activity", activity.id, domain),
    }


def test_teacher_b_never_sees_teacher_a(app, kit, world, teacher1_rows) -> None:
    mine = get(app, kit.url(world["teacher1"])).data
    for uid in teacher1_rows.values():
        assert uid.encode() in mine
    theirs = get(app, kit.url(world["teacher2"])).data
    for uid in teacher1_rows.values():
        assert uid.encode() not in theirs
    assert "只有教师一报名的讲座".encode() not in theirs


def test_department_feed_has_no_notes_tasks_contacts_or_emails(
    app, kit, world, teacher1_rows
) -> None:
    data = get(app, kit.url(world["head1"], FeedScope.DEPARTMENT)).data
    assert teacher1_rows["placement"].encode() in data
    assert teacher1_rows["event"].encode() in data
    text = re.sub(r"\r\n[ \t]", "", data.decode())
    for secret in (NOTES, TASKS, MENTOR_CONTACT, ACTIVITY_NOTES, "王工"):
        assert secret not in text
    for user in world.values():
        if getattr(user, "email", None):
            assert user.email not in text
    # The only "@" values are UIDs (and the "name @ enterprise" summaries).
    lines = [ln for ln in text.split("\r\n") if EMAIL.search(ln.encode())]
    assert all(ln.startswith("UID:") for ln in lines), lines
    # Planned activities are the teacher's own business.
    assert teacher1_rows["activity"].encode() not in data


def test_teacher_feed_leaves_out_private_notes_and_contacts(
    app, kit, world, teacher1_rows
) -> None:
    text = re.sub(r"\r\n[ \t]", "", get(app, kit.url(world["teacher1"])).data.decode())
    assert NOTES not in text
    assert ACTIVITY_NOTES not in text
    assert MENTOR_CONTACT not in text
    assert TASKS in text  # the teacher's own plan for the placement


def test_other_department_head_sees_nothing_of_ours(
    app, kit, world, teacher1_rows
) -> None:
    data = get(app, kit.url(world["head2"], FeedScope.DEPARTMENT)).data
    for uid in teacher1_rows.values():
        assert uid.encode() not in data
    assert b"BEGIN:VEVENT" not in data
    assert b"teacher1" not in data


def test_a_token_opens_only_its_own_route(app, kit, world) -> None:
    teacher_token = kit.token(world["head1"], FeedScope.TEACHER)
    department_token = kit.token(world["head1"], FeedScope.DEPARTMENT)
    assert get(app, f"/calendar/t/{teacher_token}.ics").status_code == 200
    assert get(app, f"/calendar/d/{department_token}.ics").status_code == 200
    assert get(app, f"/calendar/d/{teacher_token}.ics").status_code == 404
    assert get(app, f"/calendar/t/{department_token}.ics").status_code == 404
    assert get(app, f"/calendar/{teacher_token}.ics").status_code == 404


def test_tokens_are_per_user_and_scope_and_unguessable(kit, world) -> None:
    tokens = {
        kit.token(world["teacher1"]),
        kit.token(world["teacher2"]),
        kit.token(world["head1"]),
        kit.token(world["head1"], FeedScope.DEPARTMENT),
    }
    assert len(tokens) == 4
    assert all(re.fullmatch(r"[A-Za-z0-9_-]{43}", t) for t in tokens)
    assert kit.token(world["teacher1"]) in tokens  # stable until rotated


def test_rotating_one_feed_leaves_the_other(app, client, auth, kit, world) -> None:
    teacher_url = kit.url(world["head1"])
    department_url = kit.url(world["head1"], FeedScope.DEPARTMENT)
    auth.login("head1")
    assert client.post("/calendar/rotate/department").status_code == 302
    assert get(app, department_url).status_code == 404
    assert get(app, teacher_url).status_code == 200


def test_head_moved_to_another_department_sees_the_new_one(
    app, kit, world, teacher1_rows
) -> None:
    from pdtracker.auth.models import User

    url = kit.url(world["head1"], FeedScope.DEPARTMENT)
    before = get(app, url)
    assert teacher1_rows["placement"].encode() in before.data
    kit.update(User, world["head1"].id, department_id=world["other"].id)
    after = get(app, url, **{"If-None-Match": before.headers["ETag"]})
    assert after.status_code == 200
    assert teacher1_rows["placement"].encode() not in after.data


def test_staff_without_teaching_role_has_no_private_feed(
    app, client, auth, kit, make_user, world
) -> None:
    make_user("clerk", Role.STAFF)
    auth.login("clerk")
    assert client.post("/calendar/rotate/teacher").status_code == 404
