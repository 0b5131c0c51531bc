"""The marketplace through the test client: publish, request, confirm, decline,
mentor attendance and assessment, completion crediting the mentor's days."""

from __future__ import annotations

import io
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from pdtracker.activities.models import Activity
from pdtracker.extensions import db
from pdtracker.notifications.models import Notification
from pdtracker.onboarding import activation
from pdtracker.placements.market_models import (
    MentorAssessment,
    PlacementOffer,
    PlacementRequest,
)
from pdtracker.placements.models import Placement
from pdtracker.timeutil import utcnow
from tests.placements.conftest import PDF
from tests.placements.market_cast import add_market, next_monday
from tests.tenancy.conftest import build_two_colleges


@pytest.fixture
def market(app: Flask) -> dict[str, Any]:
    return add_market(app, build_two_colleges(app))


def _request(client, offer_id: int, teacher_id: int):
    return client.post(
        f"/placements/offers/{offer_id}/request", data={"teacher_id": teacher_id}
    )


def _requests(app: Flask, offer_id: int) -> list[PlacementRequest]:
    with app.app_context():
        return list(
            db.session.scalars(
                select(PlacementRequest).where(PlacementRequest.offer_id == offer_id)
            )
        )


def test_staff_publish_an_offer(app, auth, market):
    auth.login("staff1")
    start = next_monday(8)
    response = auth._client.post(
        "/placements/offers/new",
        data={
            "enterprise_id": market["enterprise"].id, "post": "测试工程师",
            "scene": "产线", "sector": "信息技术", "skills": "Python, 测试",
            "mentor_id": market["mentor1"].id, "seats": 2,
            "starts_on": start.isoformat(),
            "ends_on": (start + timedelta(days=11)).isoformat(),
            "working_days": 10, "city": "深圳", "location": "坂田",
            "bring_back": "测试课程案例",
        },
    )  # fmt: skip
    assert response.status_code == 302, response.text
    with app.app_context():
        offer = db.session.scalar(
            select(PlacementOffer).where(PlacementOffer.post == "测试工程师")
        )
        assert offer is not None
        assert (offer.seats, offer.mentor_id) == (2, market["mentor1"].id)
        assert offer.skill_list == ["Python", "测试"]
    listing = auth._client.get("/placements/offers?sector=信息技术")
    assert "测试工程师" in listing.text


def test_a_mentor_of_another_enterprise_cannot_be_the_offer_mentor(app, auth, market):
    auth.login("staff1")
    start = next_monday(8)
    auth._client.post(
        "/placements/offers/new",
        data={
            "enterprise_id": market["enterprise"].id, "post": "错配岗位",
            "sector": "信息技术", "mentor_id": market["mentor2"].id, "seats": 2,
            "starts_on": start.isoformat(), "ends_on": start.isoformat(),
            "working_days": 1,
        },
    )  # fmt: skip
    with app.app_context():
        assert (
            db.session.scalar(
                select(PlacementOffer).where(PlacementOffer.post == "错配岗位")
            )
            is None
        )


def test_head_requests_for_own_teacher_only(app, auth, market):
    offer = market["offer"]
    auth.login("head1")
    page = auth._client.get(f"/placements/offers/{offer.id}")
    assert page.status_code == 200
    assert 'data-teacher="teacher1"' in page.text
    assert "north_teacher1" not in page.text
    assert _request(auth._client, offer.id, market["teacher1"].id).status_code == 302
    assert (
        _request(auth._client, offer.id, market["north_teacher1"].id).status_code == 404
    )
    assert _request(auth._client, offer.id, market["head2"].id).status_code == 404
    assert [r.teacher_id for r in _requests(app, offer.id)] == [market["teacher1"].id]


def test_last_seat_refused_when_full(app, auth, market):
    from tests.placements.market_cast import make_offer

    offer = make_offer(app, market["enterprise"].id, seats=1)
    auth.login("head1")
    _request(auth._client, offer.id, market["teacher1"].id)
    page = _request(auth._client, offer.id, market["teacher2"].id)
    assert page.status_code == 302
    assert [r.teacher_id for r in _requests(app, offer.id)] == [market["teacher1"].id]


def _head_requested(app, auth, market) -> PlacementRequest:
    """head1 requests the offer's seat for teacher1 (then signs out): the request."""
    offer = market["offer"]
    auth.login("head1")
    _request(auth._client, offer.id, market["teacher1"].id)
    auth.logout()
    (found,) = _requests(app, offer.id)
    return found


def _confirmed_placement(app, auth, market) -> int:
    offer = market["offer"]
    found = _head_requested(app, auth, market)
    auth.login("mentor1")
    assert (
        auth._client.post(f"/placements/requests/{found.id}/confirm").status_code == 302
    )
    (found,) = _requests(app, offer.id)
    assert found.status == "confirmed"
    assert found.placement_id is not None
    return found.placement_id


def test_mentor_confirms_creating_an_approved_placement(app, auth, market):
    placement_id = _confirmed_placement(app, auth, market)
    with app.app_context():
        placement = db.session.get(Placement, placement_id)
        assert placement.status == "approved"
        assert placement.offer_id == market["offer"].id
        assert placement.mentor_id == market["mentor1"].id
        assert placement.teacher_id == market["teacher1"].id
        kinds = set(
            db.session.scalars(
                select(Notification.kind).where(
                    Notification.recipient_id == market["teacher1"].id
                )
            )
        )
        assert "placement_request_confirmed" in kinds
    assert auth._client.get(f"/placements/{placement_id}").status_code == 200


def test_other_mentor_sees_nothing(app, auth, market):
    placement_id = _confirmed_placement(app, auth, market)
    auth.logout()
    auth.login("mentor2")
    assert auth._client.get(f"/placements/{placement_id}").status_code == 404
    assert (
        auth._client.get(f"/placements/offers/{market['offer'].id}").status_code == 404
    )
    assert market["teacher1"].display_name not in auth._client.get("/placements/").text


def test_decline_needs_a_reason_and_frees_the_seat(app, auth, market):
    offer = market["offer"]
    found = _head_requested(app, auth, market)
    auth.login("staff1")
    auth._client.post(f"/placements/requests/{found.id}/decline", data={"reason": " "})
    assert _requests(app, offer.id)[0].status == "requested"
    auth._client.post(
        f"/placements/requests/{found.id}/decline", data={"reason": "岗位已满"}
    )
    (found,) = _requests(app, offer.id)
    assert (found.status, found.decline_reason) == ("declined", "岗位已满")


def test_asking_again_after_a_decline_is_undecided(app, auth, market):
    """A declined request the teacher asks about again is pending anew: the old
    decision (who, when, why) does not stay on it."""
    offer = market["offer"]
    found = _head_requested(app, auth, market)
    auth.login("staff1")
    auth._client.post(
        f"/placements/requests/{found.id}/decline", data={"reason": "岗位已满"}
    )
    auth.logout()
    (declined,) = _requests(app, offer.id)
    assert declined.decided_at is not None
    auth.login("teacher1")
    assert auth._client.post(f"/placements/offers/{offer.id}/ask").status_code == 302
    (asked,) = _requests(app, offer.id)
    assert asked.status == "asked"
    assert (asked.decided_by_id, asked.decided_at, asked.decline_reason) == (
        None, None, None,
    )  # fmt: skip


def test_completion_requires_the_assessment_and_credits_confirmed_days(
    app, auth, market
):
    placement_id = _confirmed_placement(app, auth, market)
    client = auth._client
    with app.app_context():
        placement = db.session.get(Placement, placement_id)
        start, end = placement.starts_on, placement.ends_on
    client.post(
        f"/placements/{placement_id}/attendance",
        data={
            "first_day": start.isoformat(),
            "last_day": (start + timedelta(days=6)).isoformat(),
        },
    )
    auth.logout()
    auth.login("head1")
    client.post(f"/placements/{placement_id}/start")
    client.post(
        f"/placements/{placement_id}/complete",
        data={"report": (io.BytesIO(PDF), "总结.pdf")},
        content_type="multipart/form-data",
    )
    with app.app_context():
        assert db.session.get(Placement, placement_id).status == "in_progress"
    auth.logout()
    auth.login("mentor1")
    page = client.post(
        f"/placements/{placement_id}/assessment",
        data={"attendance_score": "优", "task_score": "良", "skill_score": "优",
              "attitude_score": "优", "confirmed_days": 12, "comments": "认真"},
    )  # fmt: skip
    assert page.status_code == 302, page.text
    printable = client.get(f"/placements/{placement_id}/assessment/print")
    assert "企业实践考核表" in printable.text
    assert ">12<" in printable.text
    auth.logout()
    auth.login("head1")
    client.post(
        f"/placements/{placement_id}/complete",
        data={"report": (io.BytesIO(PDF), "总结.pdf")},
        content_type="multipart/form-data",
    )
    with app.app_context():
        placement = db.session.get(Placement, placement_id)
        assert placement.status == "completed"
        activity = db.session.get(Activity, placement.activity_id)
        assert activity.days == 12
        assert (activity.ends_on - activity.starts_on).days + 1 == 12
        assert activity.starts_on == start
        assert activity.ends_on <= end
        assert (
            db.session.scalar(select(func.count()).select_from(MentorAssessment)) == 1
        )


def test_teacher_asks_the_head(app, auth, market):
    offer = market["offer"]
    auth.login("teacher1")
    assert auth._client.post(f"/placements/offers/{offer.id}/ask").status_code == 302
    (found,) = _requests(app, offer.id)
    assert found.status == "asked"
    auth.logout()
    auth.login("head1")
    _request(auth._client, offer.id, market["teacher1"].id)
    assert _requests(app, offer.id)[0].status == "requested"


def test_invited_mentor_activates_with_the_link(app, auth, market):
    auth.login("staff1")
    page = auth._client.post(
        f"/placements/enterprises/{market['enterprise'].id}/mentors",
        data={"username": "mentor9", "display_name": "王导师", "email": ""},
    )
    assert page.status_code == 200
    token = page.text.split("/activate/")[1].split("<")[0].strip()
    with app.app_context():
        assert activation.is_usable(token, utcnow())


def _pages(client, market) -> dict[str, str]:
    offer = market["offer"].id
    return {
        "list": "/placements/offers",
        "matches": f"/placements/offers/{offer}/matches",
        "offer": f"/placements/offers/{offer}",
    }


def _count(client, count_queries, path: str) -> int:
    client.get(path)
    with count_queries() as counter:
        assert client.get(path).status_code == 200
    return counter.count


def test_query_counts_do_not_grow_with_offers_and_teachers(
    app, auth, market, count_queries
):
    from tests import factories
    from tests.placements.market_cast import make_offer

    counts = {}
    for round_ in ("few", "many"):
        for user in ("staff1", "head1", "teacher1"):
            auth.login(user)
            for name, path in _pages(auth._client, market).items():
                if (user, name) in {("teacher1", "matches"), ("head1", "matches")}:
                    continue
                counts[(round_, user, name)] = _count(auth._client, count_queries, path)
            auth.logout()
        if round_ == "few":
            for n in range(12):
                make_offer(app, market["enterprise"].id, post=f"岗位{n}")
                teacher = factories.make_user(
                    app, f"more{n}", "teacher", department=market["demo_ai"]
                )
                factories.make_placement(
                    app, teacher, market["enterprise"],
                    starts_on=market["offer"].starts_on, ends_on=market["offer"].ends_on,
                )  # fmt: skip
    few = {k[1:]: v for k, v in counts.items() if k[0] == "few"}
    many = {k[1:]: v for k, v in counts.items() if k[0] == "many"}
    assert few == many
    assert max(many.values()) <= 20


def test_teacher_assessments_for_the_portfolio(app, auth, market):
    from pdtracker.placements.mentors import teacher_assessments

    test_completion_requires_the_assessment_and_credits_confirmed_days(
        app, auth, market
    )
    with app.app_context():
        found = teacher_assessments(market["teacher1"].id)
        assert [a.confirmed_days for _, a in found] == [12]
        assert teacher_assessments(market["teacher2"].id) == []
