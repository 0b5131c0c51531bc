"""Users, their roles, login attempts, throttle counters and password-reset tokens."""

from __future__ import annotations

import enum
import secrets
from datetime import datetime
from typing import TYPE_CHECKING, Any

from flask import current_app
from flask_login import UserMixin
from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    String,
    UniqueConstraint,
    event,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from pdtracker.database import Model
from pdtracker.timeutil import UTCDateTime, utcnow

if TYPE_CHECKING:
    from pdtracker.org.models import Department, Institution, TeacherProfile


class Role(enum.StrEnum):
    """What a user may do; a user may hold several."""

    TEACHER = "teacher"
    HEAD = "head"
    # One college's administrator: its departments, people, imports, rules, rounds.
    COLLEGE_ADMIN = "college_admin"
    # The association's staff: events, offers, aggregates across colleges.
    STAFF = "staff"
    # An enterprise's mentor: only the placements that enterprise hosts.
    MENTOR = "mentor"
    # The deployment's administrator: everything.
    ADMIN = "admin"


ROLE_VALUES = ", ".join(f"'{r.value}'" for r in Role)


class User(UserMixin, Model):
    """A person who logs in."""

    __tablename__ = "users"
    __table_args__ = (
        # A member of a department belongs to that department's college: the pair
        # must name a real department row, so the two can never disagree.
        CheckConstraint(
            "department_id IS NULL OR institution_id IS NOT NULL",
            name="department_has_institution",
        ),
        ForeignKeyConstraint(
            ["department_id", "institution_id"],
            ["departments.id", "departments.institution_id"],
            name="fk_users_department_institution",
        ),
        # The target of teacher_profiles' (user_id, institution_id) foreign key.
        UniqueConstraint("id", "institution_id", name="uq_users_id_institution"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(100))
    email: Mapped[str | None] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(256))
    is_active_account: Mapped[bool] = mapped_column("is_active", default=True)
    # Bumped to end every other session (password change, deactivation).
    session_version: Mapped[int] = mapped_column(default=1)
    department_id: Mapped[int | None] = mapped_column(
        ForeignKey("departments.id", ondelete="SET NULL"), index=True
    )
    # The college (tenant) a person belongs to; None for association staff and
    # the deployment's admin. Kept equal to the department's by set_department.
    institution_id: Mapped[int | None] = mapped_column(
        ForeignKey("institutions.id", ondelete="RESTRICT"), index=True
    )
    locale: Mapped[str] = mapped_column(String(16), default="zh_Hans_CN")
    timezone: Mapped[str] = mapped_column(String(64), default="Asia/Shanghai")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime, default=utcnow, onupdate=utcnow
    )

    department: Mapped[Department | None] = relationship(foreign_keys=[department_id])
    institution: Mapped[Institution | None] = relationship(
        foreign_keys=[institution_id]
    )
    roles: Mapped[list[UserRole]] = relationship(
        cascade="all, delete-orphan", lazy="selectin"
    )
    teacher_profile: Mapped[TeacherProfile | None] = relationship(
        back_populates="user",
        cascade="all, delete-orphan",
        # Joined on the user alone; the profile's college follows by its own key.
        foreign_keys="TeacherProfile.user_id",
    )

    @property
    def is_active(self) -> bool:  # Flask-Login reads this
        return self.is_active_account

    def get_id(self) -> str:
        """Session identity; changes when session_version is bumped."""
        return f"{self.id}:{self.session_version}"

    def set_password(self, password: str) -> None:
        """Hash with scrypt, a memory-hard KDF (cost set by PASSWORD_HASH_METHOD)."""
        method = current_app.config.get("PASSWORD_HASH_METHOD", "scrypt")
        self.password_hash = generate_password_hash(password, method=method)

    def check_password(self, password: str) -> bool:
        """Check a password against the stored hash."""
        return check_password_hash(self.password_hash, password)

    @staticmethod
    def check_no_password(password: str) -> bool:
        """Do the work of a password check for a login that has no usable account.

        Unknown and inactive accounts cost as much as active ones, so response
        times do not tell which logins exist. Always False.
        """
        check_password_hash(_dummy_hash(), password)
        return False

    @property
    def role_set(self) -> frozenset[Role]:
        """The roles this user holds."""
        return frozenset(Role(r.role) for r in self.roles)

    def has_role(self, *roles: Role) -> bool:
        """True if the user holds any of the given roles."""
        return bool(self.role_set.intersection(roles))

    def set_roles(self, roles: set[Role]) -> None:
        """Replace the user's roles."""
        current = {Role(r.role): r for r in self.roles}
        for role, link in current.items():
            if role not in roles:
                self.roles.remove(link)
        for role in roles - current.keys():
            self.roles.append(UserRole(role=role.value))

    def end_other_sessions(self) -> None:
        """Invalidate every session cookie issued before now."""
        self.session_version += 1


@event.listens_for(User, "before_insert")
@event.listens_for(User, "before_update")
def _follow_department(mapper: Any, connection: Any, target: User) -> None:
    """A person in a department belongs to its college: copy the institution.

    Done at flush, so every path that sets a department (forms, imports, the
    demo, tests) keeps the two in step; the database's composite foreign key
    refuses any pair that disagrees anyway.
    """
    if target.department_id is None:
        return
    target.institution_id = connection.scalar(
        text("SELECT institution_id FROM departments WHERE id = :id"),
        {"id": target.department_id},
    )


_DUMMY_HASHES: dict[str, str] = {}


def _dummy_hash() -> str:
    """A hash of a random password with the configured method (made once per method)."""
    method = current_app.config.get("PASSWORD_HASH_METHOD", "scrypt")
    if method not in _DUMMY_HASHES:
        _DUMMY_HASHES[method] = generate_password_hash(
            secrets.token_urlsafe(16), method=method
        )
    return _DUMMY_HASHES[method]


class UserRole(Model):
    """One role held by one user."""

    __tablename__ = "user_roles"
    __table_args__ = (CheckConstraint(f"role IN ({ROLE_VALUES})", name="role"),)

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    role: Mapped[str] = mapped_column(String(16), primary_key=True)


class LoginAttempt(Model):
    """A login attempt; kept in the database so every web host sees the same counts."""

    __tablename__ = "login_attempts"
    __table_args__ = (
        Index("ix_login_attempts_username_created_at", "username", "created_at"),
        Index("ix_login_attempts_address_created_at", "address", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64))
    address: Mapped[str] = mapped_column(String(64))
    succeeded: Mapped[bool]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ThrottleCounter(Model):
    """Recent failed attempts of one key: an account or a client address.

    One row per key, read and written under a lock (``FOR UPDATE`` on PostgreSQL,
    ``BEGIN IMMEDIATE`` on SQLite), so concurrent attempts are counted one after
    the other. Past the limit each attempt must wait until ``blocked_until``.
    """

    __tablename__ = "throttle_counters"
    __table_args__ = (
        CheckConstraint("failures >= 0", name="failures_nonnegative"),
        Index("ix_throttle_counters_last_at", "last_at"),
    )

    key: Mapped[str] = mapped_column(String(160), primary_key=True)
    failures: Mapped[int] = mapped_column(default=0)
    last_at: Mapped[datetime] = mapped_column(UTCDateTime)
    blocked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)


class PasswordResetToken(Model):
    """A single-use link to set a new password; only the token's SHA-256 is stored."""

    __tablename__ = "password_reset_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
