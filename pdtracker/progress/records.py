"""Stored ruleset versions: which one is active per scope, drafts, publishing.

A ruleset document is stored as a :class:`StoredRuleset` row per version. Rulesets
layer per scope (docs/status-rules.md S22): the deployment's *regional* layer
(``institution_id`` NULL) and each college's own layer. A teacher is evaluated
under their college's active layer, else the active regional layer, else the
shipped default (:func:`active_ruleset_for`). Parsing goes through
:mod:`.rulebook`; parsed versions are memoised per app, since published versions
never change.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from flask import current_app
from sqlalchemy import ColumnElement, false, func, or_, select

from pdtracker.activities.models import ActivityKind
from pdtracker.audit import record
from pdtracker.auth.models import User
from pdtracker.caching import LRU, per_app
from pdtracker.extensions import db
from pdtracker.progress.definitions import Ruleset
from pdtracker.progress.diff import RulesetDiff, ThresholdChange, diff_rulesets
from pdtracker.progress.models import RulesetFormat, RulesetStatus, StoredRuleset
from pdtracker.progress.rulebook import (
    DEFAULT_RULESET,
    builtin_text,
    detect_format,
    parse_ruleset,
)


@dataclass(frozen=True)
class ActiveRuleset:
    """The ruleset pages use, with the database version it came from."""

    ruleset: Ruleset
    name: str
    version: int
    record_id: int | None  # None: the built-in default, not recorded yet
    # The college whose own layer this is; None: the regional layer (or default).
    institution_id: int | None = None

    @property
    def layer(self) -> str:
        """``college``, ``regional`` (a stored regional version) or ``default``."""
        if self.institution_id is not None:
            return "college"
        return "regional" if self.record_id is not None else "default"

    @property
    def identity(self) -> tuple:
        """What a cached evaluation under this ruleset depends on."""
        return (self.name, self.version, self.record_id, self.institution_id)


class RulesetLocked(Exception):
    """A published ruleset version cannot be changed."""


class DraftRenamed(ValueError):
    """A new document for a draft must keep the draft's name."""


def _with_version(ruleset: Ruleset, version: int) -> Ruleset:
    """The database version is authoritative; reports carry it."""
    return replace(ruleset, version=str(version))


@functools.cache
def _builtin_active() -> ActiveRuleset:
    # The shipped document never changes while the process runs: parse it once.
    text = builtin_text(DEFAULT_RULESET)
    ruleset = parse_ruleset(text, "toml", resolve=builtin_text)
    return ActiveRuleset(_with_version(ruleset, 1), ruleset.name, 1, None)


def _published_records() -> list[StoredRuleset]:
    return list(
        db.session.scalars(
            select(StoredRuleset).where(
                StoredRuleset.status == RulesetStatus.PUBLISHED.value
            )
        )
    )


def _resolver(
    records: Sequence[StoredRuleset], start: StoredRuleset | None
) -> Callable[[str], str]:
    """Resolve ``extends``: a published record's pinned parents, else the newest.

    A published version keeps evaluating the same way: its parent is the version
    it was published against. A draft builds on the newest published version of
    its parent, or on the built-in ruleset of that name.
    """
    by_key = {(r.name, r.version): r for r in records}
    newest: dict[str, StoredRuleset] = {}
    for r in records:
        if r.name not in newest or r.version > newest[r.name].version:
            newest[r.name] = r
    pinned: dict[str, StoredRuleset] = {}
    current = start
    while current is not None and current.extends and current.extends_version:
        parent = by_key.get((current.extends, current.extends_version))
        if parent is None or parent.name in pinned:
            break
        pinned[parent.name] = parent
        current = parent

    def resolve(name: str) -> str:
        found = pinned.get(name) or newest.get(name)
        return found.document if found is not None else builtin_text(name)

    return resolve


def parse_record(
    rec: StoredRuleset, published: Sequence[StoredRuleset] | None = None
) -> Ruleset:
    """Parse a stored ruleset (its extends chain resolved); RulesetError if bad."""
    if published is None:
        published = _published_records() if rec.extends else []
    ruleset = parse_ruleset(
        rec.document,
        rec.format,
        resolve=_resolver(published, rec),
        known_kinds=None,
    )
    return _with_version(ruleset, rec.version)


# Parsed active versions per app: the regional one and each college's own.
_PARSED_SIZE = 256


def _published_count() -> ColumnElement[int]:
    return (
        select(func.count())
        .select_from(StoredRuleset)
        .where(StoredRuleset.status == RulesetStatus.PUBLISHED.value)
        .scalar_subquery()
    )


def _parsed(row: tuple) -> ActiveRuleset:
    """The parsed version of an active row (id, name, version, institution, count)."""
    key = tuple(row)
    parsed: LRU[tuple, ActiveRuleset] = per_app(
        current_app, "progress_rulesets", lambda: LRU(_PARSED_SIZE)
    )
    found = parsed.get(key)
    if found is None:
        rec = db.session.get(StoredRuleset, row[0])
        assert rec is not None  # published versions are never deleted (models guard)
        found = ActiveRuleset(
            parse_record(rec), rec.name, rec.version, rec.id, rec.institution_id
        )
        parsed.put(key, found)
    return found


def active_rulesets_for(
    institution_ids: Iterable[int | None],
) -> dict[int | None, ActiveRuleset]:
    """:func:`active_ruleset_for` for several colleges at once, in one query."""
    wanted = {i for i in institution_ids if i is not None}
    scope: ColumnElement[bool] = StoredRuleset.institution_id.is_(None)
    if wanted:
        scope = or_(scope, StoredRuleset.institution_id.in_(sorted(wanted)))
    rows = db.session.execute(
        select(
            StoredRuleset.id, StoredRuleset.name, StoredRuleset.version,
            StoredRuleset.institution_id, _published_count(),
        ).where(StoredRuleset.is_active, scope)
    ).all()  # fmt: skip
    by_scope = {row[3]: _parsed(tuple(row)) for row in rows}
    regional = by_scope.get(None) or _builtin_active()
    result: dict[int | None, ActiveRuleset] = {None: regional}
    for institution_id in wanted:
        result[institution_id] = by_scope.get(institution_id) or regional
    return result


def active_ruleset_for(institution_id: int | None) -> ActiveRuleset:
    """The ruleset a college's teachers are evaluated under (docs/status-rules.md S22).

    The college's own active layer if it has one, else the deployment's active
    regional layer, else the shipped default; ``None`` asks for the regional one.
    One small query; a version's document is read and parsed only the first time
    this app sees it. Published versions never change, and the count of published
    versions in the memo key covers a parent published later (an unpinned
    ``extends`` resolves to it). ``institution_id`` of the result says whose layer
    applied (None: regional or default).
    """
    return active_rulesets_for([institution_id])[institution_id]


def active_ruleset() -> ActiveRuleset:
    """The regional ruleset: for callers that have no college (see above)."""
    return active_ruleset_for(None)


def known_kinds() -> frozenset[str]:
    """Activity kind codes a ruleset may name."""
    return frozenset(db.session.scalars(select(ActivityKind.code)))


def kind_labels(locale: str) -> dict[str, str]:
    """Activity kind code → its label in ``locale``."""
    return {k.code: k.label(locale) for k in db.session.scalars(select(ActivityKind))}


def _next_version(name: str) -> int:
    top = db.session.scalar(
        select(func.max(StoredRuleset.version)).where(StoredRuleset.name == name)
    )
    return (top or 0) + 1


def _in_scope(institution_id: int | None) -> ColumnElement[bool]:
    """Rows of one scope: a college's layer, or the regional one (None)."""
    if institution_id is None:
        return StoredRuleset.institution_id.is_(None)
    return StoredRuleset.institution_id == institution_id


def record_builtin(
    name: str, now: datetime, *, activate: bool = True
) -> StoredRuleset | None:
    """Record a shipped ruleset as published regional version 1 if not stored yet.

    With ``activate`` it becomes the active regional layer when none is; returns
    the new row, or None.
    """
    exists = db.session.scalar(
        select(StoredRuleset.id).where(StoredRuleset.name == name).limit(1)
    )
    if exists is not None:
        return None
    try:
        text = builtin_text(name)
    except LookupError:
        return None
    has_active = db.session.scalar(
        select(StoredRuleset.id)
        .where(StoredRuleset.is_active, _in_scope(None))
        .limit(1)
    )
    parsed = parse_ruleset(text, "toml", resolve=builtin_text)
    rec = StoredRuleset(
        name=name,
        version=1,
        document=text,
        format=RulesetFormat.TOML.value,
        extends=parsed.extends,
        status=RulesetStatus.PUBLISHED.value,
        is_active=activate and has_active is None,
        published_at=now,
        created_at=now,
    )
    db.session.add(rec)
    db.session.flush()
    record(None, "ruleset.record_builtin", "ruleset", rec.id, now=now, name=name)
    return rec


class ScopeError(ValueError):
    """A document does not fit the scope it is uploaded into (S22).

    ``code`` says which rule: ``name_taken`` (the name belongs to another scope),
    ``must_extend`` (a college layer extends nothing) or ``not_regional`` (it
    extends something outside the regional layer's chain); ``allowed`` lists the
    names a college layer may extend.
    """

    def __init__(self, code: str, name: str, allowed: Sequence[str] = ()) -> None:
        super().__init__(f"{code}: {name}")
        self.code, self.name, self.allowed = code, name, tuple(allowed)


def regional_chain() -> list[str]:
    """The active regional layer's name and the names it builds on, nearest first."""
    names = [active_ruleset().name]
    stored = {r.name: r for r in _published_records()}
    while len(names) < 16:
        rec = stored.get(names[-1])
        parent = rec.extends if rec is not None else _builtin_parent(names[-1])
        if not parent or parent in names:
            break
        names.append(parent)
    return names


@functools.cache
def _builtin_parent(name: str) -> str | None:
    try:
        return parse_ruleset(builtin_text(name), "toml", resolve=builtin_text).extends
    except LookupError:
        return None


# Shipped rulesets belong to the regional scope, except the example college layer.
SHIPPED_COLLEGE_LAYERS = frozenset({"cn-college-example"})


def _regional_name(name: str) -> bool:
    """A shipped ruleset's name that only the regional layer may use."""
    if name in SHIPPED_COLLEGE_LAYERS:
        return False
    try:
        builtin_text(name)
    except LookupError:
        return False
    return True


def _check_scope(ruleset: Ruleset, institution_id: int | None) -> None:
    """A name stays in one scope; a college layer extends the regional chain."""
    scopes = set(
        db.session.scalars(
            select(StoredRuleset.institution_id)
            .where(StoredRuleset.name == ruleset.name)
            .distinct()
        )
    )
    if scopes - {institution_id}:
        raise ScopeError("name_taken", ruleset.name)
    if institution_id is None:
        return
    chain = regional_chain()
    if ruleset.name in chain or _regional_name(ruleset.name):
        raise ScopeError("name_taken", ruleset.name)
    if not ruleset.extends:
        raise ScopeError("must_extend", ruleset.name, chain)
    if ruleset.extends not in chain:
        raise ScopeError("not_regional", ruleset.extends, chain)


def validate_document(
    text: str, fmt: str | None, institution_id: int | None = None
) -> tuple[Ruleset, str]:
    """Parse an uploaded document as a draft of this scope would be; return it and
    its format. RulesetError for a bad document, ScopeError for a misplaced one."""
    fmt = (fmt or detect_format(text)).lower()
    fmt = RulesetFormat.YAML.value if fmt == "yml" else fmt
    ruleset = parse_ruleset(
        text,
        fmt,
        resolve=_resolver(_published_records(), None),
        known_kinds=known_kinds(),
    )
    _check_scope(ruleset, institution_id)
    return ruleset, fmt


def create_draft(
    text: str,
    fmt: str | None,
    *,
    actor: User,
    now: datetime,
    institution_id: int | None = None,
) -> StoredRuleset:
    """Validate a document and store it as the next draft version of its name.

    ``institution_id`` is the scope: a college's own layer, or None for the
    regional layer. Whether the actor may write there is the caller's check
    (:mod:`.layers`).
    """
    ruleset, fmt = validate_document(text, fmt, institution_id)
    # Record shipped rulesets first, so versions count on from them and parents pin.
    # Parent first, whatever the set order: the first recorded becomes active. A
    # college layer records only its (regional) parent and never activates one
    # but the default, which is what applies anyway when nothing is active.
    if institution_id is None:
        for name in dict.fromkeys(n for n in (ruleset.extends, ruleset.name) if n):
            record_builtin(name, now)
    elif ruleset.extends:
        record_builtin(
            ruleset.extends, now, activate=ruleset.extends == DEFAULT_RULESET
        )
    rec = StoredRuleset(
        name=ruleset.name,
        version=_next_version(ruleset.name),
        institution_id=institution_id,
        document=text,
        format=fmt,
        extends=ruleset.extends,
        status=RulesetStatus.DRAFT.value,
        created_by_id=actor.id,
        created_at=now,
    )
    db.session.add(rec)
    db.session.flush()
    record(
        actor.id, "ruleset.create", "ruleset", rec.id, now=now,
        name=rec.name, version=rec.version, institution_id=institution_id,
    )  # fmt: skip
    return rec


def update_draft(
    rec: StoredRuleset, text: str, fmt: str | None, *, actor: User, now: datetime
) -> StoredRuleset:
    """Replace a draft's document (same scope); published versions are refused."""
    if rec.is_published:
        raise RulesetLocked(rec.id)
    ruleset, fmt = validate_document(text, fmt, rec.institution_id)
    if ruleset.name != rec.name:
        raise DraftRenamed(ruleset.name)
    rec.document, rec.format, rec.extends = text, fmt, ruleset.extends
    db.session.flush()
    record(
        actor.id, "ruleset.update", "ruleset", rec.id, now=now,
        name=rec.name, version=rec.version, institution_id=rec.institution_id,
    )  # fmt: skip
    return rec


class ReasonRequired(Exception):
    """Publishing would lower a public standard: a reason must be given."""

    def __init__(self, lowered: tuple[ThresholdChange, ...]) -> None:
        super().__init__(", ".join(t.code for t in lowered))
        self.lowered = lowered


class LoweredStillPublic(Exception):
    """A lowered public standard is still marked public_standard in the document."""

    def __init__(self, codes: list[str]) -> None:
        super().__init__(", ".join(codes))
        self.codes = codes


def changes_against_active(
    candidate: Ruleset, institution_id: int | None = None
) -> RulesetDiff:
    """What publishing ``candidate`` into a scope would change for its teachers:
    against the college's active ruleset (its layer, else the regional one), or
    the regional one."""
    return diff_rulesets(active_ruleset_for(institution_id).ruleset, candidate)


def publish(
    rec: StoredRuleset, *, actor: User, now: datetime, reason: str | None = None
) -> StoredRuleset:
    """Publish a draft in its scope: pin its parent version, freeze it and make it
    the scope's active version.

    Lowering a public standard needs a ``reason`` (audited), and the document must
    not call the lowered number a public standard any more. A college layer must
    still extend the regional layer's chain (the regional layer may have changed
    since the draft was written).
    """
    if rec.is_published:
        raise RulesetLocked(rec.id)
    scope = rec.institution_id
    published = _published_records()
    candidate = parse_record(rec, published)  # still valid against today's parents
    _check_scope(candidate, scope)
    changes = changes_against_active(candidate, scope)
    lowered = changes.lowered_public
    still_public = [
        t.code for t in lowered if candidate.requirement(t.code).is_public_standard
    ]
    if still_public:
        raise LoweredStillPublic(still_public)
    reason = (reason or "").strip() or None
    if lowered and reason is None:
        raise ReasonRequired(lowered)
    if rec.extends:
        parents = [r.version for r in published if r.name == rec.extends]
        rec.extends_version = max(parents) if parents else None
    previous = db.session.scalar(
        select(StoredRuleset).where(StoredRuleset.is_active, _in_scope(scope))
    )
    if previous is not None:
        previous.is_active = False
        db.session.flush()  # the partial unique index allows one active row
    rec.status = RulesetStatus.PUBLISHED.value
    rec.published_at = now
    rec.published_by_id = actor.id
    rec.is_active = True
    db.session.flush()
    lowering = (
        {"lowered": [t.code for t in lowered], "reason": reason} if lowered else {}
    )
    record(
        actor.id, "ruleset.publish", "ruleset", rec.id, now=now,
        name=rec.name, version=rec.version, institution_id=scope,
        replaced=None if previous is None else previous.id, **lowering,
    )  # fmt: skip
    return rec


def republish(
    rec: StoredRuleset, *, actor: User, now: datetime, reason: str | None = None
) -> StoredRuleset:
    """Publish an earlier version's document again, as the next version of its name
    in the same scope."""
    copy = create_draft(
        rec.document, rec.format, actor=actor, now=now,
        institution_id=rec.institution_id,
    )  # fmt: skip
    return publish(copy, actor=actor, now=now, reason=reason)


def list_rulesets(
    institution_ids: Collection[int | None] | None = None,
) -> list[StoredRuleset]:
    """Every stored version of these scopes (None: all), newest first per name."""
    stmt = select(StoredRuleset).order_by(
        StoredRuleset.name, StoredRuleset.version.desc()
    )
    if institution_ids is not None:
        stmt = stmt.where(or_(*(_in_scope(i) for i in institution_ids), false()))
    return list(db.session.scalars(stmt))
