"""What a regional ruleset version would change, per college and without names.

Association staff publish the regional layer but see no teacher's records
(issue 14): their preview counts, for each college the version would reach
(those without an active layer of their own), the teachers, the
professional-course teachers, how many of these are dual-qualified under the
active regional ruleset and under the version, and how many teachers' level
changes. A fixed number of queries, whatever the number of colleges.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select

from pdtracker.auth.models import User
from pdtracker.extensions import db
from pdtracker.org.models import Institution
from pdtracker.org.queries import active_teachers
from pdtracker.progress.active import active_ruleset_for
from pdtracker.progress.definitions import Ruleset
from pdtracker.progress.facts import gather
from pdtracker.progress.models import StoredRuleset
from pdtracker.progress.services import status_for


@dataclass
class CollegeImpact:
    """One college's figures under the active regional ruleset and the version."""

    institution_id: int
    name: str
    teachers: int = 0
    professional: int = 0
    before: int = 0  # dual-qualified professional-course teachers, active ruleset
    after: int = 0  # the same under the version previewed
    changed: int = 0  # teachers whose level differs


def reached_colleges() -> dict[int, str]:
    """Colleges evaluated under the regional layer (no active layer of their own)."""
    own_layer = select(StoredRuleset.institution_id).where(
        StoredRuleset.is_active, StoredRuleset.institution_id.is_not(None)
    )
    rows = db.session.execute(
        select(Institution.id, Institution.name)
        .where(Institution.id.not_in(own_layer))
        .order_by(Institution.name, Institution.id)
    )
    return {row[0]: row[1] for row in rows}


def college_impact(
    candidate: Ruleset, now: datetime, as_of: date
) -> list[CollegeImpact]:
    """Per reached college, the counts before and after (names never leave here)."""
    colleges = reached_colleges()
    if not colleges:
        return []
    ids = sorted(colleges)
    teachers = active_teachers(User.institution_id.in_(ids))
    members = select(User.id).where(User.institution_id.in_(ids)).scalar_subquery()
    gathered = gather(lambda column: column.in_(members), now)
    active = active_ruleset_for(None).ruleset
    figures = {i: CollegeImpact(i, name) for i, name in colleges.items()}
    for teacher in teachers:
        entry = gathered.get(teacher.id)
        before = status_for(teacher, entry, active, as_of)
        after = status_for(teacher, entry, candidate, as_of)
        row = figures[teacher.institution_id or 0]
        row.teachers += 1
        row.changed += before.report.level != after.report.level
        if before.professional_course:
            row.professional += 1
            row.before += before.dual_qualified
            row.after += after.dual_qualified
    return list(figures.values())
