"""The dry run: every row of a file as create / update / unchanged / duplicate / error.

A plan reads the database with a fixed number of queries whatever the file's
size (lookups and existing rows are loaded once, then matched in memory), and
writes nothing. :mod:`pdtracker.onboarding.apply` carries a plan out.
"""

from __future__ import annotations

import enum
import hashlib
import itertools
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from pdtracker.activities.models import Activity
from pdtracker.auth.models import User
from pdtracker.extensions import db
from pdtracker.onboarding.errors import RowError
from pdtracker.onboarding.headers import IMPORTERS, Header, read_header
from pdtracker.onboarding.lookups import (
    ImportScope,
    import_scope,
    is_admin,
    is_deployment_wide,
    load_lookups,
    other_college_teachers,
)
from pdtracker.onboarding.rows import ParsedRow, by_digits, parse_rows, zeros_dropped
from pdtracker.org.models import Department, Institution
from pdtracker.placements.models import Enterprise

IN_CHUNK = 500  # ids per IN (...) list: well under every database's bound


class Action(enum.StrEnum):
    """What applying the plan does with a row."""

    CREATE = "create"
    UPDATE = "update"
    UNCHANGED = "unchanged"
    DUPLICATE = "duplicate"
    ERROR = "error"


class ImportNotAllowed(Exception):
    """The actor may not run this importer."""


@dataclass
class PlannedRow:
    """One data row, what it will do, and to which existing row."""

    number: int
    cells: tuple[Any, ...]
    values: dict[str, Any]
    errors: list[RowError]
    action: Action = Action.ERROR
    target: Any = None
    changes: dict[str, tuple[Any, Any]] = field(default_factory=dict)

    def refuse(self, key: str, header: Header, code: str, **params: Any) -> None:
        """Turn the row into an error row."""
        self.errors.append(RowError(self.number, header.name_of(key), code, params))
        self.action = Action.ERROR


@dataclass
class Plan:
    """A file's rows, planned; ``verified`` is the importer's choice for records."""

    importer: str
    filename: str
    sha256: str
    header: Header
    rows: list[PlannedRow]
    verified: bool = False
    # The college the file is imported into (None: every college, the command line).
    institution_id: int | None = None

    def count(self, action: Action) -> int:
        """How many rows will take that action."""
        return sum(1 for r in self.rows if r.action == action)

    @property
    def errors(self) -> list[RowError]:
        """Every row error, in row order."""
        return [e for r in self.rows for e in r.errors]

    def summary(self) -> dict[str, int]:
        """The counts the CLI and the pages report."""
        return {
            "rows": len(self.rows),
            "created": self.count(Action.CREATE),
            "updated": self.count(Action.UPDATE),
            "unchanged": self.count(Action.UNCHANGED),
            "duplicates": self.count(Action.DUPLICATE),
        }


def check_allowed(importer: str, actor: User | None) -> None:
    """The deployment admin runs every importer; a college admin people and records
    (the association's enterprises are not a college's); a head only records."""
    if importer not in IMPORTERS:
        raise ImportNotAllowed(importer)
    if is_deployment_wide(actor) or (is_admin(actor) and importer != "enterprises"):
        return
    if not (importer == "records" and actor is not None and actor.department_id):
        raise ImportNotAllowed(importer)


def build_plan(
    importer: str,
    data: bytes,
    *,
    filename: str,
    actor: User | None,
    now: datetime,
    overrides: Mapping[str, str] | None = None,
    verified: bool = False,
    college: int | None = None,
) -> Plan:
    """Read, check and match the file; write nothing. FileRefused if unreadable.

    ``college`` is the college the deployment admin (or the command line) imports
    into; a college admin's and a head's imports stay in their own.
    """
    check_allowed(importer, actor)
    scope = import_scope(actor, college)
    header, data_rows = read_header(data, importer, overrides)
    parsed = parse_rows(importer, header, data_rows, load_lookups(scope, now))
    rows = [_planned(p, r.cells) for p, r in zip(parsed, data_rows, strict=True)]
    if scope.deployment:  # others are told only that the teacher is unknown
        _refuse_other_colleges_teachers(rows, scope)
    MATCHERS[importer]([r for r in rows if not r.errors], header, scope)
    sha = hashlib.sha256(data).hexdigest()
    return Plan(importer, filename, sha, header, rows, verified, scope.institution_id)


def _refuse_other_colleges_teachers(rows: list[PlannedRow], scope: ImportScope) -> None:
    """A record naming another college's teacher says so (it is never matched)."""
    unknown = [
        (row, i, e)
        for row in rows
        for i, e in enumerate(row.errors)
        if e.code == "unknown_teacher"
    ]
    hashes = other_college_teachers(
        scope, {e.params["id_hash"] for _, _, e in unknown if e.params.get("id_hash")}
    )
    for row, i, e in unknown:
        if e.params.get("id_hash") in hashes:
            row.errors[i] = RowError(
                e.row, e.column, "teacher_other_college", {"value": e.params["value"]}
            )


def _planned(parsed: ParsedRow, cells: tuple[Any, ...]) -> PlannedRow:
    return PlannedRow(parsed.number, cells, parsed.values, parsed.errors)


def _decide(row: PlannedRow, target: Any, wanted: dict[str, Any], current) -> None:
    """Create when nothing matched, else update or unchanged by the differences."""
    row.target = target
    if target is None:
        row.action = Action.CREATE
        return
    row.changes = {
        k: (current(target, k), v)
        for k, v in wanted.items()
        if v is not None and current(target, k) != v
    }
    row.action = Action.UPDATE if row.changes else Action.UNCHANGED


# --- people -------------------------------------------------------------------

PERSON_ATTRS = {
    "name": "display_name",
    "department": "department_id",
    "email": "email",
}
PROFILE_ATTRS = (
    "title", "is_professional_course", "prior_industry_years", "phone",
    "id_number_hash",
)  # fmt: skip
IMPORTED_ROLES = frozenset({"teacher", "head"})


def person_value(user: User, key: str) -> Any:
    """The current value of a people-file field on an account."""
    if key in PERSON_ATTRS:
        return getattr(user, PERSON_ATTRS[key])
    if key == "roles":
        return frozenset(r.value for r in user.role_set)
    return getattr(user.teacher_profile, key)


def wanted_roles(current: frozenset[str], from_file: frozenset[str]) -> frozenset[str]:
    """The file decides teacher and head; other roles (admin, staff) are kept."""
    return (current - IMPORTED_ROLES) | from_file


def _match_people(rows: list[PlannedRow], header: Header, scope: ImportScope) -> None:
    """Match each row to its college's person by staff number (工号).

    Colleges number their people independently: the number is looked up in the
    college imported into (into every college: the row's department's), never
    in another, so another college's person is neither matched nor named.
    Logins, e-mail addresses and ID numbers are the deployment's: checked
    against every account.
    """
    colleges = {
        d: i
        for d, i in db.session.execute(select(Department.id, Department.institution_id))
    }
    codes = {
        i: c for i, c in db.session.execute(select(Institution.id, Institution.code))
    }
    users = db.session.scalars(
        select(User).options(joinedload(User.teacher_profile))
    ).unique()
    by_staff: dict[tuple[int, str], User] = {}
    emails: dict[str, int] = {}
    usernames: dict[str, int] = {}
    hashes: dict[str, int] = {}
    for user in users:
        usernames[user.username.casefold()] = user.id
        if user.email:
            emails[user.email.casefold()] = user.id
        if profile := user.teacher_profile:
            by_staff[(profile.institution_id, profile.staff_number)] = user
            if profile.id_number_hash:
                hashes[profile.id_number_hash] = user.id
    # 123 from a number cell finds its college's one 00123 (rows.zeros_dropped).
    per_college: dict[int, list[str]] = {}
    for held_in, staff in by_staff:
        per_college.setdefault(held_in, []).append(staff)
    zeros = {
        (held_in, digits): (held_in, staff)
        for held_in, numbers in per_college.items()
        for digits, staff in by_digits((n, n) for n in numbers).items()
    }
    only = next(iter(codes)) if len(codes) == 1 else None  # a one-college deployment
    seen: set[tuple[int, str]] = set()
    for row in rows:
        department = colleges.get(row.values.get("department") or 0)
        college = scope.institution_id or department or only
        if college is None:
            row.refuse("department", header, "college_needed")
            continue
        key = (college, row.values["staff_number"])
        if key not in by_staff and zeros_dropped(key[1]):
            key = zeros.get(key, key)  # 123 and 00123 in one file are one person
        existing = by_staff.get(key)
        if key in seen:
            row.action = Action.DUPLICATE
            continue
        seen.add(key)
        owner = existing.id if existing else -len(seen)  # a new account: its own key
        if _claims(row, header, owner, emails, hashes):
            _person_decision(row, existing)
        if row.action == Action.CREATE:
            row.values["username"] = new_username(key[1], codes[college], usernames)
            row.values["institution_id"] = college
            usernames[row.values["username"].casefold()] = owner


def new_username(staff_number: str, college_code: str, taken: Mapping[str, int]) -> str:
    """A new account's login: its staff number, else the number after the
    college's code (another college's person has the number as login), else
    that with a counter. ``taken`` holds the logins in use, casefolded."""
    for candidate in itertools.chain(
        (staff_number, f"{college_code}-{staff_number}"),
        (f"{college_code}-{staff_number}-{n}" for n in itertools.count(2)),
    ):
        if candidate.casefold() not in taken:
            return candidate
    raise AssertionError("unreachable")  # the counter never ends


def _claims(row, header, owner, emails, hashes) -> bool:
    """Refuse a row whose e-mail or ID number another account holds."""
    values = row.values
    for key, taken, table, code in (
        ("email", (values.get("email") or "").casefold(), emails, "email_taken"),
        ("id_number", values.get("id_number_hash"), hashes, "id_number_taken"),
    ):
        if taken and table.setdefault(taken, owner) != owner:
            row.refuse(key, header, code, value=values.get(key, ""))
    return not row.errors


def _person_decision(row: PlannedRow, user: User | None) -> None:
    wanted = {k: v for k, v in row.values.items() if k != "staff_number"}
    if user is not None and "roles" in wanted and wanted["roles"] is not None:
        wanted["roles"] = wanted_roles(person_value(user, "roles"), wanted["roles"])
    _decide(row, user, wanted, person_value)


# --- enterprises --------------------------------------------------------------

ENTERPRISE_ATTRS = {"capacity": "placement_capacity"}


def enterprise_value(enterprise: Enterprise, key: str) -> Any:
    """The current value of an enterprises-file field."""
    return getattr(enterprise, ENTERPRISE_ATTRS.get(key, key))


def _match_enterprises(
    rows: list[PlannedRow], header: Header, scope: ImportScope
) -> None:
    existing = db.session.scalars(select(Enterprise)).all()
    by_code = {e.credit_code: e for e in existing if e.credit_code}
    by_name = {e.name: e for e in existing}
    seen: set[str] = set()
    for row in rows:
        name, code = row.values["name"], row.values.get("credit_code")
        keys = {f"name:{name}", *([f"code:{code}"] if code else [])}
        if keys & seen:
            row.action = Action.DUPLICATE
            continue
        seen |= keys
        target = by_code.get(code) if code else None
        named = by_name.get(name)
        if target is None and named is not None:
            if code and named.credit_code and named.credit_code != code:
                row.refuse("name", header, "name_taken", value=name)
                continue
            target = named
        elif target is not None and named not in (None, target):
            row.refuse("name", header, "name_taken", value=name)
            continue
        _decide(row, target, dict(row.values), enterprise_value)


# --- records ------------------------------------------------------------------

RECORD_ATTRS = {"kind": "kind_code"}
RECORD_SKIP = frozenset({"teacher_id", "teacher_name"})


def record_value(activity: Any, key: str) -> Any:
    """The current value of a records-file field on an activity (or its row)."""
    return getattr(activity, RECORD_ATTRS.get(key, key))


def natural_key(teacher_id: int, kind: str, starts_on, title: str, organizer) -> tuple:
    """How a record without an external id is recognised."""
    return (teacher_id, kind, starts_on, title, organizer or "")


# What matching and comparing need of an existing activity: columns, not objects
# (loading ten thousand ORM objects would cost more than the whole comparison).
RECORD_COLUMNS = tuple(
    getattr(Activity, name)
    for name in ("id", "teacher_id", "external_id", "kind_code", "title", "starts_on",
                 "ends_on", "hours", "days", "organizer", "location", "grade",
                 "role", "notes", "organizer_level")
)  # fmt: skip


def _existing_activities(teacher_ids: set[int]) -> list:
    ids = sorted(teacher_ids)
    found: list = []
    for start in range(0, len(ids), IN_CHUNK):
        chunk = ids[start : start + IN_CHUNK]
        found += db.session.execute(
            select(*RECORD_COLUMNS).where(Activity.teacher_id.in_(chunk))
        ).all()
    return found


def _match_records(rows: list[PlannedRow], header: Header, scope: ImportScope) -> None:
    existing = _existing_activities({r.values["teacher_id"] for r in rows})
    by_ext = {(a.teacher_id, a.external_id): a for a in existing if a.external_id}
    by_nat = {
        natural_key(a.teacher_id, a.kind_code, a.starts_on, a.title, a.organizer): a
        for a in existing
    }
    seen: set[tuple] = set()
    for row in rows:
        v = row.values
        nat = natural_key(v["teacher_id"], v["kind"], v["starts_on"], v["title"],
                          v.get("organizer"))  # fmt: skip
        ext = (v["teacher_id"], v["external_id"]) if v.get("external_id") else None
        key = ("ext", *ext) if ext else ("nat", *nat)
        if key in seen:
            row.action = Action.DUPLICATE
            continue
        seen.add(key)
        target = by_ext.get(ext) if ext else None
        if target is None:
            candidate = by_nat.get(nat)
            if candidate is not None and not (ext and candidate.external_id):
                target = candidate
        wanted = {k: x for k, x in v.items() if k not in RECORD_SKIP}
        _decide(row, target, wanted, record_value)


MATCHERS: dict[str, Callable[[list[PlannedRow], Header, ImportScope], None]] = {
    "people": _match_people,
    "enterprises": _match_enterprises,
    "records": _match_records,
}
