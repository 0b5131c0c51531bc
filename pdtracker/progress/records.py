"""Stored ruleset versions: which one is active per scope, drafts, publishing.

A ruleset document is stored as a :class:`StoredRuleset` row per version, in a
scope (docs/status-rules.md S22): the deployment's *regional* layer
(``institution_id`` NULL) or one college's own layer. Which version applies is
:mod:`.active` (re-exported here: :func:`active_ruleset_for`, …). Parsing goes
through :mod:`.rulebook`.
"""

from __future__ import annotations

import functools
from collections.abc import Collection, Sequence
from datetime import datetime

from sqlalchemy import ColumnElement, false, func, or_, select

from pdtracker.activities.models import ActivityKind
from pdtracker.audit import record
from pdtracker.auth.models import User
from pdtracker.extensions import db
from pdtracker.progress.active import (
    ActiveRuleset,
    _published_records,
    _resolver,
    active_ruleset,
    active_ruleset_for,
    active_rulesets_for,
    parse_record,
)
from pdtracker.progress.definitions import Ruleset
from pdtracker.progress.diff import RulesetDiff, ThresholdChange, diff_rulesets
from pdtracker.progress.models import RulesetFormat, RulesetStatus, StoredRuleset
from pdtracker.progress.rulebook import (
    DEFAULT_RULESET,
    builtin_text,
    detect_format,
    parse_ruleset,
)


class RulesetLocked(Exception):
    """A published ruleset version cannot be changed."""


class DraftRenamed(ValueError):
    """A new document for a draft must keep the draft's name."""


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


__all__ = [
    "ActiveRuleset",
    "active_ruleset",
    "active_ruleset_for",
    "active_rulesets_for",
    "parse_record",
]
