"""Placements and the marketplace across two colleges: route × role × own/other.

The cast is ``two_colleges`` plus the marketplace's (tests/placements/market_cast):
the acting mentor is ``mentor1`` of 华为. "Own" objects are DEMO's and 华为's:
teacher1's placement hosted by 华为 with mentor1, a request for teacher2 on
华为's offer. "Other" ones are NORTH's and 格力's: north_teacher1's placement at
格力 with mentor2, a request for north_teacher2 on 格力's offer. Offers are the
association's marketplace: every head and teacher of a member college reads
them; a mentor only their enterprise's. Placements follow tenancy: a head their
department's, a college admin their college's, a mentor their enterprise's, the
deployment admin all, association staff none (they see the marketplace). Every
refused request leaves every row as it was.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from pdtracker.extensions import db
from pdtracker.placements.market_models import MentorAssessment, PlacementRequest
from tests import factories
from tests.placements.market_cast import add_market, make_offer
from tests.tenancy.conftest import ACTORS, SIDES

MARKET_ACTORS = {**ACTORS, "mentor": "mentor1"}
ROLES = tuple(MARKET_ACTORS)

ROUTES = {
    "detail": ("GET", "/placements/{placement}"),
    "print": ("GET", "/placements/{placement}/assessment/print"),
    "assessment": ("GET", "/placements/{placement}/assessment"),
    "attendance": ("POST", "/placements/{placement}/attendance"),
    "offer": ("GET", "/placements/offers/{offer}"),
    "matches": ("GET", "/placements/offers/{offer}/matches"),
    "request": ("POST", "/placements/offers/{offer}/request"),
    "confirm": ("POST", "/placements/requests/{request}/confirm"),
    "decline": ("POST", "/placements/requests/{request}/decline"),
}
ALLOWED = {
    "detail": set(ROLES),  # signed in; the scope decides
    "print": {"mentor", "head", "teacher", "college_admin", "admin"},
    "assessment": {"mentor"},
    "attendance": {"mentor"},
    "offer": {"staff", "admin", "head", "teacher", "mentor"},
    "matches": {"staff", "admin"},
    "request": {"head"},
    "confirm": {"staff", "admin", "mentor"},
    "decline": {"staff", "admin", "mentor"},
}


def _expected(route: str, role: str, side: str) -> int:
    if role not in ALLOWED[route]:
        return 403
    own = side == "own"
    if route in {"detail", "print"}:
        visible = role == "admin" or (own and role != "staff")
    elif route in {"offer", "matches"}:
        visible = role != "mentor" or own  # the marketplace is shared
    elif route in {"confirm", "decline"}:
        visible = role != "mentor" or own
    else:  # assessment, attendance (the mentor's), request (the head's)
        visible = own
    if not visible:
        return 404
    return 302 if ROUTES[route][0] == "POST" else 200


CASES = [
    pytest.param(route, role, side, id=f"{route}-{role}-{side}")
    for route in ROUTES
    for role in ROLES
    for side in SIDES
]


def _world(app, two_colleges):
    w = add_market(app, two_colleges)
    w["other_offer"] = make_offer(
        app, w["other_enterprise"].id, mentor_id=w["mentor2"].id, post="装配工程师"
    )
    start = w["offer"].starts_on
    w["placements"] = {
        "own": factories.make_placement(
            app, w["teacher1"], w["enterprise"], status="in_progress",
            starts_on=start, ends_on=start + timedelta(days=20),
            mentor_id=w["mentor1"].id, offer_id=w["offer"].id,
        ),
        "other": factories.make_placement(
            app, w["north_teacher1"], w["other_enterprise"], status="in_progress",
            starts_on=start, ends_on=start + timedelta(days=20),
            mentor_id=w["mentor2"].id, offer_id=w["other_offer"].id,
        ),
    }  # fmt: skip
    w["requests"] = {}
    with app.app_context():
        for side, teacher, offer in (
            ("own", w["teacher2"], w["offer"]),
            ("other", w["north_teacher2"], w["other_offer"]),
        ):
            found = PlacementRequest(
                offer_id=offer.id, teacher_id=teacher.id, status="requested"
            )
            db.session.add(found)
            db.session.flush()
            w["requests"][side] = found.id
            db.session.add(
                MentorAssessment(
                    placement_id=w["placements"][side].id, scale="grade",
                    attendance_score=4, task_score=3, skill_score=4,
                    attitude_score=4, confirmed_days=10,
                )
            )  # fmt: skip
        db.session.commit()
    return w


@pytest.mark.parametrize(("route", "role", "side"), CASES)
def test_placements_matrix(
    app, client, auth, two_colleges, table_rows, route, role, side
):
    w = _world(app, two_colleges)
    offer = w["offer"] if side == "own" else w["other_offer"]
    method, template = ROUTES[route]
    path = template.format(
        placement=w["placements"][side].id, offer=offer.id, request=w["requests"][side]
    )
    start = w["placements"][side].starts_on
    data = {
        "attendance": {"first_day": start.isoformat(), "last_day": start.isoformat()},
        "request": {"teacher_id": w["teacher"][side].id},
        "decline": {"reason": "名额已满"},
    }.get(route)
    auth.login(MARKET_ACTORS[role])
    before = table_rows()

    response = client.open(path, method=method, data=data)

    expected = _expected(route, role, side)
    assert response.status_code == expected, response.get_data(as_text=True)[:300]
    if expected in {403, 404} or method == "GET":
        assert table_rows() == before
    if expected == 200:
        assert response.headers["Cache-Control"] == "private, no-store"


def test_private_notes_stay_with_teacher_and_heads(app, client, auth, two_colleges):
    w = _world(app, two_colleges)
    with app.app_context():
        from pdtracker.placements.models import Placement

        db.session.get(Placement, w["placements"]["own"].id).notes = "家中有事"
        db.session.commit()
    for username, shown in (("mentor1", False), ("cadmin1", False), ("head1", True)):
        auth.login(username)
        text = client.get(f"/placements/{w['placements']['own'].id}").text
        assert ("家中有事" in text) is shown, username
        auth.logout()


def test_lists_show_only_the_scope(app, client, auth, two_colleges):
    _world(app, two_colleges)
    for username, seen, unseen in (
        ("mentor1", "teacher1", "north_teacher1"),
        ("head1", "teacher2", "north_teacher2"),
        ("cadmin1", "teacher2", "north_teacher2"),
    ):
        auth.login(username)
        listing = (
            client.get("/placements/").text + client.get("/placements/requests").text
        )
        assert seen in listing, username
        assert unseen not in listing, username
        auth.logout()


def test_a_mentor_sees_its_enterprise_placements_of_any_college(
    app, client, auth, two_colleges
):
    w = _world(app, two_colleges)
    placement = factories.make_placement(
        app, w["north_teacher2"], w["enterprise"], mentor_id=w["mentor1"].id,
        starts_on=w["offer"].starts_on, ends_on=w["offer"].ends_on,
    )  # fmt: skip
    auth.login("mentor1")
    assert client.get(f"/placements/{placement.id}").status_code == 200
    auth.logout()
    auth.login("mentor2")
    assert client.get(f"/placements/{placement.id}").status_code == 404


def test_matches_name_no_evidence_or_notes(app, client, auth, two_colleges):
    w = _world(app, two_colleges)
    auth.login("staff1")
    text = client.get(f"/placements/offers/{w['offer'].id}/matches").text
    assert "own-college lecture" not in text
    assert "证明.pdf" not in text
    # Names, departments, colleges and days needed, of both colleges; teacher1
    # (a placement) and teacher2 (a seat held on this offer) are busy.
    assert ">head1<" in text
    assert ">north_head1<" in text
    assert ">180<" in text
    assert ">teacher1<" not in text
    assert ">teacher2<" not in text
