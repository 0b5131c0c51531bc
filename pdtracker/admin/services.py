"""Admin workflows: users, roles, passwords, departments. They flush, never commit.

Every workflow takes the acting admin: the deployment admin reaches every
college, a college admin only theirs (``pdtracker.tenancy``). Lookups outside the
actor's scope answer 404, so another college's people and departments are not
found rather than forbidden.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import contains_eager, joinedload, selectinload

from pdtracker.audit import record
from pdtracker.auth.models import Role, User, UserRole
from pdtracker.extensions import db
from pdtracker.failures import CodedError
from pdtracker.org.models import Department, Institution, TeacherProfile
from pdtracker.tenancy import (
    administered_users,
    grantable_roles,
    institution_clause,
    is_deployment_admin,
    managed_institution,
    manages_institution,
    own_admin_role,
)

PER_PAGE = 25


class AdminRefused(CodedError):
    """An admin action that is not allowed; ``code`` says why."""


@dataclass(frozen=True)
class UserFields:
    """What an admin sets on a user (the password aside)."""

    username: str
    display_name: str
    email: str | None
    roles: frozenset[Role]
    department_id: int | None
    # The college of a person without a department (a college admin); a
    # department's members follow their department's college.
    institution_id: int | None = None


@dataclass(frozen=True)
class ProfileFields:
    """A teacher's profile as an admin sets it."""

    staff_number: str
    title: str | None
    is_professional_course: bool
    prior_industry_years: int


@dataclass(frozen=True)
class UserFilters:
    """Search and filters of the user list."""

    q: str = ""
    role: str = ""
    department_id: int | None = None
    status: str = ""


def user_or_404(actor: User, user_id: int) -> User:
    """A user the actor administers, else 404."""
    user: User = db.first_or_404(
        select(User).where(User.id == user_id, administered_users(actor))
    )
    return user


def department_or_404(actor: User, department_id: int) -> Department:
    """A department of a college the actor administers, else 404."""
    department: Department = db.first_or_404(
        select(Department).where(
            Department.id == department_id,
            institution_clause(actor, Department.institution_id),
        )
    )
    return department


def institution_or_404(actor: User, institution_id: int) -> Institution:
    """A college the actor administers, else 404."""
    institution: Institution = db.first_or_404(
        select(Institution).where(
            Institution.id == institution_id, institution_clause(actor, Institution.id)
        )
    )
    return institution


def departments_for(actor: User) -> list[Department]:
    """The departments the actor administers, by college then name."""
    return list(
        db.session.scalars(
            select(Department)
            .join(Institution)
            .options(contains_eager(Department.institution))
            .where(institution_clause(actor, Department.institution_id))
            .order_by(Institution.name, Department.name)
        )
    )


def institutions_for(actor: User) -> list[Institution]:
    """The colleges the actor administers, by name."""
    return list(
        db.session.scalars(
            select(Institution)
            .where(institution_clause(actor, Institution.id))
            .order_by(Institution.name)
        )
    )


def list_users(actor: User, filters: UserFilters, page: int) -> Pagination:
    """One page of the actor's users matching the filters, roles and profile loaded."""
    stmt = _filtered(select(User).where(administered_users(actor)), filters).options(
        joinedload(User.department),
        joinedload(User.institution),
        selectinload(User.teacher_profile),
    )
    return db.paginate(
        stmt.order_by(User.username), page=page, per_page=PER_PAGE, error_out=False
    )


def _filtered(stmt: Select, filters: UserFilters) -> Select:
    if filters.q:
        like = f"%{filters.q.lower()}%"
        stmt = stmt.outerjoin(TeacherProfile).where(
            or_(
                func.lower(User.username).like(like),
                func.lower(User.display_name).like(like),
                func.lower(User.email).like(like),
                func.lower(TeacherProfile.staff_number).like(like),
            )
        )
    if filters.role:
        has_role = select(UserRole.user_id).where(UserRole.role == filters.role)
        stmt = stmt.where(User.id.in_(has_role))
    if filters.department_id:
        stmt = stmt.where(User.department_id == filters.department_id)
    if filters.status in {"active", "inactive"}:
        stmt = stmt.where(User.is_active_account.is_(filters.status == "active"))
    return stmt


def create_user(
    actor: User,
    fields: UserFields,
    password: str,
    profile: ProfileFields | None,
    now: datetime,
) -> User:
    """Create a user with roles and, for teachers, a profile."""
    if fields.roles - grantable_roles(actor):
        raise AdminRefused("role_not_grantable")
    user = User(
        username=fields.username,
        display_name=fields.display_name,
        email=fields.email,
        created_at=now,
        updated_at=now,
    )
    _place(actor, user, fields)
    user.set_password(password)
    user.set_roles(set(fields.roles))
    if profile is not None:
        user.teacher_profile = TeacherProfile(**vars(profile))
    db.session.add(user)
    db.session.flush()
    record(actor.id, "user.create", "user", user.id, now=now, **_summary(user))
    return user


def update_user(
    actor: User,
    user: User,
    fields: UserFields,
    profile: ProfileFields | None,
    now: datetime,
) -> None:
    """Change a user's identity, roles, department and profile.

    Roles the actor may not grant are kept as they were (a college admin neither
    gives nor takes the deployment's roles).
    """
    grantable = grantable_roles(actor)
    if fields.roles - grantable:
        raise AdminRefused("role_not_grantable")
    roles = set(fields.roles) | (user.role_set - grantable)
    if user.id == actor.id and own_admin_role(actor) not in roles:
        raise AdminRefused("own_admin_role")
    before = _summary(user)
    user.username = fields.username
    user.display_name = fields.display_name
    user.email = fields.email
    _place(actor, user, fields)
    user.set_roles(roles)
    if profile is not None:
        if user.teacher_profile is None:
            user.teacher_profile = TeacherProfile(**vars(profile))
        else:
            for name, value in vars(profile).items():
                setattr(user.teacher_profile, name, value)
    db.session.flush()
    after = _summary(user)
    changed = {k: [before.get(k), v] for k, v in after.items() if before.get(k) != v}
    record(actor.id, "user.update", "user", user.id, now=now, changed=changed)


def _place(actor: User, user: User, fields: UserFields) -> None:
    """Put the user in a department and college the actor administers.

    A college admin's people always land in their own college; the deployment
    admin names the college of a person without a department.
    """
    institution_id = managed_institution(actor) or fields.institution_id
    if fields.department_id is not None:
        department = db.session.get(Department, fields.department_id)
        if department is None or not manages_institution(
            actor, department.institution_id
        ):
            raise AdminRefused("department_scope")
        institution_id = department.institution_id
    if not manages_institution(actor, institution_id):
        raise AdminRefused("department_scope")
    user.department_id = fields.department_id
    user.institution_id = institution_id


def _summary(user: User) -> dict:
    """The audited facts about a user, as JSON-friendly values."""
    profile = user.teacher_profile
    return {
        "username": user.username,
        "display_name": user.display_name,
        "email": user.email,
        "roles": sorted(r.value for r in user.role_set),
        "department_id": user.department_id,
        "institution_id": user.institution_id,
        "staff_number": profile.staff_number if profile else None,
        "title": profile.title if profile else None,
        "is_professional_course": profile.is_professional_course if profile else None,
        "prior_industry_years": profile.prior_industry_years if profile else None,
    }


def reset_password(actor: User, user: User, password: str, now: datetime) -> None:
    """Set a new password and end the user's sessions."""
    user.set_password(password)
    user.end_other_sessions()
    record(actor.id, "user.password_reset", "user", user.id, now=now)


def deactivate_user(actor: User, user: User, now: datetime) -> None:
    """Stop a user from logging in and end their sessions."""
    if user.id == actor.id:
        raise AdminRefused("deactivate_self")
    user.is_active_account = False
    user.end_other_sessions()
    record(actor.id, "user.deactivate", "user", user.id, now=now)


def activate_user(actor: User, user: User, now: datetime) -> None:
    """Let a deactivated user log in again."""
    user.is_active_account = True
    record(actor.id, "user.activate", "user", user.id, now=now)


def list_departments(actor: User) -> list[tuple[Department, int, list[User]]]:
    """The actor's departments with their active users and heads (three queries)."""
    departments = db.session.scalars(
        select(Department)
        .options(joinedload(Department.institution))
        .join(Institution)
        .where(institution_clause(actor, Department.institution_id))
        .order_by(Institution.name, Department.name)
    ).all()
    in_scope = institution_clause(actor, User.institution_id)
    counts = dict(
        db.session.execute(
            select(User.department_id, func.count())
            .where(
                User.department_id.is_not(None),
                User.is_active_account.is_(True),
                in_scope,
            )
            .group_by(User.department_id)
        ).all()
    )
    heads: dict[int | None, list[User]] = {}
    head_ids = select(UserRole.user_id).where(UserRole.role == Role.HEAD.value)
    for head in db.session.scalars(
        select(User)
        .where(User.id.in_(head_ids), User.department_id.is_not(None), in_scope)
        .order_by(User.display_name)
    ):
        heads.setdefault(head.department_id, []).append(head)
    return [(d, counts.get(d.id, 0), heads.get(d.id, [])) for d in departments]


def create_institution(actor: User, code: str, name: str, now: datetime) -> Institution:
    """Create an institution (the deployment admin only)."""
    if not is_deployment_admin(actor):
        raise AdminRefused("deployment_only")
    institution = Institution(code=code, name=name)
    db.session.add(institution)
    db.session.flush()
    record(
        actor.id, "institution.create", "institution", institution.id, now=now,
        code=code, name=name,
    )  # fmt: skip
    return institution


def save_department(
    actor: User,
    department: Department | None,
    *,
    institution_id: int,
    code: str,
    name: str,
    name_en: str | None,
    now: datetime,
) -> Department:
    """Create a department, or change one when ``department`` is given.

    A department moves to another college only while nobody belongs to it.
    """
    if not manages_institution(actor, institution_id):
        raise AdminRefused("department_scope")
    if (
        department is not None
        and department.institution_id != institution_id
        and db.session.scalar(
            select(User.id).where(User.department_id == department.id).limit(1)
        )
    ):
        raise AdminRefused("department_has_people")
    action = "department.update" if department else "department.create"
    if department is None:
        department = Department()
        db.session.add(department)
    department.institution_id = institution_id
    department.code = code
    department.name = name
    department.name_en = name_en
    db.session.flush()
    record(
        actor.id, action, "department", department.id, now=now,
        institution_id=institution_id, code=code, name=name, name_en=name_en,
    )  # fmt: skip
    return department
