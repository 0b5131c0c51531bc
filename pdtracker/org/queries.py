"""Who belongs where: reads about departments that several areas share."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import joinedload, lazyload

from pdtracker.auth.models import Role, User, UserRole
from pdtracker.extensions import db


def department_teachers(department_id: int | None) -> list[User]:
    """Active teachers of a department by name, with their profiles (one query).

    No department (a head not yet assigned one) has no teachers.
    """
    if department_id is None:
        return []
    return list(
        db.session.scalars(
            select(User)
            .join(UserRole, UserRole.user_id == User.id)
            .options(joinedload(User.teacher_profile), lazyload(User.roles))
            .where(
                User.department_id == department_id,
                User.is_active_account.is_(True),
                UserRole.role == Role.TEACHER.value,
            )
            .order_by(User.display_name, User.id)
        ).unique()
    )
