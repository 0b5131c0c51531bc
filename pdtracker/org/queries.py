"""Who belongs where: reads about departments that several areas share."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Select, delete, select
from sqlalchemy.orm import joinedload, lazyload

from pdtracker.auth.models import Role, User, UserRole
from pdtracker.extensions import db


def department_teachers(department_id: int | None) -> list[User]:
    """Active teachers of a department by name, with their profiles (one query).

    No department (a head not yet assigned one) has no teachers.
    """
    if department_id is None:
        return []
    return active_teachers(
        User.department_id == department_id, order=(User.display_name, User.id)
    )


def college_teachers(institution_id: int | None) -> list[User]:
    """Active teachers of a college by name, with their profiles (one query)."""
    if institution_id is None:
        return []
    return active_teachers(
        User.institution_id == institution_id, order=(User.display_name, User.id)
    )


def active_teachers(
    *where: ColumnElement[bool], order: tuple[Any, ...] = (User.id,)
) -> list[User]:
    """Active teachers (with their profiles) matching ``where``, in one query."""
    return list(
        db.session.scalars(
            select(User)
            .join(UserRole, UserRole.user_id == User.id)
            .options(joinedload(User.teacher_profile), lazyload(User.roles))
            .where(
                *where,
                User.is_active_account.is_(True),
                UserRole.role == Role.TEACHER.value,
            )
            .order_by(*order)
        ).unique()
    )


def active_teacher_ids() -> Select[int]:
    """The ids of active teachers, as a subquery (what stored per-teacher rows keep)."""
    return (
        select(UserRole.user_id)
        .join(User, User.id == UserRole.user_id)
        .where(UserRole.role == Role.TEACHER.value, User.is_active_account.is_(True))
    )


def remove_inactive_teachers(column: Any) -> int:
    """Delete the stored per-teacher rows (``column``: their table's teacher id) of
    people who are no longer active teachers; how many went."""
    table = column.table
    removed = db.session.execute(
        delete(table).where(column.not_in(active_teacher_ids()))
    )
    db.session.flush()
    return int(getattr(removed, "rowcount", 0) or 0)
