"""The demo's recognition rounds: published results, and an open round for teacher1."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from pdtracker.auth.models import Role, User, UserRole
from pdtracker.demo import seed_demo
from pdtracker.extensions import db
from pdtracker.org.models import Institution
from pdtracker.recognition import applications
from pdtracker.recognition.demo import seed_rounds
from pdtracker.recognition.models import Recognition, RecognitionRound

NOW = datetime(2026, 12, 7, 2, tzinfo=UTC)


def test_seed_rounds(ctx):
    loaded = seed_demo(NOW.date())  # seeds the rounds through demo_adoption
    assert sum(line.startswith("Recognition round") for line in loaded) == 2
    institution = db.session.scalar(select(Institution).filter_by(code="DEMO"))
    admin = db.session.scalar(select(User).filter_by(username="admin"))
    teachers = list(
        db.session.scalars(
            select(User).join(UserRole).where(UserRole.role == Role.TEACHER.value)
        )
    )
    closed, opened = db.session.scalars(
        select(RecognitionRound).order_by(RecognitionRound.id)
    ).all()
    assert (closed.state, opened.state) == ("published", "open")
    recognitions = db.session.scalars(select(Recognition)).all()
    assert len(recognitions) >= 3
    assert {r.state for r in recognitions} == {"active"}
    # Under the demo college's own layer (cn-college-example), frozen into the round.
    assert closed.ruleset_name == "cn-college-example"
    assert {r.level for r in recognitions} <= set(closed.levels)
    teacher1 = db.session.scalar(select(User).filter_by(username="teacher1"))
    application = applications.apply(teacher1, opened, level="primary",
                                     statement="即将完成企业实践", now=NOW)  # fmt: skip
    assert application.state == "submitted"
    # Idempotent: a second call makes nothing.
    assert seed_rounds(institution, admin, teachers, NOW) == []
