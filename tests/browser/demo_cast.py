"""The demo data for whole-app browser sweeps: one login per role.

``seed(app)`` loads pdtracker.demo's data into the fresh test database and, when the
demo has no enterprise mentor, adds ``mentor1`` (mentor of the enterprise hosting
the latest placement, which it mentors) and an open offer of that enterprise.
"""

from __future__ import annotations

from datetime import timedelta

from flask import Flask
from sqlalchemy import select, update

from pdtracker.auth.models import Role, User
from pdtracker.demo import PASSWORD, seed_demo
from pdtracker.extensions import db
from pdtracker.placements.market_models import EnterpriseMentor, PlacementOffer
from pdtracker.placements.models import Enterprise, Placement
from pdtracker.timeutil import local_today
from tests import factories

# One login per role; the mentor is added when the demo has none.
LOGINS = {
    "teacher": "teacher1",
    "head": "head1",
    "college_admin": "cadmin1",
    "staff": "staff1",
    "mentor": "mentor1",
    "admin": "admin",
}


def seed(app: Flask) -> dict[str, str]:
    """The demo data on the fresh test database; return the role → username logins."""
    with app.app_context():
        seed_demo()
        users = db.session.scalars(select(User)).all()
        have = {role for user in users for role in user.role_set}
    if Role.MENTOR not in have:
        _add_mentor(app)
    return LOGINS


def _add_mentor(app: Flask) -> None:
    with app.app_context():
        placement = db.session.execute(
            select(Placement.id, Placement.enterprise_id)
            .order_by(Placement.starts_on.desc())
            .limit(1)
        ).first()
        enterprise_id = (
            placement.enterprise_id
            if placement is not None
            else db.session.scalars(select(Enterprise.id)).first()
        )
        start = local_today() + timedelta(days=30)
    mentor = factories.make_user(app, "mentor1", Role.MENTOR)
    with app.app_context():
        db.session.add(EnterpriseMentor(user_id=mentor.id, enterprise_id=enterprise_id))
        if not db.session.scalar(select(PlacementOffer.id).limit(1)):
            db.session.add(
                PlacementOffer(
                    enterprise_id=enterprise_id, mentor_id=mentor.id, post="数据标注工程师",
                    sector="信息技术", city="深圳", starts_on=start,
                    ends_on=start + timedelta(days=25), working_days=20, seats=3,
                )
            )  # fmt: skip
        if placement is not None:
            db.session.execute(
                update(Placement)
                .where(Placement.id == placement.id)
                .values(mentor_id=mentor.id)
            )
        db.session.commit()


def login(page, base: str, username: str) -> None:
    """Sign in through the login form."""
    page.goto(f"{base}/login")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state()
    assert "/login" not in page.url, f"{username} could not log in"
