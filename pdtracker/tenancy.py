"""Who sees which college: the tenancy rules that every scoped query applies.

One deployment serves an association and its member colleges (institutions).
A person in a department belongs to its college (``users.institution_id``, kept
equal to the department's by the database). The scopes, widest first:

- ``admin`` — the deployment: every college;
- ``college_admin`` — one college: its departments, people, imports, rules;
- ``head`` — one department of one college;
- ``teacher`` — themselves;
- ``staff`` (association) — aggregates across colleges and what colleges share
  for placements, never evidence or notes: those queries say so themselves;
- ``mentor`` — the placements their enterprise hosts (the placements area).

Queries call these helpers rather than testing roles themselves, so an object
outside the actor's scope is simply not found (the views answer 404).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import ColumnElement, and_, false, or_, select, true

from pdtracker.auth.models import Role, User, UserRole

if TYPE_CHECKING:
    from sqlalchemy.orm import InstrumentedAttribute

# Roles that administer people and rules: the deployment's admin everywhere, a
# college admin within their college.
ADMINS = (Role.ADMIN, Role.COLLEGE_ADMIN)
# Roles only the deployment admin grants (they reach beyond one college).
DEPLOYMENT_ROLES = (Role.ADMIN, Role.STAFF, Role.MENTOR)


def is_deployment_admin(actor: User) -> bool:
    """The deployment's administrator sees every college."""
    return actor.has_role(Role.ADMIN)


def managed_institution(actor: User) -> int | None:
    """The college a college admin manages, else None."""
    if actor.has_role(Role.COLLEGE_ADMIN) and actor.institution_id is not None:
        return actor.institution_id
    return None


def administers(actor: User) -> bool:
    """True for the deployment admin and for a college admin with a college."""
    return is_deployment_admin(actor) or managed_institution(actor) is not None


def manages_institution(actor: User, institution_id: int | None) -> bool:
    """May the actor administer this college (its people, rules, rounds)?"""
    if is_deployment_admin(actor):
        return True
    managed = managed_institution(actor)
    return managed is not None and managed == institution_id


def manages_user(actor: User, person: User) -> bool:
    """May the actor administer this person (edit, deactivate, import over)?

    A college admin never administers the deployment's admin or association
    staff, whatever college such an account names.
    """
    if is_deployment_admin(actor):
        return True
    if person.has_role(*DEPLOYMENT_ROLES):
        return False
    return manages_institution(actor, person.institution_id)


def grantable_roles(actor: User) -> frozenset[Role]:
    """The roles the actor may give or take: all, or a college's own roles."""
    if is_deployment_admin(actor):
        return frozenset(Role)
    if managed_institution(actor) is not None:
        return frozenset(Role) - frozenset(DEPLOYMENT_ROLES)
    return frozenset()


def own_admin_role(actor: User) -> Role | None:
    """The role by which the actor administers (which they may not drop)."""
    if is_deployment_admin(actor):
        return Role.ADMIN
    if managed_institution(actor) is not None:
        return Role.COLLEGE_ADMIN
    return None


def institution_clause(
    actor: User, column: InstrumentedAttribute[Any] | ColumnElement[Any]
) -> ColumnElement[bool]:
    """Rows of the colleges the actor administers: all, one, or none."""
    if is_deployment_admin(actor):
        return true()
    managed = managed_institution(actor)
    if managed is None:
        return false()
    return column == managed


def administered_users(actor: User) -> ColumnElement[bool]:
    """Users the actor administers (a clause on ``User``); see :func:`manages_user`."""
    if is_deployment_admin(actor):
        return true()
    beyond = select(UserRole.user_id).where(
        UserRole.role.in_([r.value for r in DEPLOYMENT_ROLES])
    )
    return and_(institution_clause(actor, User.institution_id), User.id.not_in(beyond))


def people_clause(actor: User) -> ColumnElement[bool]:
    """Users whose records the actor may read (a clause on ``User``).

    The deployment admin: everyone; a college admin: their college; a head:
    their department; anyone: themselves.
    """
    if is_deployment_admin(actor):
        return true()
    clauses: list[ColumnElement[bool]] = [User.id == actor.id]
    managed = managed_institution(actor)
    if managed is not None:
        clauses.append(User.institution_id == managed)
    if actor.has_role(Role.HEAD) and actor.department_id is not None:
        clauses.append(User.department_id == actor.department_id)
    return or_(*clauses)


def may_read_person(actor: User, person: User) -> bool:
    """The Python twin of :func:`people_clause` for a loaded row."""
    if is_deployment_admin(actor) or person.id == actor.id:
        return True
    managed = managed_institution(actor)
    if managed is not None and person.institution_id == managed:
        return True
    return (
        actor.has_role(Role.HEAD)
        and actor.department_id is not None
        and person.department_id == actor.department_id
    )
