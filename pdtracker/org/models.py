"""Institution → department → teacher profile."""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    ForeignKeyConstraint,
    String,
    UniqueConstraint,
    event,
    text,
)
from sqlalchemy.orm import Mapped, attributes, mapped_column, relationship

from pdtracker.auth.models import User
from pdtracker.database import Model


class Institution(Model):
    """A college; an association deployment may serve several."""

    __tablename__ = "institutions"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))

    departments: Mapped[list[Department]] = relationship(
        back_populates="institution", order_by="Department.name"
    )


class Department(Model):
    """A department (系/专业群) of an institution."""

    __tablename__ = "departments"
    __table_args__ = (
        UniqueConstraint("institution_id", "code"),
        # The target of users' (department_id, institution_id) foreign key.
        UniqueConstraint("id", "institution_id", name="uq_departments_id_institution"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    institution_id: Mapped[int] = mapped_column(
        ForeignKey("institutions.id", ondelete="RESTRICT"), index=True
    )
    code: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str | None] = mapped_column(String(200))

    institution: Mapped[Institution] = relationship(back_populates="departments")


class TeacherProfile(Model):
    """What the dual-qualified rules need to know about a teacher.

    A staff number (工号) is unique within the teacher's college: colleges number
    their people independently, so two colleges may both have a 0001.
    """

    __tablename__ = "teacher_profiles"
    __table_args__ = (
        CheckConstraint("prior_industry_years >= 0", name="prior_industry_years"),
        UniqueConstraint("institution_id", "staff_number"),
        # The profile's college is its user's: the pair must name a real user row.
        # A user who moves college takes the profile along (ON UPDATE CASCADE).
        ForeignKeyConstraint(
            ["user_id", "institution_id"],
            ["users.id", "users.institution_id"],
            name="fk_teacher_profiles_user_institution",
            ondelete="CASCADE",
            onupdate="CASCADE",
        ),
    )

    user_id: Mapped[int] = mapped_column(primary_key=True)
    # The user's college, copied at insert (see _follow_user below).
    institution_id: Mapped[int] = mapped_column()
    staff_number: Mapped[str] = mapped_column(String(32))
    title: Mapped[str | None] = mapped_column(String(64))
    is_professional_course: Mapped[bool] = mapped_column(default=True)
    prior_industry_years: Mapped[int] = mapped_column(default=0)
    phone: Mapped[str | None] = mapped_column(String(40))
    # HMAC-SHA256 of the 身份证号 under a key derived from the deployment's secret:
    # imports match teachers by it; the number itself is never stored or shown.
    id_number_hash: Mapped[str | None] = mapped_column(String(64), unique=True)

    user: Mapped[User] = relationship(
        back_populates="teacher_profile", foreign_keys=[user_id]
    )


@event.listens_for(TeacherProfile, "before_insert")
def _follow_user(mapper: Any, connection: Any, target: TeacherProfile) -> None:
    """A new profile belongs to its user's college (the foreign key insists)."""
    if target.institution_id is not None:
        return
    if target.user is not None:  # flushed before the profile: its college is set
        target.institution_id = target.user.institution_id  # type: ignore[assignment]
        return
    target.institution_id = connection.scalar(
        text("SELECT institution_id FROM users WHERE id = :id"), {"id": target.user_id}
    )


@event.listens_for(User, "after_update")
def _profile_follows_user(mapper: Any, connection: Any, target: User) -> None:
    """Mirror in memory what ON UPDATE CASCADE did to a moved user's profile."""
    state = attributes.instance_state(target)
    if "teacher_profile" not in state.dict or target.teacher_profile is None:
        return  # not loaded: the next load reads the cascaded value
    attributes.set_committed_value(
        target.teacher_profile, "institution_id", target.institution_id
    )
