"""Service-level steps of a round, shared by the recognition tests and the matrix."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from pdtracker.auth.models import User
from pdtracker.extensions import db
from pdtracker.recognition import applications, panel, results, rounds
from pdtracker.recognition.models import RecognitionApplication, RecognitionRound


def user(username: str) -> User:
    """A user by name in the current session."""
    found = db.session.scalar(db.select(User).filter_by(username=username))
    assert found is not None
    return found


def open_round(
    now: datetime,
    reviewers: tuple[str, ...] = ("reviewer_ai", "reviewer_me"),
    **kw: Any,
) -> RecognitionRound:
    """A round of DEMO, open today, with its panel (cadmin acts)."""
    admin = user("cadmin")
    today = now.date()
    rnd = rounds.create_round(
        admin,
        name=kw.pop("name", "2026 认定"),
        levels=kw.pop("levels", ["primary", "intermediate", "senior"]),
        opens_on=kw.pop("opens_on", today - timedelta(days=1)),
        closes_on=kw.pop("closes_on", today + timedelta(days=30)),
        now=now,
        **kw,
    )
    rounds.open_round(admin, rnd, now)
    for name in reviewers:
        rounds.add_reviewer(admin, rnd, user(name), now)
    db.session.flush()
    return rnd


def apply(
    rnd: RecognitionRound,
    teacher: str,
    level: str,
    now: datetime,
    statement: str | None = None,
) -> RecognitionApplication:
    """The teacher applies."""
    return applications.apply(
        user(teacher), rnd, level=level, statement=statement, now=now
    )


def through_panel(
    application: RecognitionApplication,
    now: datetime,
    *,
    head: str = "head_ai",
    reviewer: str = "reviewer_me",
    approve: bool = True,
    level: str | None = None,
) -> None:
    """Formal check, one vote and the decision."""
    applications.formal_check(
        user(head), application, complete=True, note=None, now=now
    )
    panel.cast_vote(
        user(reviewer), application, approve=approve, reason="材料齐全", now=now
    )
    panel.decide(user("cadmin"), application, approve=approve, level=level,
                 reason=None if approve else "不符合", now=now)  # fmt: skip


def publish(rnd: RecognitionRound, now: datetime) -> list[Any]:
    """Close and publish the round."""
    admin = user("cadmin")
    if rnd.state == "open":
        rounds.close_round(admin, rnd, now)
    created = results.publish(admin, rnd, now)
    db.session.flush()
    return created


def day(d: date, hour: int = 2) -> datetime:
    """A UTC instant on that date (10:00 in Shanghai)."""
    from datetime import UTC

    return datetime(d.year, d.month, d.day, hour, tzinfo=UTC)
