"""Institution → department → teacher profile."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import CheckConstraint, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from pdtracker.database import Model

if TYPE_CHECKING:
    from pdtracker.auth.models import User


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
    """What the dual-qualified rules need to know about a teacher."""

    __tablename__ = "teacher_profiles"
    __table_args__ = (
        CheckConstraint("prior_industry_years >= 0", name="prior_industry_years"),
    )

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    staff_number: Mapped[str] = mapped_column(String(32), unique=True)
    title: Mapped[str | None] = mapped_column(String(64))
    is_professional_course: Mapped[bool] = mapped_column(default=True)
    prior_industry_years: Mapped[int] = mapped_column(default=0)
    phone: Mapped[str | None] = mapped_column(String(40))
    # HMAC-SHA256 of the 身份证号 under a key derived from the deployment's secret:
    # imports match teachers by it; the number itself is never stored or shown.
    id_number_hash: Mapped[str | None] = mapped_column(String(64), unique=True)

    user: Mapped[User] = relationship(back_populates="teacher_profile")
