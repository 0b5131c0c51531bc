"""The deployment admin's colleges: list them, add one, name its administrators.

Plain functions that flush, never commit; the deployment admin only (a college
admin administers people inside their college through the users pages).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from pdtracker.audit import record
from pdtracker.auth.models import Role, User, UserRole
from pdtracker.extensions import db
from pdtracker.failures import CodedError
from pdtracker.org.models import Department, Institution
from pdtracker.tenancy import DEPLOYMENT_ROLES, is_deployment_admin


class CollegeRefused(CodedError):
    """A college change that is not allowed; ``code`` says why."""


@dataclass(frozen=True)
class CollegeRow:
    """A college with what the list shows of it."""

    institution: Institution
    departments: int
    people: int
    admins: list[User]


def list_colleges() -> list[CollegeRow]:
    """Every college with its departments, active people and admins (four queries)."""
    colleges = db.session.scalars(select(Institution).order_by(Institution.name)).all()
    departments = dict(
        db.session.execute(
            select(Department.institution_id, func.count()).group_by(
                Department.institution_id
            )
        ).all()
    )
    people = dict(
        db.session.execute(
            select(User.institution_id, func.count())
            .where(User.institution_id.is_not(None), User.is_active_account.is_(True))
            .group_by(User.institution_id)
        ).all()
    )
    admins: dict[int | None, list[User]] = {}
    admin_ids = select(UserRole.user_id).where(
        UserRole.role == Role.COLLEGE_ADMIN.value
    )
    for user in db.session.scalars(
        select(User).where(User.id.in_(admin_ids)).order_by(User.username)
    ):
        admins.setdefault(user.institution_id, []).append(user)
    return [
        CollegeRow(
            c, departments.get(c.id, 0), people.get(c.id, 0), admins.get(c.id, [])
        )
        for c in colleges
    ]


def make_college_admin(
    actor: User, institution: Institution, username: str, now: datetime
) -> User:
    """Give a person the college admin role for this college.

    The person must not belong to another college, nor hold a role that reaches
    beyond one college (association staff, mentors, the deployment admin).
    """
    if not is_deployment_admin(actor):
        raise CollegeRefused("deployment_only")
    user = db.session.scalar(
        select(User).where(func.lower(User.username) == username.strip().lower())
    )
    if user is None:
        raise CollegeRefused("no_such_user")
    if user.institution_id not in {None, institution.id}:
        raise CollegeRefused("other_college")
    if user.has_role(*DEPLOYMENT_ROLES):
        raise CollegeRefused("deployment_role")
    user.institution_id = institution.id
    user.set_roles(user.role_set | {Role.COLLEGE_ADMIN})
    db.session.flush()
    record(
        actor.id, "user.college_admin", "user", user.id, now=now,
        institution_id=institution.id,
    )  # fmt: skip
    return user
