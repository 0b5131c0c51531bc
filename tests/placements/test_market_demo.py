"""The demo marketplace: 12 enterprises with open offers, two mentors at work,
requests in every state, and mentor1's login."""

from __future__ import annotations

from sqlalchemy import func, select

from pdtracker.demo import seed_demo
from pdtracker.extensions import db
from pdtracker.placements.demo import seed_marketplace
from pdtracker.placements.market_models import (
    PlacementOffer,
    PlacementRequest,
    RequestStatus,
)
from pdtracker.placements.models import Placement


def test_seed_marketplace(app, client, auth):
    with app.app_context():
        loaded = seed_demo()  # seeds the marketplace through demo_adoption
        assert "Marketplace: 14 open offers from 12 enterprises." in loaded
        assert seed_marketplace() == ["Demo marketplace already loaded; nothing added."]
        db.session.commit()
        hosts = db.session.scalar(
            select(func.count(func.distinct(PlacementOffer.enterprise_id))).where(
                PlacementOffer.status == "open"
            )
        )
        assert hosts == 12
        months = set(db.session.scalars(select(PlacementOffer.starts_on)))
        assert len({(d.year, d.month) for d in months}) >= 6
        states = set(db.session.scalars(select(PlacementRequest.status)))
        assert states == {s.value for s in RequestStatus}
        under_way = db.session.scalars(
            select(Placement.mentor_id).where(
                Placement.status == "in_progress", Placement.mentor_id.is_not(None)
            )
        ).all()
        assert len(set(under_way)) == 2
        assert seed_marketplace() == ["Demo marketplace already loaded; nothing added."]
    auth.login("mentor1")
    listing = client.get("/placements/")
    assert listing.status_code == 200
    assert listing.text.count("/placements/") >= 1
