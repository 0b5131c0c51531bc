"""The path's offers are kept with the cached status under the marketplace's change
version (issue 16, page speed): a warm dashboard runs no offer query, and every
change of the market shows on the next request, as a new worker renders it.
"""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask

from pdtracker.extensions import db
from pdtracker.placements.market_models import DepartmentSector, PlacementOffer
from pdtracker.placements.models import Enterprise
from tests.placements.market_cast import add_market, make_offer, next_monday
from tests.progress.test_path_offers import hold_seat, shown
from tests.support import kept_and_fresh
from tests.tenancy.conftest import build_two_colleges


@pytest.fixture
def w(app: Flask) -> dict[str, Any]:
    return add_market(app, build_two_colleges(app))


def _page(app, client) -> str:
    """The dashboard as served (kept parts), equal to a new worker's."""
    kept, fresh = kept_and_fresh(app, client, "/progress/")
    assert kept == fresh
    return kept


def _change(app, edit) -> None:
    with app.app_context():
        edit()
        db.session.commit()


def test_market_changes_show_on_the_warm_dashboard(app, client, auth, w) -> None:
    offer = w["offer"]
    auth.login("teacher1")
    client.get("/progress/")
    assert set(shown(_page(app, client))) == {offer.id}

    later = make_offer(app, w["enterprise"].id, post="新岗位", starts_on=next_monday(8))
    assert set(shown(_page(app, client))) == {offer.id, later.id}

    hold_seat(app, offer.id, w["teacher2"].id)
    assert shown(_page(app, client))[offer.id]["seats-left"] == "2"

    def rename() -> None:
        db.session.get_one(Enterprise, w["enterprise"].id).name = "华为云计算公司"

    _change(app, rename)
    assert "华为云计算公司 · 新岗位" in _page(app, client)

    def withdraw() -> None:
        db.session.get_one(PlacementOffer, later.id).status = "withdrawn"

    _change(app, withdraw)
    assert set(shown(_page(app, client))) == {offer.id}

    def sectors() -> None:
        db.session.add(
            DepartmentSector(department_id=w["teacher1"].department_id, sector="医药")
        )

    _change(app, sectors)
    assert shown(_page(app, client)) == {}


def test_each_viewer_keeps_their_own_actions(app, client, auth, w) -> None:
    """The teacher may ask, their head may request: one kept status, two viewers."""
    teacher = w["teacher1"]
    auth.login("teacher1")
    assert "/ask" in _page(app, client)
    auth.logout()
    client.get("/login")  # shows the sign-out message, so the next page does not
    auth.login("head1")
    page = client.get(f"/progress/teachers/{teacher.id}").text
    assert f"/placements/offers/{w['offer'].id}/request" in page
    assert "/ask" not in page
    auth.logout()
    client.get("/login")
    auth.login("teacher1")
    assert "/ask" in _page(app, client)


def test_a_warm_dashboard_runs_no_offer_query(app, client, auth, w, count_queries):
    auth.login("teacher1")
    client.get("/progress/")
    with count_queries() as counter:
        assert client.get("/progress/").status_code == 200
    assert not [s for s in counter.statements if "placement_offers" in s]
    hold_seat(app, w["offer"].id, w["teacher2"].id)
    with count_queries() as counter:
        assert client.get("/progress/").status_code == 200
    assert [s for s in counter.statements if "placement_offers" in s]
