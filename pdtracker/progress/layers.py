"""Who sees and changes which ruleset layer (docs/status-rules.md S22).

Two kinds of scope hold ruleset versions: the deployment's *regional* layer
(``institution_id`` None), which the association's staff or the deployment admin
publish, and each college's own layer, which that college's admin publishes.

- the deployment admin manages the regional layer and may view every college's;
- association staff manage the regional layer only;
- a college admin manages and views their college's layer only: any other
  version is not found (404).
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select

from pdtracker.auth.models import Role, User
from pdtracker.extensions import db
from pdtracker.org.models import Department, Institution
from pdtracker.progress.models import StoredRuleset
from pdtracker.tenancy import is_deployment_admin, managed_institution


class NoScope(LookupError):
    """The actor may publish rulesets nowhere."""


def manages_regional(actor: User) -> bool:
    """The deployment admin and the association's staff publish the regional layer."""
    return is_deployment_admin(actor) or actor.has_role(Role.STAFF)


def publishing_scope(actor: User) -> int | None:
    """Where the actor's uploads go: their college, or None for the regional layer.

    The deployment admin's and staff's go to the regional layer (even if they also
    hold a college role); NoScope for anyone else.
    """
    if manages_regional(actor):
        return None
    managed = managed_institution(actor)
    if managed is None:
        raise NoScope(actor.id)
    return managed


def may_manage(actor: User, institution_id: int | None) -> bool:
    """May the actor draft, edit and publish versions in this scope?"""
    if institution_id is None:
        return manages_regional(actor)
    return managed_institution(actor) == institution_id


def may_view(actor: User, institution_id: int | None) -> bool:
    """May the actor see versions of this scope (the deployment admin: all)?"""
    return is_deployment_admin(actor) or may_manage(actor, institution_id)


def visible_scopes(actor: User) -> list[int | None] | None:
    """The scopes whose versions the actor sees; None for every scope."""
    if is_deployment_admin(actor):
        return None
    scopes: list[int | None] = []
    if manages_regional(actor):
        scopes.append(None)
    managed = managed_institution(actor)
    if managed is not None:
        scopes.append(managed)
    return scopes


def preview_departments(actor: User, institution_id: int | None) -> list[Department]:
    """Departments a version may be tried on: the college's, or for the regional
    layer those of the colleges without a layer of their own, whom it would reach
    (deployment admin only: staff see no teachers)."""
    stmt = select(Department).order_by(Department.name, Department.id)
    if institution_id is not None:
        stmt = stmt.where(Department.institution_id == institution_id)
    elif is_deployment_admin(actor):
        own_layer = select(StoredRuleset.institution_id).where(
            StoredRuleset.is_active, StoredRuleset.institution_id.is_not(None)
        )
        stmt = stmt.where(Department.institution_id.not_in(own_layer))
    else:
        return []
    return list(db.session.scalars(stmt))


def institution_names(ids: Sequence[int | None] | None = None) -> dict[int, str]:
    """College id → name (all colleges when ``ids`` is None)."""
    stmt = select(Institution.id, Institution.name)
    if ids is not None:
        stmt = stmt.where(Institution.id.in_([i for i in ids if i is not None]))
    return {row[0]: row[1] for row in db.session.execute(stmt)}
