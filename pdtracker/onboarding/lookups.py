"""What rows are checked against, loaded from the database once per file."""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime

from flask import current_app
from sqlalchemy import select

from pdtracker.activities.models import ActivityKind
from pdtracker.auth.models import Role, User
from pdtracker.extensions import db
from pdtracker.onboarding.headers import normalise
from pdtracker.onboarding.kindmap import KindTable
from pdtracker.onboarding.models import KindSynonym
from pdtracker.onboarding.rows import Lookups
from pdtracker.org.models import Department, TeacherProfile
from pdtracker.timeutil import to_local


def id_number_hash(number: str) -> str:
    """The keyed hash an ID number is matched by (HMAC-SHA256, hex).

    The key is ID_NUMBER_HASH_KEY when set (so SECRET_KEY can rotate without
    losing the matches), else derived from SECRET_KEY. Without the key, the
    hashes of the few hundred million valid numbers cannot be tried offline.
    """
    config = current_app.config
    secret = config.get("ID_NUMBER_HASH_KEY") or config["SECRET_KEY"]
    key = hashlib.sha256(f"pdtracker id number:{secret}".encode()).digest()
    return hmac.new(key, number.encode(), hashlib.sha256).hexdigest()


def is_admin(actor: User | None) -> bool:
    """Admins (and the command line, actor None) import everything; heads import
    records of their own department only."""
    return actor is None or actor.has_role(Role.ADMIN)


def load_lookups(actor: User | None, now: datetime) -> Lookups:
    """Departments, the teachers the actor may import for, and the type table."""
    departments = db.session.scalars(select(Department).order_by(Department.name))
    by_name: dict[str, int] = {}
    names = []
    for dept in departments:
        names.append(dept.name)
        for key in (dept.name, dept.code, dept.name_en):
            if key:
                by_name.setdefault(normalise(key), dept.id)
    teachers = select(
        TeacherProfile.staff_number, TeacherProfile.id_number_hash, User.id
    ).join(User, User.id == TeacherProfile.user_id)
    if actor is not None and not is_admin(actor):
        teachers = teachers.where(User.department_id == actor.department_id)
    rows = db.session.execute(teachers).all()
    kinds = db.session.scalars(select(ActivityKind)).all()
    extra = dict(
        db.session.execute(select(KindSynonym.name, KindSynonym.kind_code)).all()
    )
    labels = {}
    for kind in kinds:
        labels.update(
            {kind.label_zh: kind.code, kind.label_en: kind.code, kind.code: kind.code}
        )
    return Lookups(
        today=to_local(now).date(),
        departments=by_name,
        department_names=tuple(names),
        teachers_by_staff={staff: uid for staff, _, uid in rows},
        teachers_by_id_hash={h: uid for _, h, uid in rows if h},
        kinds=KindTable(extra=extra, labels=labels),
        kind_units={k.code: k.unit for k in kinds},
        graded_kinds=frozenset(k.code for k in kinds if k.has_grade),
        hash_id=id_number_hash,
    )
