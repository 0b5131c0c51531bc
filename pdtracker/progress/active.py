"""The ruleset that applies: each scope's active stored version, parsed once per app.

Rulesets layer per scope (docs/status-rules.md S22): the deployment's regional
layer (``institution_id`` NULL) and each college's own layer. A teacher is
evaluated under their college's active layer, else the active regional layer,
else the shipped default. Published versions never change, so a parsed version is
memoised per app.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace

from flask import current_app
from sqlalchemy import ColumnElement, Select, bindparam, func, or_, select

from pdtracker.caching import LRU, per_app
from pdtracker.extensions import db
from pdtracker.progress.definitions import Ruleset
from pdtracker.progress.models import RulesetStatus, StoredRuleset
from pdtracker.progress.rulebook import DEFAULT_RULESET, builtin_text, parse_ruleset


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


@functools.cache
def _active_statement() -> Select[int, str, int, int | None, int]:
    """The active versions, regional and of the colleges bound to ``ids``. Built
    once per process: every page reads it, and building a statement costs more
    than running this one."""
    scope = or_(
        StoredRuleset.institution_id.is_(None),
        StoredRuleset.institution_id.in_(bindparam("ids", expanding=True)),
    )
    return select(
        StoredRuleset.id, StoredRuleset.name, StoredRuleset.version,
        StoredRuleset.institution_id, _published_count(),
    ).where(StoredRuleset.is_active, scope)  # fmt: skip


def active_rulesets_for(
    institution_ids: Iterable[int | None],
) -> dict[int | None, ActiveRuleset]:
    """:func:`active_ruleset_for` for several colleges at once, in one query."""
    wanted = {i for i in institution_ids if i is not None}
    rows = db.session.execute(_active_statement(), {"ids": sorted(wanted)}).all()
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
