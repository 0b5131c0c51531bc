"""Demo recognition rounds: one with published results, one open for applications.

``seed_rounds(institution, admin, teachers, now)`` makes, for the college:

- 「<year>年第一批」, closed and published: every teacher among ``teachers`` who
  reaches a level under the college's ruleset applied for their highest level
  weeks ago, passed the formal check, got the panel's votes (the other
  departments' heads) and was approved, so they hold a recognition now; one who
  reaches none applied with a statement and was not approved;
- 「<year>年第二批」, open from three days ago for a month: teacher1 can apply.

Idempotent: a round name the college already has is not made again.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import select

from pdtracker.auth.models import Role, User, UserRole
from pdtracker.extensions import db
from pdtracker.org.models import Institution
from pdtracker.recognition import applications, panel, results, rounds, snapshot
from pdtracker.recognition.errors import Refused
from pdtracker.recognition.models import RecognitionApplication, RecognitionRound
from pdtracker.timeutil import local_today


def _heads(institution_id: int) -> list[User]:
    return list(
        db.session.scalars(
            select(User)
            .join(UserRole, UserRole.user_id == User.id)
            .where(
                UserRole.role == Role.HEAD.value,
                User.institution_id == institution_id,
                User.is_active_account.is_(True),
            )
            .order_by(User.id)
        )
    )


def _exists(institution_id: int, name: str) -> bool:
    found = db.session.scalar(
        select(RecognitionRound.id).where(
            RecognitionRound.institution_id == institution_id,
            RecognitionRound.name == name,
        )
    )
    return found is not None


def _highest_reached(teacher: User, rnd: RecognitionRound, now: datetime) -> str | None:
    report = snapshot.take(teacher, rnd, rnd.levels[0], now).data["report"]
    reached = [lv["code"] for lv in report["levels"] if lv["reached"]]
    offered = [code for code in rnd.levels if code in reached]
    return offered[-1] if offered else None


def _review(
    admin: User,
    application: RecognitionApplication,
    heads: Sequence[User],
    level: str | None,
    now: datetime,
) -> None:
    checker = next((h for h in heads if applications.may_check(h, application)), admin)
    applications.formal_check(checker, application, complete=True, note=None, now=now)
    db.session.flush()
    approve = level is not None
    for head in heads:
        if panel.may_review(head, application):
            panel.cast_vote(
                head, application, approve=approve,
                reason="材料齐全，符合标准" if approve else "未达到申请等级的要求",
                now=now,
            )  # fmt: skip
    panel.decide(admin, application, approve=approve, level=level,
                 reason=None if approve else "未达到申请等级的要求", now=now)  # fmt: skip


def seed_rounds(
    institution: Institution, admin: User, teachers: Sequence[User], now: datetime
) -> list[str]:
    """Make the two demo rounds (see the module docstring); return summary lines."""
    today = local_today(now)
    year = today.year
    heads = _heads(institution.id)
    lines: list[str] = []
    closed_name, open_name = f"{year}年第一批", f"{year}年第二批"
    if not _exists(institution.id, closed_name):
        then = now - timedelta(days=40)
        rnd = rounds.create_round(
            admin, name=closed_name, levels=["primary", "intermediate", "senior"],
            opens_on=local_today(then) - timedelta(days=5),
            closes_on=local_today(then) + timedelta(days=10),
            now=then, institution_id=institution.id,
        )  # fmt: skip
        rounds.open_round(admin, rnd, then)
        for head in heads:
            rounds.add_reviewer(admin, rnd, head, then)
        db.session.flush()
        rejected_one = False
        for teacher in teachers:
            if teacher.institution_id != institution.id:
                continue
            level = _highest_reached(teacher, rnd, then)
            if level is None and (rejected_one or teacher.username == "teacher1"):
                continue
            try:
                with db.session.begin_nested():  # a refused step leaves nothing
                    application = applications.apply(
                        teacher, rnd, level=level or rnd.levels[0],
                        statement=None if level else "企业实践在进行中，申请提前认定。",
                        now=then,
                    )  # fmt: skip
                    db.session.flush()
                    _review(admin, application, heads, level, then + timedelta(days=12))
            except Refused:
                continue  # e.g. no other department's head to vote: not in the demo
            rejected_one = rejected_one or level is None
        rounds.close_round(admin, rnd, then + timedelta(days=15))
        created = results.publish(admin, rnd, now - timedelta(days=20))
        lines.append(f"Recognition round {closed_name}: {len(created)} recognitions.")
    if not _exists(institution.id, open_name):
        rnd = rounds.create_round(
            admin, name=open_name, levels=["primary", "intermediate", "senior"],
            opens_on=today - timedelta(days=3), closes_on=today + timedelta(days=30),
            now=now, institution_id=institution.id,
        )  # fmt: skip
        rounds.open_round(admin, rnd, now)
        for head in heads:
            rounds.add_reviewer(admin, rnd, head, now)
        lines.append(f"Recognition round {open_name}: open for applications.")
    db.session.flush()
    return lines
