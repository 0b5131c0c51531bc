"""The round through the pages: forms, refusals, one commit per request, bounded
queries on the lists."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from pdtracker.extensions import db
from pdtracker.recognition.models import (
    Recognition,
    RecognitionApplication,
    RecognitionRound,
)
from pdtracker.timeutil import local_today, utcnow
from tests.recognition.conftest import qualify


def _round_id(app) -> int:
    with app.app_context():
        rid = db.session.scalar(
            select(RecognitionRound.id).order_by(RecognitionRound.id.desc())
        )
        assert rid is not None
        return rid


def _application(app, teacher_id: int) -> RecognitionApplication:
    with app.app_context():
        a = db.session.scalar(
            select(RecognitionApplication).where(
                RecognitionApplication.teacher_id == teacher_id
            )
        )
        assert a is not None
        db.session.expunge(a)
        return a


def test_the_whole_round_through_the_pages(app, client, auth, cast):
    qualify(app, cast["teacher1"], "primary")
    with app.app_context():
        today = local_today(utcnow())
    auth.login("cadmin")
    response = client.post("/recognition/rounds/new", data={
        "name": "2026年第一批", "levels": ["primary", "intermediate"],
        "opens_on": today.isoformat(), "closes_on": (today + timedelta(days=20)).isoformat(),
        "objection_days": 7, "validity_years": 5,
    })  # fmt: skip
    assert response.status_code == 302
    rid = _round_id(app)
    assert client.post(f"/recognition/rounds/{rid}/open").status_code == 302
    for name in ("reviewer_me", "reviewer_ai"):
        client.post(f"/recognition/rounds/{rid}/reviewers", data={"username": name})
    page = client.get(f"/recognition/rounds/{rid}").text
    assert "cn-vocational-default v1" in page
    assert "reviewer_me" in page
    auth.logout()

    auth.login("teacher1")
    form = client.get(f"/recognition/rounds/{rid}/apply?level=intermediate")
    assert 'data-meets="no"' in form.text
    refused = client.post(
        f"/recognition/rounds/{rid}/apply", data={"level": "intermediate"}
    )
    assert refused.status_code == 200
    with app.app_context():
        assert db.session.scalar(select(RecognitionApplication.id)) is None
    assert (
        'data-meets="yes"'
        in client.get(f"/recognition/rounds/{rid}/apply?level=primary").text
    )
    response = client.post(
        f"/recognition/rounds/{rid}/apply", data={"level": "primary"}
    )
    assert response.status_code == 302
    a = _application(app, cast["teacher1"].id)
    assert a.state == "submitted"
    assert "国培计划" in client.get(f"/recognition/applications/{a.id}").text
    auth.logout()

    auth.login("head_ai")
    assert (
        f'/recognition/applications/{a.id}"' in client.get("/recognition/checks").text
    )
    client.post(f"/recognition/applications/{a.id}/check",
                data={"check-outcome": "complete"})  # fmt: skip
    auth.logout()
    auth.login("reviewer_me")
    assert (
        f'/recognition/applications/{a.id}"' in client.get("/recognition/reviews").text
    )
    client.post(f"/recognition/applications/{a.id}/vote",
                data={"vote-choice": "approve", "vote-reason": "材料齐全"})  # fmt: skip
    auth.logout()
    auth.login("cadmin")
    client.post(f"/recognition/applications/{a.id}/decide",
                data={"decide-outcome": "approve", "decide-level": "primary"})  # fmt: skip
    client.post(f"/recognition/rounds/{rid}/close")
    client.post(f"/recognition/rounds/{rid}/publish")
    auth.logout()

    auth.login("teacher1")
    home = client.get("/recognition/")
    with app.app_context():
        rec = db.session.scalar(select(Recognition))
        assert rec is not None
    assert rec.certificate_number in home.text
    assert 'data-state="active"' in home.text
    response = client.post(f"/recognition/applications/{a.id}/object",
                           data={"object-statement": "我申请的是初级，无异议，测试"})  # fmt: skip
    assert response.status_code == 302
    with app.app_context():
        stored = db.session.get(RecognitionApplication, a.id)
        assert stored is not None
        assert stored.objection is not None


def test_a_refused_step_says_why_and_changes_nothing(app, client, auth, cast):
    qualify(app, cast["teacher1"], "primary")
    with app.app_context():
        from tests.recognition.flow import apply, open_round

        rnd = open_round(utcnow())
        a = apply(rnd, "teacher1", "primary", utcnow())
        db.session.commit()
        a_id = a.id
    auth.login("head_ai")
    response = client.post(f"/recognition/applications/{a_id}/check",
                           data={"check-outcome": "returned", "check-note": ""},
                           follow_redirects=True)  # fmt: skip
    assert response.status_code == 200
    assert 'data-state="submitted"' in response.text
    assert _application(app, cast["teacher1"].id).state == "submitted"


def _queries(client, count_queries, path: str) -> int:
    with count_queries() as counter:
        response = client.get(path)
    assert response.status_code == 200
    return counter.count


@pytest.mark.parametrize("page", ["round", "rounds", "checks", "recognitions", "index"])
def test_lists_take_a_bounded_number_of_queries(
    app, client, auth, cast, count_queries, page
):
    from tests.recognition.flow import apply, open_round, publish, through_panel

    now = utcnow()
    user, path = {
        "round": ("cadmin", "/recognition/rounds/{rid}"),
        "rounds": ("cadmin", "/recognition/rounds"),
        "checks": ("head_ai", "/recognition/checks"),
        "recognitions": ("cadmin", "/recognition/recognitions"),
        "index": ("teacher1", "/recognition/"),
    }[page]

    def add_round(name: str, teachers: list[str]) -> int:
        with app.app_context():
            rnd = open_round(now, name=name)
            for teacher in teachers:
                a = apply(rnd, teacher, "primary", now, statement="申请")
                if page in ("recognitions", "index"):
                    through_panel(a, now)
            if page in ("recognitions", "index"):
                publish(rnd, now)
            db.session.commit()
            return rnd.id

    rid = add_round("第一批", ["teacher1"])
    auth.login(user)
    small = _queries(client, count_queries, path.format(rid=rid))
    if page == "round":
        with app.app_context():
            rnd = db.session.get(RecognitionRound, rid)
            for teacher in ("teacher2", "teacher_me"):
                apply(rnd, teacher, "primary", now, statement="申请")
            db.session.commit()
    else:
        add_round("第二批", ["teacher1", "teacher2", "reviewer_ai"])
        add_round("第三批", ["teacher1", "teacher2"])
    assert _queries(client, count_queries, path.format(rid=rid)) == small


def test_the_application_page_takes_the_same_queries_whatever_its_size(
    app, client, auth, cast, count_queries
):
    from tests.recognition.flow import apply, open_round, user

    qualify(app, cast["teacher1"], "primary")  # 2 counted activities
    qualify(app, cast["teacher2"], "intermediate")  # 10 counted activities
    now = utcnow()
    ids = {}
    with app.app_context():
        from pdtracker.recognition import applications, panel

        rnd = open_round(now, reviewers=("reviewer_me", "head_me", "teacher_me"))
        for name, voters in (
            ("teacher1", ["reviewer_me"]),
            ("teacher2", ["reviewer_me", "head_me", "teacher_me"]),
        ):
            a = apply(rnd, name, "primary", now)
            applications.formal_check(user("head_ai"), a, complete=True, note=None,
                                      now=now)  # fmt: skip
            for voter in voters:
                panel.cast_vote(user(voter), a, approve=True, reason="可", now=now)
            ids[name] = a.id
        db.session.commit()
    auth.login("cadmin")
    small = _queries(
        client, count_queries, f"/recognition/applications/{ids['teacher1']}"
    )
    large = _queries(
        client, count_queries, f"/recognition/applications/{ids['teacher2']}"
    )
    assert large == small
