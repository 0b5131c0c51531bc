"""The marketplace cast on top of ``two_colleges``: enterprises, mentors, an offer.

``add_market(app, w)`` adds to the two-college dict (new keys only):
    ``enterprise``: 华为 (hosts mentor1's offers); ``other_enterprise``: 格力.
    ``mentor1``: mentor of ``enterprise``; ``mentor2``: mentor of ``other_enterprise``.
    ``offer``: an open offer of ``enterprise`` with mentor1, 3 seats, in the future.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from flask import Flask

from pdtracker.auth.models import Role
from pdtracker.extensions import db
from pdtracker.placements.market_models import EnterpriseMentor, PlacementOffer
from pdtracker.timeutil import local_today
from tests import factories


def next_monday(weeks: int = 4) -> date:
    """A Monday some weeks from today."""
    with_today = date.today() + timedelta(weeks=weeks)
    return with_today - timedelta(days=with_today.weekday())


def make_mentor(app: Flask, username: str, enterprise_id: int) -> Any:
    """A mentor account of an enterprise."""
    mentor = factories.make_user(app, username, Role.MENTOR)
    with app.app_context():
        db.session.add(EnterpriseMentor(user_id=mentor.id, enterprise_id=enterprise_id))
        db.session.commit()
    return mentor


def make_offer(app: Flask, enterprise_id: int, **fields: Any) -> PlacementOffer:
    """An open offer written directly (no service, no audit)."""
    start = fields.pop("starts_on", next_monday())
    fields.setdefault("ends_on", start + timedelta(days=25))
    fields.setdefault("working_days", 20)
    fields.setdefault("seats", 3)
    fields.setdefault("post", "数据标注工程师")
    fields.setdefault("sector", "信息技术")
    fields.setdefault("city", "深圳")
    with app.app_context():
        offer = PlacementOffer(enterprise_id=enterprise_id, starts_on=start, **fields)
        db.session.add(offer)
        db.session.commit()
        return factories.detached(offer)


def add_market(app: Flask, w: dict[str, Any]) -> dict[str, Any]:
    """The cast described in the module docstring, added to ``w``."""
    w["enterprise"] = factories.make_enterprise(
        app, "华为技术有限公司", sector="信息技术"
    )
    w["other_enterprise"] = factories.make_enterprise(
        app, "珠海格力电器股份有限公司", city="珠海", sector="智能制造"
    )
    w["mentor1"] = make_mentor(app, "mentor1", w["enterprise"].id)
    w["mentor2"] = make_mentor(app, "mentor2", w["other_enterprise"].id)
    w["offer"] = make_offer(app, w["enterprise"].id, mentor_id=w["mentor1"].id)
    with app.app_context():
        w["today"] = local_today()
    return w
