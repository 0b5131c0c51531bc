"""What an offer promises is what its placement credits (issue 15: one number).

The dashboard's path offers and the offers page's suggestions show the days an
offer credits; request → confirm → start → complete must credit exactly those,
under the default rules (calendar days) and under a college that adds up
working days.
"""

from __future__ import annotations

import io
import re
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from pdtracker.activities.models import Activity
from pdtracker.extensions import db
from pdtracker.placements.market_models import PlacementRequest
from pdtracker.placements.models import Placement
from tests.factories import publish_working_days_layer
from tests.placements.conftest import PDF
from tests.placements.market_cast import add_market, make_offer, next_monday
from tests.tenancy.conftest import build_two_colleges

ROW = re.compile(r'data-offer="(\d+)"[^>]*data-credited="([^"]*)"')
SUGGESTION = re.compile(
    r'<li><a href="/placements/offers/(\d+)">.*?</a>\s*[^<]*?:\s*(\d+) days toward',
    re.S,
)


@pytest.fixture
def w(app: Flask) -> dict[str, Any]:
    return add_market(app, build_two_colleges(app))


def _credit_after_completion(app: Flask, auth: Any, w: dict[str, Any], offer) -> int:
    """head1 requests a seat for teacher1, staff confirm, head1 starts and
    completes the placement: the days its activity credits."""
    client = auth._client
    auth.login("head1")
    client.post(
        f"/placements/offers/{offer.id}/request",
        data={"teacher_id": w["teacher1"].id},
    )
    auth.logout()
    with app.app_context():
        request_id = db.session.scalar(
            select(PlacementRequest.id).where(PlacementRequest.offer_id == offer.id)
        )
    auth.login("staff1")
    assert client.post(f"/placements/requests/{request_id}/confirm").status_code == 302
    auth.logout()
    with app.app_context():
        placement_id = db.session.scalar(
            select(PlacementRequest.placement_id).where(
                PlacementRequest.id == request_id
            )
        )
        assert placement_id is not None
    auth.login("head1")
    client.post(f"/placements/{placement_id}/start")
    client.post(
        f"/placements/{placement_id}/complete",
        data={"report": (io.BytesIO(PDF), "总结.pdf")},
        content_type="multipart/form-data",
    )
    with app.app_context():
        placement = db.session.get_one(Placement, placement_id)
        assert placement.status == "completed"
        return db.session.get_one(Activity, placement.activity_id).days


@pytest.mark.parametrize("working_college", [False, True])
@pytest.mark.parametrize(
    ("length", "working_days"),
    [
        (25, 20),  # four weeks less a day: 26 calendar days, 20 working days
        (13, 10),  # two weeks
        (6, 3),  # the host counts three days of the week
        (4, 5),  # Monday to Friday: both counts agree
    ],
)
def test_the_offer_promises_what_completion_credits(
    app, client, auth, w, working_college, length, working_days
) -> None:
    start = next_monday(6)
    offer = make_offer(
        app, w["other_enterprise"].id, post="运维工程师", sector="信息技术",
        starts_on=start, ends_on=start + timedelta(days=length),
        working_days=working_days,
    )  # fmt: skip
    if working_college:
        with app.app_context():
            publish_working_days_layer(w["teacher1"].institution_id)
    auth.login("teacher1")
    client.post("/language", data={"locale": "en"})
    dashboard = dict(ROW.findall(client.get("/progress/").get_data(as_text=True)))
    suggested = dict(
        SUGGESTION.findall(client.get("/placements/offers").get_data(as_text=True))
    )
    auth.logout()
    promised = dashboard[str(offer.id)]
    assert suggested[str(offer.id)] == promised
    expected = working_days if working_college else length + 1
    assert int(promised) == expected
    assert _credit_after_completion(app, auth, w, offer) == int(promised)
