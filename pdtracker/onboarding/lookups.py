"""What rows are checked against, loaded from the database once per file."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import current_app
from sqlalchemy import ColumnElement, select, true

from pdtracker.activities.models import ActivityKind
from pdtracker.auth.models import User
from pdtracker.extensions import db
from pdtracker.onboarding.headers import normalise
from pdtracker.onboarding.kindmap import KindTable
from pdtracker.onboarding.models import KindSynonym
from pdtracker.onboarding.rows import Lookups, by_digits
from pdtracker.org.models import Department, TeacherProfile
from pdtracker.tenancy import administers, is_deployment_admin, managed_institution
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
    """Administrators (and the command line, actor None) import people and records;
    heads import records of their own department only."""
    return actor is None or administers(actor)


def is_deployment_wide(actor: User | None) -> bool:
    """The deployment admin and the command line: every college, enterprises too."""
    return actor is None or is_deployment_admin(actor)


@dataclass(frozen=True)
class ImportScope:
    """Where an import may reach: a college (None: every one) and a head's department.

    ``deployment``: the importer sees every college (the deployment admin, the
    command line), so a row may be told it names another college's person;
    anyone else learns only that a value is taken or unknown.
    """

    institution_id: int | None = None
    department_id: int | None = None
    deployment: bool = False


def import_scope(actor: User | None, college: int | None = None) -> ImportScope:
    """The actor's reach: the chosen college for the deployment admin and the command
    line, their own for a college admin, their department for a head."""
    if actor is None or is_deployment_admin(actor):
        return ImportScope(college, deployment=True)
    if (managed := managed_institution(actor)) is not None:
        return ImportScope(managed)
    return ImportScope(actor.institution_id, actor.department_id)


def load_lookups(scope: ImportScope, now: datetime) -> Lookups:
    """The scope's departments and teachers, and the type table."""
    departments = db.session.scalars(
        select(Department)
        .where(_in_college(scope, Department.institution_id))
        .order_by(Department.name)
    )
    by_name: dict[str, int] = {}
    names = []
    for dept in departments:
        names.append(dept.name)
        for key in (dept.name, dept.code, dept.name_en):
            if key:
                by_name.setdefault(normalise(key), dept.id)
    # A staff number names a teacher within one college (each numbers its own).
    teachers = select(
        TeacherProfile.staff_number, TeacherProfile.id_number_hash, User.id
    ).join(User, User.id == TeacherProfile.user_id)
    teachers = teachers.where(_in_college(scope, TeacherProfile.institution_id))
    if scope.department_id is not None:
        teachers = teachers.where(User.department_id == scope.department_id)
    rows = db.session.execute(teachers).all()
    by_staff: dict[str, int] = {}
    shared: set[str] = set()
    for staff, _, uid in rows:
        if by_staff.setdefault(staff, uid) != uid:
            shared.add(staff)  # several colleges, when importing into all of them
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
        teachers_by_staff={k: uid for k, uid in by_staff.items() if k not in shared},
        teachers_by_digits=by_digits((staff, uid) for staff, _, uid in rows),
        shared_staff=frozenset(shared),
        teachers_by_id_hash={h: uid for _, h, uid in rows if h},
        kinds=KindTable(extra=extra, labels=labels),
        kind_units={k.code: k.unit for k in kinds},
        graded_kinds=frozenset(k.code for k in kinds if k.has_grade),
        hash_id=id_number_hash,
    )


def _in_college(scope: ImportScope, column: Any) -> ColumnElement[bool]:
    if scope.institution_id is None:
        return true()
    return column == scope.institution_id


def other_college_teachers(scope: ImportScope, id_hashes: set[str]) -> set[str]:
    """Which of these ID hashes name a teacher of another college.

    Asked only for the hashes a file names and the scope does not know, so a row
    naming another college's teacher is refused as such, never matched. Staff
    numbers are not asked: each college numbers its own people, so a number
    another college uses is no sign of its teacher.
    """
    if scope.institution_id is None or not id_hashes:
        return set()
    rows = db.session.scalars(
        select(TeacherProfile.id_number_hash).where(
            TeacherProfile.id_number_hash.in_(id_hashes),
            TeacherProfile.institution_id != scope.institution_id,
        )
    )
    return {h for h in rows if h in id_hashes}
