"""The ruleset frozen into a round: which version, and the version itself."""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app
from sqlalchemy import select

from pdtracker.caching import LRU, per_app
from pdtracker.extensions import db
from pdtracker.progress import records
from pdtracker.progress.definitions import LocalizedText, Ruleset
from pdtracker.progress.models import RulesetStatus, StoredRuleset
from pdtracker.progress.rulebook import load_builtin
from pdtracker.recognition.models import RecognitionRound


@dataclass(frozen=True)
class Frozen:
    """A ruleset version as a round keeps it."""

    name: str
    version: int
    ruleset: Ruleset

    @property
    def levels(self) -> list[str]:
        """Level codes, low to high."""
        return [level.code for level in self.ruleset.levels]


def active_for(institution_id: int) -> Frozen:
    """The college's active ruleset version (its own layer, else the regional one)."""
    active = records.active_ruleset_for(institution_id)
    return Frozen(active.name, active.version, active.ruleset)


def round_ruleset(rnd: RecognitionRound) -> Ruleset:
    """The version frozen into the round, parsed once per app (it never changes)."""
    assert rnd.ruleset_name is not None
    assert rnd.ruleset_version is not None
    memo: LRU[tuple[str, int], Ruleset] = per_app(
        current_app, "recognition_rulesets", lambda: LRU(32)
    )
    key = (rnd.ruleset_name, rnd.ruleset_version)
    found = memo.get(key)
    if found is None:
        found = _load(*key)
        memo.put(key, found)
    return found


def _load(name: str, version: int) -> Ruleset:
    rec = db.session.scalar(
        select(StoredRuleset).where(
            StoredRuleset.name == name,
            StoredRuleset.version == version,
            StoredRuleset.status == RulesetStatus.PUBLISHED.value,
        )
    )
    if rec is not None:
        return records.parse_record(rec)
    # The shipped default, active before anyone stored a version: version 1.
    return load_builtin(name)


def level_names(ruleset: Ruleset) -> dict[str, LocalizedText]:
    """Each level's name in both languages, by code."""
    return {
        level.code: level.name if (level.name.zh or level.name.en) else
        LocalizedText(level.code, level.code)
        for level in ruleset.levels
    }  # fmt: skip


def rank(levels: list[str], level: str) -> int:
    """A level's place in the round's order (ValueError if not offered)."""
    return levels.index(level)
