"""The demo's adoption layer: rules per college, recognition rounds, the marketplace.

Runs after the colleges, people and records exist (pdtracker.demo.seed_demo) and
before its commit. Each area seeds itself; this module only says in which order:

1. rule layers: the province example as the regional layer, the college example
   as the demo college's own layer (cadmin1 publishes it);
2. recognition rounds in the demo college: one closed round with published
   results (certificates are issued when a teacher first downloads one) and one
   open round teacher1 can apply to;
3. the placement marketplace: enterprises' offers, mentor1 and mentor2 with
   placements in progress, seat requests in every state;
4. the stored standings, so the association dashboard has figures at once.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import select

from pdtracker.auth.models import Role, User, UserRole
from pdtracker.extensions import db
from pdtracker.org.models import Institution
from pdtracker.placements.demo import seed_marketplace
from pdtracker.progress import standings
from pdtracker.progress.demo_rules import seed_rule_layers
from pdtracker.recognition.demo import seed_rounds

MENTOR_LOGINS = ("mentor1", "mentor2")


def seed_adoption(today: date, now: datetime, college_code: str) -> list[str]:
    """Seed the layers above for the demo college; lines describing them."""
    db.session.flush()
    college = db.session.scalar(select(Institution).filter_by(code=college_code))
    staff = _user("staff1")
    cadmin = _user("cadmin1")
    if college is None or staff is None or cadmin is None:
        return ["Adoption demo not loaded: load the demo first."]
    seed_rule_layers(staff, {college: cadmin}, now)
    teachers = list(
        db.session.scalars(
            select(User)
            .join(UserRole, UserRole.user_id == User.id)
            .where(
                UserRole.role == Role.TEACHER.value,
                User.institution_id == college.id,
            )
            .order_by(User.username)
        )
    )
    lines = seed_rounds(college, cadmin, teachers, now)
    lines += seed_marketplace(today, now)
    db.session.flush()
    counts = standings.refresh(now, full=True)
    lines.append(f"Standings stored: {counts['standings_evaluated']} teachers")
    return lines


def _user(username: str) -> User | None:
    return db.session.scalar(select(User).filter_by(username=username))
