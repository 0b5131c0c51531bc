"""Enterprise mentors (企业导师): invitation, attendance, the 企业实践考核表.

A mentor account belongs to exactly one enterprise (``enterprise_mentors`` is
keyed by the user) and sees only the placements that enterprise hosts. During a
placement the mentor records the days on site; at the end the mentor scores
attendance, task completion, professional skill and work attitude and confirms
the days to credit. A placement with a mentor completes only with that
assessment, and credits the days the mentor confirmed.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable
from datetime import date, datetime

from sqlalchemy import ColumnElement, false, func, or_, select, true
from sqlalchemy.orm import joinedload

from pdtracker.audit import record
from pdtracker.auth.models import Role, User, UserRole
from pdtracker.extensions import db
from pdtracker.failures import CodedError
from pdtracker.locking import lock_or_404
from pdtracker.onboarding.activation import (
    issue_tokens,
    mail_links,
    unusable_password_hash,
)
from pdtracker.placements.market import is_broker, mentor_enterprise
from pdtracker.placements.market_models import (
    SCORE_FIELDS,
    AttendanceDay,
    EnterpriseMentor,
    MentorAssessment,
    ScoreScale,
)
from pdtracker.placements.models import Enterprise, Placement, PlacementStatus
from pdtracker.tenancy import is_deployment_admin, managed_institution


class MentorError(CodedError):
    """A refused mentor step; ``code`` says why."""


# --- scope -------------------------------------------------------------------------


def placement_clause(actor: User) -> ColumnElement[bool]:
    """Placements the actor may open (a clause over ``Placement`` joined to its teacher).

    The deployment admin: all; a college admin: their college's teachers; a
    head: their department's; a mentor: their enterprise's; a teacher: their own.
    Association staff see the marketplace and aggregates, not placements.
    """
    if is_deployment_admin(actor):
        return true()
    clauses: list[ColumnElement[bool]] = []
    if actor.has_role(Role.TEACHER, Role.HEAD):
        clauses.append(Placement.teacher_id == actor.id)
    managed = managed_institution(actor)
    if managed is not None:
        clauses.append(User.institution_id == managed)
    if actor.has_role(Role.HEAD) and actor.department_id is not None:
        clauses.append(User.department_id == actor.department_id)
    enterprise_id = mentor_enterprise(actor)
    if enterprise_id is not None:
        clauses.append(Placement.enterprise_id == enterprise_id)
    return or_(*clauses) if clauses else false()


def mentors_placement(actor: User, placement: Placement) -> bool:
    """Is the actor a mentor of the enterprise hosting this placement?"""
    enterprise_id = mentor_enterprise(actor)
    return enterprise_id is not None and enterprise_id == placement.enterprise_id


def enterprise_mentors(enterprise_id: int) -> list[User]:
    """The mentor accounts of one enterprise, by name."""
    return list(
        db.session.scalars(
            select(User)
            .join(EnterpriseMentor, EnterpriseMentor.user_id == User.id)
            .where(EnterpriseMentor.enterprise_id == enterprise_id)
            .order_by(User.display_name, User.id)
        )
    )


# --- invitation ------------------------------------------------------------------


def invite_mentor(
    enterprise: Enterprise,
    *,
    actor: User,
    username: str,
    display_name: str,
    email: str | None,
    now: datetime,
    link: Callable[[str], str] | None = None,
) -> tuple[User, str]:
    """Create a mentor account of the enterprise and its activation link's token.

    Like imported people the account has no usable password until the link is
    used; with mail set up and an address, the link is mailed too. The caller
    commits.
    """
    if not is_broker(actor):
        raise MentorError("not_allowed")
    username = username.strip()
    taken = db.session.scalar(
        select(User.id).where(
            or_(
                func.lower(User.username) == username.lower(),
                func.lower(User.email) == (email or "").lower(),
            )
        )
    )
    if taken is not None:
        raise MentorError("username_taken")
    user = User(
        username=username,
        display_name=display_name.strip() or username,
        email=email or None,
        password_hash=unusable_password_hash(),
        created_at=now,
        updated_at=now,
    )
    user.roles.append(UserRole(role=Role.MENTOR.value))
    db.session.add(user)
    db.session.flush()
    db.session.add(
        EnterpriseMentor(user_id=user.id, enterprise_id=enterprise.id, created_at=now)
    )
    tokens = issue_tokens([user], now)
    mail_links([user], tokens, link, now)
    db.session.flush()
    record(actor.id, "mentor.invite", "user", user.id, now=now,
           enterprise_id=enterprise.id)  # fmt: skip
    return user, tokens[user.id]


def attach_mentor(user: User, enterprise: Enterprise, *, now: datetime) -> None:
    """Make an existing account a mentor of one enterprise (replacing any other)."""
    if not user.has_role(Role.MENTOR):
        user.roles.append(UserRole(role=Role.MENTOR.value))
    link = db.session.get(EnterpriseMentor, user.id)
    if link is None:
        db.session.add(
            EnterpriseMentor(
                user_id=user.id, enterprise_id=enterprise.id, created_at=now
            )
        )
    else:
        link.enterprise_id = enterprise.id
    db.session.flush()


# --- attendance ------------------------------------------------------------------


def attendance_days(placement_id: int) -> list[date]:
    """The days on site recorded so far, in order."""
    return list(
        db.session.scalars(
            select(AttendanceDay.day)
            .where(AttendanceDay.placement_id == placement_id)
            .order_by(AttendanceDay.day)
        )
    )


def _lock_running_for(actor: User, placement: Placement) -> None:
    """Lock the placement for its mentor's write; it must be under way (approved
    or in progress).

    Raises MentorError: not_allowed, not_running.
    """
    if not mentors_placement(actor, placement):
        raise MentorError("not_allowed")
    lock_or_404(placement)
    if placement.status not in (
        PlacementStatus.APPROVED.value,
        PlacementStatus.IN_PROGRESS.value,
    ):
        raise MentorError("not_running")


def record_attendance(
    placement: Placement, days: Iterable[date], *, actor: User, now: datetime
) -> int:
    """Record days on site (inside the span, once each); how many are new."""
    _lock_running_for(actor, placement)
    wanted = set(days)
    if any(d < placement.starts_on or d > placement.ends_on for d in wanted):
        raise MentorError("outside_span")
    known = set(attendance_days(placement.id))
    new = sorted(wanted - known)
    db.session.add_all(
        AttendanceDay(
            placement_id=placement.id, day=d, recorded_by_id=actor.id, recorded_at=now
        )
        for d in new
    )
    db.session.flush()
    if new:
        record(actor.id, "placement.attendance", "placement", placement.id, now=now,
               days=[d.isoformat() for d in new])  # fmt: skip
    return len(new)


# --- the 考核表 --------------------------------------------------------------------


def assessment_of(placement_id: int) -> MentorAssessment | None:
    """The mentor's assessment of a placement, if filled."""
    return db.session.scalar(
        select(MentorAssessment).where(MentorAssessment.placement_id == placement_id)
    )


def submit_assessment(
    placement: Placement,
    *,
    actor: User,
    now: datetime,
    scale: str,
    scores: dict[str, int],
    confirmed_days: int,
    comments: str | None = None,
) -> MentorAssessment:
    """Fill (or correct, until completion) the 企业实践考核表."""
    _lock_running_for(actor, placement)
    scale = ScoreScale(scale).value
    low, high = (1, 4) if scale == ScoreScale.GRADE else (0, 100)
    if set(scores) != set(SCORE_FIELDS) or any(
        not low <= v <= high for v in scores.values()
    ):
        raise MentorError("bad_score")
    if not 1 <= confirmed_days <= placement.span_days:
        raise MentorError("bad_days")
    assessment = assessment_of(placement.id) or MentorAssessment(
        placement_id=placement.id
    )
    assessment.mentor_id = actor.id
    assessment.scale = scale
    for name, value in scores.items():
        setattr(assessment, name, value)
    assessment.confirmed_days = confirmed_days
    assessment.comments = (comments or "").strip() or None
    assessment.submitted_at = now
    # The confirmed days change what the placement will credit: touching it bumps
    # the teacher's version (pdtracker.changes), so cached dashboards follow.
    placement.updated_at = now
    db.session.add(assessment)
    db.session.flush()
    record(actor.id, "placement.assessment", "placement", placement.id, now=now,
           confirmed_days=confirmed_days, scale=scale)  # fmt: skip
    return assessment


def teacher_assessments(
    teacher_id: int, activity_ids: Collection[int] | None = None
) -> list[tuple[Placement, MentorAssessment]]:
    """A teacher's completed placements with the mentor's 考核表, oldest first.

    With ``activity_ids``, only the placements credited as those activities (an
    application's snapshot). For the teacher's portfolio (pdtracker/papers);
    each pair also prints alone with ``placements/assessment_print.html``. One
    query (the enterprise and the mentor loaded with them).
    """
    query = (
        select(Placement, MentorAssessment)
        .join(MentorAssessment, MentorAssessment.placement_id == Placement.id)
        .options(joinedload(Placement.enterprise), joinedload(MentorAssessment.mentor))
        .where(
            Placement.teacher_id == teacher_id,
            Placement.status == PlacementStatus.COMPLETED.value,
        )
        .order_by(Placement.starts_on, Placement.id)
    )
    if activity_ids is not None:
        query = query.where(Placement.activity_id.in_(list(activity_ids)))
    return [(p, a) for p, a in db.session.execute(query)]


def days_on_site(placement_ids: Collection[int]) -> dict[int, int]:
    """Days on site recorded per placement (one query; placements with none: 0)."""
    if not placement_ids:
        return {}
    rows = db.session.execute(
        select(AttendanceDay.placement_id, func.count())
        .where(AttendanceDay.placement_id.in_(list(placement_ids)))
        .group_by(AttendanceDay.placement_id)
    )
    found = {placement_id: count for placement_id, count in rows}
    return {i: found.get(i, 0) for i in placement_ids}
