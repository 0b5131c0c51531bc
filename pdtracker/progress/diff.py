"""What a new ruleset version changes against the active one. Pure.

Shown before publishing: thresholds changed, requirements added or removed, credit
rules changed; and the public standards a version would lower, which need a reason.
"""

from __future__ import annotations

from dataclasses import dataclass

from .definitions import Group, Requirement, Ruleset

# Fields of a requirement whose change is a "credit rule" change.
CREDIT_FIELDS = ("credit", "cap_per_year", "window_years")


@dataclass(frozen=True)
class ThresholdChange:
    """A requirement (or a group's min_met) whose number changes."""

    code: str
    unit: str
    before: int | float
    after: int | float
    was_public: bool  # the active version marks it as a public standard

    unit_before: str = ""

    @property
    def lowers_public_standard(self) -> bool:
        """A public standard's number made smaller: needs a reason, never stays
        'public'. A requirement replaced by another measure (or by a group) is a
        different rule, not a lower number: it shows as a change only."""
        same_unit = self.unit_before in ("", self.unit)
        return self.was_public and same_unit and self.after < self.before


@dataclass(frozen=True)
class RulesetDiff:
    """Changes from ``before`` to ``after``, by requirement code."""

    added: tuple[str, ...]
    removed: tuple[str, ...]
    thresholds: tuple[ThresholdChange, ...]
    credit_rules: tuple[str, ...]

    @property
    def is_empty(self) -> bool:
        """Nothing a reader would see changes."""
        return not (self.added or self.removed or self.thresholds or self.credit_rules)

    @property
    def lowered_public(self) -> tuple[ThresholdChange, ...]:
        """The public standards this version lowers."""
        return tuple(t for t in self.thresholds if t.lowers_public_standard)


def _all(ruleset: Ruleset) -> dict[str, Requirement | Group]:
    """Every requirement, group and alternative by code."""
    out: dict[str, Requirement | Group] = {}
    for level in ruleset.levels:
        for req in level.requirements:
            out[req.code] = req
            for member in getattr(req, "members", ()):
                out[member.code] = member
    return out


def diff_rulesets(before: Ruleset, after: Ruleset) -> RulesetDiff:
    """Compare two rulesets requirement by requirement."""
    old, new = _all(before), _all(after)
    thresholds = []
    credit_rules = []
    for code in sorted(old.keys() & new.keys()):
        a, b = old[code], new[code]
        if a.threshold != b.threshold or a.unit != b.unit:
            thresholds.append(
                ThresholdChange(code, b.unit, a.threshold, b.threshold,
                                a.is_public_standard, a.unit)
            )  # fmt: skip
        both_plain = isinstance(a, Requirement) and isinstance(b, Requirement)
        if both_plain and any(getattr(a, f) != getattr(b, f) for f in CREDIT_FIELDS):
            credit_rules.append(code)
    return RulesetDiff(
        added=tuple(sorted(new.keys() - old.keys())),
        removed=tuple(sorted(old.keys() - new.keys())),
        thresholds=tuple(thresholds),
        credit_rules=tuple(credit_rules),
    )
