"""Concurrent seat requests on PostgreSQL: the last seats go to exactly that many."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import func, select

from pdtracker.auth.models import Role
from pdtracker.extensions import db
from pdtracker.placements.market_models import PlacementRequest
from pdtracker.placements.models import Placement
from tests import factories
from tests.concurrency import at_once, signed_in
from tests.conftest import requires_postgres
from tests.placements.market_cast import add_market, make_offer
from tests.tenancy.conftest import build_two_colleges

REQUESTS = 20


@requires_postgres
def test_twenty_requests_for_the_last_three_seats(app: Flask) -> None:
    w = add_market(app, build_two_colleges(app))
    offer = make_offer(app, w["enterprise"].id, seats=5, mentor_id=w["mentor1"].id)
    teachers = [
        factories.make_user(app, f"race{i:02d}", Role.TEACHER, department=w["demo_ai"])
        for i in range(REQUESTS + 2)
    ]
    head = signed_in(app, "head1")
    for early in teachers[:2]:  # two seats are taken already: three are left
        head.post(
            f"/placements/offers/{offer.id}/request", data={"teacher_id": early.id}
        )
    clients = [signed_in(app, "head1") for _ in range(REQUESTS)]

    def ask(client, teacher_id: int) -> int:
        return client.post(
            f"/placements/offers/{offer.id}/request", data={"teacher_id": teacher_id}
        ).status_code

    results = at_once(
        *(
            lambda c=c, t=t: ask(c, t.id)
            for c, t in zip(clients, teachers[2:], strict=True)
        )
    )
    assert results == [302] * REQUESTS  # refused ones are told, not errors

    with app.app_context():
        requests = list(
            db.session.scalars(
                select(PlacementRequest).where(PlacementRequest.offer_id == offer.id)
            )
        )
    late = [r for r in requests if r.teacher_id not in {t.id for t in teachers[:2]}]
    assert len(late) == 3
    assert len(requests) == 5

    # Mentor and staff confirm every request at once: each is confirmed once.
    # One signed-in client per concurrent call.
    confirm_calls = [
        (lambda r=r, who=who: signed_in(app, who).post(
            f"/placements/requests/{r.id}/confirm").status_code)
        for r in late
        for who in ("mentor1", "staff1")
    ]  # fmt: skip
    assert at_once(*confirm_calls) == [302] * len(confirm_calls)

    with app.app_context():
        statuses = list(
            db.session.execute(
                select(PlacementRequest.status, PlacementRequest.placement_id).where(
                    PlacementRequest.offer_id == offer.id
                )
            )
        )
        placements = db.session.scalar(
            select(func.count())
            .select_from(Placement)
            .where(Placement.offer_id == offer.id)
        )
    confirmed = [p for s, p in statuses if s == "confirmed"]
    assert len(confirmed) == 3
    assert placements == 3
    # No seat half-taken: every confirmed request has its own placement, and the
    # seat holders are exactly the two early requests and the three confirmed.
    assert len(set(confirmed)) == 3
    assert None not in confirmed
    assert sorted(s for s, _ in statuses) == ["confirmed"] * 3 + ["requested"] * 2
