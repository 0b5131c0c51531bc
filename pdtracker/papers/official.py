"""The figures reported upward, from recognitions: who counts as 双师型 on a date.

- The Ministry's staff data (教职工基本数据) field ``SFSSXJS`` (是否双师型教师) is 1
  for a teacher holding a recognition on the chosen date, else 0.
- The quality report's 专任教师双师素质比例 is recognised professional-course
  teachers / professional-course teachers (the same population as the
  dashboard's computed ratio), per department and for the college.

A recognition counts on a date when the date is within its validity and it is
not suspended or revoked (an ``expired`` one still counted on the days it was
valid). Annual training statistics sum a teacher's verified hours, as the
ruleset's credit table converts them, by the organiser's level.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import selectinload

from pdtracker.activities.models import (
    Activity,
    ActivityKind,
    ActivityStatus,
    CreditUnit,
    OrganizerLevel,
)
from pdtracker.auth.models import User
from pdtracker.database import among
from pdtracker.extensions import db
from pdtracker.org.queries import active_teachers
from pdtracker.papers.statements import credit_rules, credited
from pdtracker.progress.records import active_rulesets_for
from pdtracker.recognition.models import Recognition

COUNTING_STATES = ("active", "review_due", "expired")
LEVEL_HEADERS = {
    OrganizerLevel.DISTRICT.value: "区县级",
    OrganizerLevel.CITY.value: "市级",
    OrganizerLevel.PROVINCE.value: "省级",
    OrganizerLevel.NATIONAL.value: "国家级",
    OrganizerLevel.ABROAD.value: "境外",
}
UNSPECIFIED = "未注明"


def recognised_on(teacher_ids: Iterable[int], on: date) -> dict[int, str]:
    """Teacher id → the level held on ``on``, for those recognised then (one query)."""
    ids = sorted(set(teacher_ids))
    if not ids:
        return {}
    rows = db.session.execute(
        select(Recognition.teacher_id, Recognition.level)
        .where(
            among(Recognition.teacher_id, ids),
            Recognition.state.in_(COUNTING_STATES),
            Recognition.valid_from <= on,
            Recognition.valid_until >= on,
        )
        .order_by(Recognition.valid_from, Recognition.id)
    )
    return {teacher_id: level for teacher_id, level in rows}


def college_teachers(where: ColumnElement[bool]) -> list[User]:
    """Active teachers matching ``where`` with their departments, by department and name."""
    teachers = active_teachers(
        where, order=(User.department_id, User.display_name, User.id)
    )
    if teachers:  # departments in one more query, not one per teacher
        db.session.scalars(
            select(User).where(User.id.in_([t.id for t in teachers]))
            .options(selectinload(User.department), selectinload(User.institution))
        ).all()  # fmt: skip
    return teachers


def _staff_number(teacher: User) -> str:
    return teacher.teacher_profile.staff_number if teacher.teacher_profile else ""


def _department(teacher: User, several: bool = False) -> str:
    """The department's name; with the college's in front when several colleges appear."""
    name = teacher.department.name if teacher.department else ""
    if several and teacher.institution is not None:
        return f"{teacher.institution.name} {name}".strip()
    return name


def _several(teachers: Sequence[User]) -> bool:
    return len({t.institution_id for t in teachers}) > 1


def staff_rows(teachers: Sequence[User], on: date) -> list[list[object]]:
    """教职工基本数据: 工号, 姓名, 院系, SFSSXJS (1/0)."""
    held = recognised_on((t.id for t in teachers), on)
    several = _several(teachers)
    return [
        [_staff_number(t), t.display_name, _department(t, several),
         1 if t.id in held else 0]
        for t in teachers
    ]  # fmt: skip


STAFF_HEADERS = ["工号", "姓名", "院系", "SFSSXJS"]


@dataclass(frozen=True)
class RatioRow:
    """One department's (or the college's) counts behind the ratio."""

    name: str
    teachers: int
    professional: int
    recognised: int

    @property
    def ratio(self) -> float | None:
        """Recognised professional-course teachers / professional-course teachers."""
        return None if self.professional == 0 else self.recognised / self.professional


def _professional(teacher: User) -> bool:
    profile = teacher.teacher_profile
    return True if profile is None else profile.is_professional_course


def ratio_rows(teachers: Sequence[User], on: date, college: str) -> list[RatioRow]:
    """Per department, then the college's total."""
    held = recognised_on((t.id for t in teachers), on)
    groups: dict[str, list[User]] = {}
    several = _several(teachers)
    for t in teachers:
        groups.setdefault(_department(t, several), []).append(t)

    def row(name: str, people: Sequence[User]) -> RatioRow:
        pros = [t for t in people if _professional(t)]
        return RatioRow(name, len(people), len(pros), sum(t.id in held for t in pros))

    return [*(row(n, p) for n, p in sorted(groups.items())), row(college, teachers)]


RATIO_HEADERS = [
    "院系",
    "专任教师数",
    "专业课教师数",
    "双师型教师数",
    "专任教师双师素质比例(%)",
]


def ratio_table(rows: Sequence[RatioRow]) -> list[list[object]]:
    """The ratio rows as cells (the ratio in percent, one decimal)."""
    return [
        [r.name, r.teachers, r.professional, r.recognised,
         "" if r.ratio is None else round(r.ratio * 100, 1)]
        for r in rows
    ]  # fmt: skip


TRAINING_HEADERS = [
    "工号", "姓名", "院系", *LEVEL_HEADERS.values(), UNSPECIFIED, "合计(学时)",
]  # fmt: skip


def training_rows(teachers: Sequence[User], year: int) -> list[list[object]]:
    """Verified hours of the year per teacher by organiser level (credit table applied)."""
    ids = [t.id for t in teachers]
    last_day = func.coalesce(Activity.ends_on, Activity.starts_on)
    activities = db.session.scalars(
        select(Activity)
        .join(ActivityKind, ActivityKind.code == Activity.kind_code)
        .where(
            Activity.teacher_id.in_(ids),
            Activity.status == ActivityStatus.VERIFIED.value,
            ActivityKind.unit == CreditUnit.HOURS.value,
            last_day >= date(year, 1, 1),
            last_day <= date(year, 12, 31),
        )
    ).all() if ids else []  # fmt: skip
    active = active_rulesets_for(t.institution_id for t in teachers)
    rules = {iid: credit_rules(a.ruleset) for iid, a in active.items()}
    by_teacher = {t.id: t for t in teachers}
    several = _several(teachers)
    sums: dict[int, dict[str, Decimal]] = {t.id: {} for t in teachers}
    for a in activities:
        key = a.organizer_level or UNSPECIFIED
        amount = credited(a, rules.get(by_teacher[a.teacher_id].institution_id) or {})
        sums[a.teacher_id][key] = sums[a.teacher_id].get(key, Decimal(0)) + amount
    out: list[list[object]] = []
    for t in teachers:
        per = sums[t.id]
        cells = [float(per.get(k, 0)) for k in (*LEVEL_HEADERS, UNSPECIFIED)]
        out.append([_staff_number(t), t.display_name, _department(t, several), *cells,
                    float(sum(per.values(), Decimal(0)))])  # fmt: skip
    return out
