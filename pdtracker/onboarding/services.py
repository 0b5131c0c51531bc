"""An import as one call: plan the file, apply it unless it is a dry run.

Also the helpers both the pages and the command need: row errors in the
user's language, saved mappings, and the type names admins add.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime

from flask_babel import gettext
from sqlalchemy import false, func, select, update

from pdtracker.audit import record
from pdtracker.auth.models import User
from pdtracker.extensions import db
from pdtracker.onboarding.apply import Applied, apply_plan
from pdtracker.onboarding.errors import RowError
from pdtracker.onboarding.lookups import import_scope
from pdtracker.onboarding.models import ImportMapping, KindSynonym
from pdtracker.onboarding.plan import Plan, build_plan
from pdtracker.org.models import Institution


def run_import(
    importer: str,
    data: bytes,
    *,
    filename: str,
    actor: User | None,
    now: datetime,
    overrides: Mapping[str, str] | None = None,
    verified: bool = False,
    dry_run: bool = False,
    link: Callable[[str], str] | None = None,
    college: int | None = None,
) -> tuple[Plan, Applied | None]:
    """Plan the file and, unless ``dry_run``, apply its valid rows (flushed).

    ``actor`` None is the command line, with the deployment admin's reach.
    ``college`` is the college the deployment admin imports into (a college
    admin's and a head's imports stay in their own). ``link`` makes
    absolute activation URLs, for the new accounts' e-mails. The caller
    commits, or rolls back (always after a dry run): all rows or none.
    Raises FileRefused when the file cannot be read.
    """
    if not dry_run:
        _one_import_at_a_time()
    plan = build_plan(importer, data, filename=filename, actor=actor, now=now,
                      overrides=overrides, verified=verified,
                      college=college)  # fmt: skip
    if dry_run:
        return plan, None
    return plan, apply_plan(plan, actor=actor, now=now, link=link)


# pg_advisory_xact_lock's key: any number no other lock of the app uses.
IMPORT_LOCK = 0x70647472  # "pdtr"


def _one_import_at_a_time() -> None:
    """Hold the import lock until the transaction ends, before anything is read.

    Two imports planned at once would both create the rows neither finds (the
    same file applied twice at the same moment: every record twice). Imports are
    rare, so they simply take turns: PostgreSQL's transaction-level advisory lock;
    on SQLite a write that matches nothing takes the database's write lock now.
    """
    session = db.session
    if session.get_bind().dialect.name == "postgresql":
        session.execute(select(func.pg_advisory_xact_lock(IMPORT_LOCK)))
    else:
        session.execute(
            update(ImportMapping)
            .where(false())
            .values(name=ImportMapping.name)
            .execution_options(synchronize_session=False)
        )


def error_message(error: RowError) -> str:
    """A row error's message in the current user's language."""
    return gettext(error.template, **error.params)


def error_dicts(plan: Plan) -> list[dict]:
    """The row errors as the command prints them."""
    return [
        {"row": e.row, "column": e.column, "code": e.code, "message": error_message(e)}
        for e in plan.errors
    ]


def mapping_college(actor: User | None, college: int | None = None) -> int | None:
    """The college whose saved mappings an import uses: the chosen one for the
    deployment admin and the command line (None: no college), else the actor's."""
    return import_scope(actor, college).institution_id


def get_mapping(
    importer: str, name: str, institution_id: int | None
) -> ImportMapping | None:
    """A college's saved mapping of the importer by name (None: of no college)."""
    college = (
        ImportMapping.institution_id.is_(None)
        if institution_id is None
        else ImportMapping.institution_id == institution_id
    )
    return db.session.scalar(
        select(ImportMapping).filter_by(importer=importer, name=name).where(college)
    )


def list_mappings(
    importer: str, institution_id: int | None, *, every_college: bool = False
) -> list[tuple[ImportMapping, str | None]]:
    """The importer's saved mappings by name, each with its college's name: one
    college's, or with ``every_college`` (the deployment admin) all of them."""
    stmt = (
        select(ImportMapping, Institution.name)
        .outerjoin(Institution, Institution.id == ImportMapping.institution_id)
        .where(ImportMapping.importer == importer)
        .order_by(Institution.name, ImportMapping.name)
    )
    if not every_college:
        stmt = stmt.where(
            ImportMapping.institution_id.is_(None)
            if institution_id is None
            else ImportMapping.institution_id == institution_id
        )
    return [(m, college) for m, college in db.session.execute(stmt)]


def save_mapping(
    importer: str,
    name: str,
    columns: Mapping[str, str],
    *,
    actor: User,
    institution_id: int | None,
) -> ImportMapping:
    """Save (or replace) a college's named mapping for the next file from the
    same source."""
    mapping = get_mapping(importer, name, institution_id)
    if mapping is None:
        mapping = ImportMapping(
            importer=importer, name=name, created_by_id=actor.id,
            institution_id=institution_id,
        )  # fmt: skip
        db.session.add(mapping)
    mapping.columns = dict(columns)
    db.session.flush()
    return mapping


def list_type_names() -> list[KindSynonym]:
    """The type names admins added to the type → kind table."""
    return list(db.session.scalars(select(KindSynonym).order_by(KindSynonym.name)))


def add_type_name(
    name: str, kind_code: str, *, actor: User, now: datetime
) -> KindSynonym:
    """Teach the records importer a type name (or point it at another kind)."""
    synonym = db.session.get(KindSynonym, name) or KindSynonym(name=name)
    synonym.kind_code = kind_code
    db.session.add(synonym)
    db.session.flush()
    record(actor.id, "import.type_name", "kind_synonym", None, now=now,
           name=name, kind=kind_code)  # fmt: skip
    return synonym
