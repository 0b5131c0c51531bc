"""Access matrix for recognition: route × role × college side; outside scope is 404.

A teacher reads only their own applications; a head their department's; a
reviewer only what their panel is assigned (never their own department's); a
college admin their college's rounds, applications and recognitions; staff none;
the deployment admin every college's. A refused request changes nothing.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from pdtracker.auth.models import User
from pdtracker.extensions import db
from pdtracker.recognition import applications, panel, results, rounds
from pdtracker.timeutil import utcnow
from tests.tenancy.conftest import ACTORS, SIDES

CAST = {
    "own": ("cadmin1", "teacher1", "head1", ("head2", "teacher2")),
    "other": ("cadmin2", "north_teacher1", "north_head1", ("north_head2",)),
}
RECOGNITION_TABLES = [
    "recognition_rounds", "recognition_round_reviewers", "recognition_applications",
    "recognition_formal_checks", "recognition_votes", "recognition_decisions",
    "recognition_objections", "recognitions", "recognition_changes",
    "recognition_basis",
]  # fmt: skip


def _user(name: str) -> User:
    found = db.session.scalar(db.select(User).filter_by(username=name))
    assert found is not None
    return found


@pytest.fixture
def world(app, two_colleges) -> dict[str, dict[str, int]]:
    """Per side: a published round (recognition, pending objection) and an open one
    (an application past the formal check)."""
    now = utcnow()
    today = now.date()
    out: dict[str, dict[str, int]] = {}
    with app.app_context():
        for side in SIDES:
            admin_name, teacher_name, head_name, reviewers = CAST[side]
            admin, teacher, head = (
                _user(n) for n in (admin_name, teacher_name, head_name)
            )
            ids: dict[str, int] = {}
            for key in ("published", "open"):
                rnd = rounds.create_round(
                    admin, name=key, levels=["primary"], opens_on=today - timedelta(1),
                    closes_on=today + timedelta(30), now=now,
                )  # fmt: skip
                rounds.open_round(admin, rnd, now)
                for name in reviewers:
                    rounds.add_reviewer(admin, rnd, _user(name), now)
                a = applications.apply(teacher, rnd, level="primary",
                                       statement="申请", now=now)  # fmt: skip
                applications.formal_check(head, a, complete=True, note=None, now=now)
                db.session.flush()
                ids[f"{key}_round"], ids[f"{key}_application"] = rnd.id, a.id
                if key == "published":
                    panel.cast_vote(_user(reviewers[0]), a, approve=True, reason="可",
                                    now=now)  # fmt: skip
                    panel.decide(admin, a, approve=True, level="primary", reason=None,
                                 now=now)  # fmt: skip
                    rounds.close_round(admin, rnd, now)
                    [rec] = results.publish(admin, rnd, now)
                    objection = results.file_objection(teacher, a, statement="异议",
                                                       now=now)  # fmt: skip
                    db.session.flush()
                    ids["recognition"], ids["objection"] = rec.id, objection.id
            ids["reviewer"] = _user(reviewers[0]).id
            out[side] = ids
            db.session.commit()
    return out


# GET pages: (url, roles allowed by the page, {role: readable sides}).
ADMINS = {"college_admin": ("own",), "admin": ("own", "other")}


def _pages(w: dict[str, int]) -> list[tuple[str, tuple[str, ...], dict[str, tuple]]]:
    everyone_own = {
        "teacher": ("own",), "head": ("own",), **ADMINS,
    }  # fmt: skip
    return [
        (f"/recognition/applications/{w['open_application']}", tuple(ACTORS), everyone_own),
        (f"/recognition/applications/{w['published_application']}", tuple(ACTORS),
         everyone_own),
        (f"/recognition/rounds/{w['open_round']}", ("college_admin", "admin"), ADMINS),
        (f"/recognition/rounds/{w['published_round']}", ("college_admin", "admin"),
         ADMINS),
        (f"/recognition/recognitions/{w['recognition']}", ("college_admin", "admin"),
         ADMINS),
        (f"/recognition/rounds/{w['open_round']}/apply", ("teacher", "head"),
         {"teacher": ("own",), "head": ("own",)}),
    ]  # fmt: skip


@pytest.mark.parametrize("role", list(ACTORS))
def test_object_pages(client, auth, world, role):
    auth.login(ACTORS[role])
    for side in SIDES:
        for url, allowed, reads in _pages(world[side]):
            expected = 403 if role not in allowed else (
                200 if side in reads.get(role, ()) else 404
            )  # fmt: skip
            response = client.get(url)
            assert response.status_code == expected, (url, role, side)
            if expected == 200:
                assert response.headers["Cache-Control"] == "private, no-store"


LISTS = {
    "/recognition/": ("teacher", "head"),
    "/recognition/checks": ("head",),
    "/recognition/reviews": ("teacher", "head"),
    "/recognition/rounds": ("college_admin", "admin"),
    "/recognition/recognitions": ("college_admin", "admin"),
    "/recognition/rounds/new": ("college_admin",),
}


@pytest.mark.parametrize("role", list(ACTORS))
def test_lists_show_only_what_is_in_scope(client, auth, world, two_colleges, role):
    auth.login(ACTORS[role])
    for url, allowed in LISTS.items():
        response = client.get(url)
        if role == "admin" and url == "/recognition/rounds/new":
            # The deployment admin names the college; another college's is fine.
            assert response.status_code == 404
            north = two_colleges["north"].id
            assert client.get(f"{url}?institution_id={north}").status_code == 200
            continue
        assert response.status_code == (200 if role in allowed else 403), (url, role)
    if role in ("college_admin", "admin"):
        page = client.get("/recognition/rounds").text
        picker = f"/recognition/rounds/new?institution_id={two_colleges['north'].id}"
        assert (picker in page) is (role == "admin")
        for side in SIDES:
            link = f'/recognition/rounds/{world[side]["open_round"]}"'
            assert (link in page) is (side == "own" or role == "admin"), (role, side)
    if role == "teacher":
        page = client.get("/recognition/").text
        own = f'/recognition/applications/{world["own"]["open_application"]}"'
        other = f'/recognition/applications/{world["other"]["open_application"]}"'
        assert own in page
        assert other not in page


def _posts(w: dict[str, int]) -> list[tuple[str, dict[str, Any], tuple[str, ...]]]:
    app_id, pub_id = w["open_application"], w["published_application"]
    return [
        (f"/recognition/rounds/{w['open_round']}/close", {}, ("college_admin", "admin")),
        (f"/recognition/rounds/{w['published_round']}/publish", {},
         ("college_admin", "admin")),
        (f"/recognition/rounds/{w['open_round']}/reviewers", {"username": "teacher2"},
         ("college_admin", "admin")),
        (f"/recognition/rounds/{w['open_round']}/reviewers/{w['reviewer']}/remove", {},
         ("college_admin", "admin")),
        (f"/recognition/applications/{app_id}/check",
         {"check-outcome": "returned", "check-note": "补"},
         ("head", "college_admin", "admin")),
        (f"/recognition/applications/{app_id}/vote",
         {"vote-choice": "approve", "vote-reason": "好"}, ("teacher", "head")),
        (f"/recognition/applications/{app_id}/decide",
         {"decide-outcome": "reject", "decide-reason": "否"}, ("college_admin", "admin")),
        (f"/recognition/applications/{app_id}/resubmit", {}, ("teacher", "head")),
        (f"/recognition/applications/{pub_id}/object", {"object-statement": "再议"},
         ("teacher", "head")),
        (f"/recognition/objections/{w['objection']}/resolve",
         {"resolve-outcome": "uphold", "resolve-resolution": "维持"},
         ("college_admin", "admin")),
        (f"/recognition/recognitions/{w['recognition']}",
         {"outcome": "revoke", "reason": "撤销"}, ("college_admin", "admin")),
    ]  # fmt: skip


@pytest.mark.parametrize("role", list(ACTORS))
def test_steps_on_another_college_are_not_found_and_change_nothing(
    client, auth, world, table_rows, role
):
    auth.login(ACTORS[role])
    before = table_rows(RECOGNITION_TABLES)
    for url, data, allowed in _posts(world["other"]):
        response = client.post(url, data=data)
        if role not in allowed:
            expected = 403
        elif role == "admin":
            continue  # the deployment admin administers NORTH too
        else:
            expected = 404
        assert response.status_code == expected, (url, role)
        if role != "admin":
            assert table_rows(RECOGNITION_TABLES) == before, (url, role)


@pytest.mark.parametrize("role", ["college_admin", "admin"])
def test_admin_steps_on_own_college_work(client, auth, world, role):
    auth.login(ACTORS[role])
    w = world["own"]
    response = client.post(f"/recognition/recognitions/{w['recognition']}",
                           data={"outcome": "revoke", "reason": "撤销"})  # fmt: skip
    assert response.status_code == 302
    with client.application.app_context():
        from pdtracker.recognition.models import Recognition

        rec = db.session.get(Recognition, w["recognition"])
        assert (rec.state, rec.revoke_reason) == ("revoked", "撤销")


def test_a_reviewer_sees_only_what_is_assigned(client, auth, world):
    own_application = f"/recognition/applications/{world['own']['open_application']}"
    other_application = (
        f"/recognition/applications/{world['other']['open_application']}"
    )
    auth.login("head2")  # DEMO/ME, on DEMO's panels: teacher1 (DEMO/AI) is assigned
    assert client.get(own_application).status_code == 200
    assert client.get(other_application).status_code == 404
    assert own_application + '"' in client.get("/recognition/reviews").text
    response = client.post(f"{own_application}/vote",
                           data={"vote-choice": "approve", "vote-reason": "材料齐全"})  # fmt: skip
    assert response.status_code == 302
    auth.logout()
    auth.login("teacher2")  # on the panel too, but of teacher1's own department
    assert client.get(own_application).status_code == 404
    assert own_application + '"' not in client.get("/recognition/reviews").text
    response = client.post(f"{own_application}/vote",
                           data={"vote-choice": "approve", "vote-reason": "好"})  # fmt: skip
    assert response.status_code == 404


def test_a_teacher_never_reads_a_colleagues_application(client, auth, world):
    auth.login("teacher2")
    url = f"/recognition/applications/{world['own']['published_application']}"
    assert client.get(url).status_code == 404
