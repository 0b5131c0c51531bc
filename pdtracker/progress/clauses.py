"""Checking one requirement of a ruleset document: measure, filters, credit table,
yearly caps, its own window, and groups of alternatives (``any_of``).

Every problem is reported through the :class:`~.documents.Checker` with the line
and the field, e.g. ``line 40: levels[1].requirements[0].credit.seminar: must be
one of the requirement's kinds: expert_lecture``.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

from .definitions import END_IN_WINDOW, ROLES, CreditRule, Group, Measure, Requirement
from .documents import N_, WHOLE_MEASURES, Checker, Path

CODE_RE = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
MAX_ALTERNATIVES = 20
REQUIREMENT_FIELDS = frozenset(
    {
        "code", "name", "measure", "kinds", "roles", "grades", "threshold",
        "public_standard", "source", "credit", "cap_per_year", "window_years",
    }
)  # fmt: skip
GROUP_FIELDS = frozenset(
    {"code", "name", "source", "public_standard", "any_of", "min_met"}
)
CREDIT_FIELDS = frozenset({"hours_each", "hours_per_day", "role_factor", "max_each"})
# Changing any of these makes the number the college's own, not the public one
# (docs/status-rules.md S20).
DEFINING_FIELDS = (
    "measure", "kinds", "roles", "grades", "threshold", "credit", "cap_per_year",
    "window_years",
)  # fmt: skip
GROUP_DEFINING_FIELDS = ("members", "min_met")
# Fields that mean nothing for a measure that counts no activities in a window.
WINDOWLESS = {
    Measure.PROFILE_YEARS: ("kinds", "roles", "grades", "window_years"),
    Measure.VALID_ON_DATE: ("window_years",),
}


def check_requirement(
    chk: Checker,
    raw_value: Any,
    path: Path,
    known_kinds: frozenset[str] | None,
    base: Requirement | Group | None,
) -> Requirement | Group | None:
    """A requirement or a group; ``base`` is the extended ruleset's one of that code."""
    if isinstance(raw_value, dict) and (
        "any_of" in raw_value or isinstance(base, Group)
    ):
        group_base = base if isinstance(base, Group) else None
        return _check_group(chk, raw_value, path, known_kinds, group_base)
    plain_base = base if isinstance(base, Requirement) else None
    return _check_plain(chk, raw_value, path, known_kinds, plain_base, member=False)


def _common(chk: Checker, raw: dict[str, Any], path: Path) -> dict[str, Any]:
    """Name, source and public_standard: what requirements and groups share."""
    fields: dict[str, Any] = {}
    if "source" in raw:
        fields["source"] = chk.text(raw["source"], (*path, "source"))
    if "name" in raw:
        fields["name"] = chk.text(raw["name"], (*path, "name"))
    if "public_standard" in raw:
        if isinstance(raw["public_standard"], bool):
            fields["is_public_standard"] = raw["public_standard"]
        else:
            chk.fail((*path, "public_standard"), N_("must be true or false"))
    return fields


def _code(chk: Checker, raw: dict[str, Any], path: Path) -> str | None:
    if chk.required(raw, path, "code"):
        return chk.identifier(raw["code"], (*path, "code"), CODE_RE)
    return None


def _check_plain(
    chk: Checker,
    raw_value: Any,
    path: Path,
    known_kinds: frozenset[str] | None,
    base: Requirement | None,
    *,
    member: bool,
) -> Requirement | None:
    allowed = REQUIREMENT_FIELDS | ({"any_of"} if member else set())
    raw = chk.table(raw_value, path, frozenset(allowed))
    if not isinstance(raw_value, dict):
        return None
    before = len(chk.issues)
    code = _code(chk, raw, path)
    if member and "any_of" in raw:
        chk.fail((*path, "any_of"), N_("alternatives may not hold alternatives"))
    fields: dict[str, Any] = {}
    measure = base.measure if base else None
    if "measure" in raw:
        try:
            measure = fields["measure"] = Measure(raw["measure"])
        except ValueError:
            chk.fail(
                (*path, "measure"),
                N_("must be one of %(choices)s"),
                choices=", ".join(m.value for m in Measure),
            )
    if base is None:
        needed = ["measure", "threshold"]
        if measure is not Measure.PROFILE_YEARS:
            needed.append("kinds")
        if not member:
            needed.append("source")
        for key in needed:
            chk.required(raw, path, key)
    for key in WINDOWLESS.get(measure, ()):  # type: ignore[arg-type]
        if key in raw:
            chk.fail(
                (*path, key), N_("not used by measure %(measure)s"),
                measure=str(measure),
            )  # fmt: skip
    if "kinds" in raw:
        fields["kinds"] = chk.string_set(raw["kinds"], (*path, "kinds"), known_kinds)
    if "roles" in raw:
        fields["roles"] = chk.string_set(raw["roles"], (*path, "roles"), ROLES)
    if "grades" in raw:
        fields["grades"] = chk.string_set(raw["grades"], (*path, "grades"))
    if "threshold" in raw:
        fields["threshold"] = chk.threshold(
            raw["threshold"], (*path, "threshold"), measure
        )
    elif base is not None and "measure" in raw and measure in WHOLE_MEASURES:
        chk.threshold(base.threshold, (*path, "threshold"), measure)
    kinds = fields.get("kinds") or (base.kinds if base else frozenset())
    if "credit" in raw:
        fields["credit"] = _credit(
            chk, raw["credit"], (*path, "credit"), measure, kinds
        )
    if "cap_per_year" in raw:
        fields["cap_per_year"] = _caps(
            chk, raw["cap_per_year"], (*path, "cap_per_year"), measure, kinds
        )
    if "window_years" in raw:
        fields["window_years"] = chk.whole(
            raw["window_years"], (*path, "window_years"), 1, 50
        )
    fields |= _common(chk, raw, path)
    if len(chk.issues) > before or code is None:
        return None
    if base is None:
        if measure is Measure.PROFILE_YEARS:
            fields.setdefault("kinds", frozenset())
        return Requirement(code=code, **fields)
    if "is_public_standard" not in fields and any(
        key in raw and fields.get(key) != getattr(base, key) for key in DEFINING_FIELDS
    ):
        fields["is_public_standard"] = False
    return replace(base, **fields)


def _kind_keys(
    chk: Checker, value: Any, path: Path, kinds: frozenset[str]
) -> dict[str, Any]:
    """A table keyed by activity kind, each key one of the requirement's kinds."""
    if not isinstance(value, dict) or not value:
        chk.fail(path, N_("must be a table keyed by activity kind"))
        return {}
    good = {}
    for kind, entry in value.items():
        if kind in kinds:
            good[kind] = entry
        else:
            chk.fail(
                (*path, kind), N_("must be one of the requirement's kinds: %(choices)s"),
                choices=", ".join(sorted(kinds)),
            )  # fmt: skip
    return good


def _credit(
    chk: Checker,
    value: Any,
    path: Path,
    measure: Measure | None,
    kinds: frozenset[str],
) -> tuple[tuple[str, CreditRule], ...]:
    """``credit.<kind> = { hours_each, hours_per_day, role_factor, max_each }``.

    docs/status-rules.md S11.
    """
    if measure is not Measure.SUM_HOURS:
        chk.fail(path, N_("only a sum_hours requirement converts credit"))
        return ()
    rules = []
    for kind, entry in sorted(_kind_keys(chk, value, path, kinds).items()):
        where = (*path, kind)
        raw = chk.table(entry, where, CREDIT_FIELDS)
        numbers = {
            key: chk.threshold(raw[key], (*where, key), None)
            for key in ("hours_each", "hours_per_day", "max_each")
            if key in raw
        }
        factors: tuple[tuple[str, float], ...] = ()
        if "role_factor" in raw:
            factors = _role_factor(chk, raw["role_factor"], (*where, "role_factor"))
        rules.append((kind, CreditRule(role_factor=factors, **numbers)))
    return tuple(rules)


def _role_factor(chk: Checker, value: Any, path: Path) -> tuple[tuple[str, float], ...]:
    raw = chk.table(value, path, ROLES)
    factors = [
        (role, chk.threshold(raw[role], (*path, role), None))
        for role in sorted(raw)
        if role in ROLES
    ]
    return tuple((role, f) for role, f in factors if f is not None)


def _caps(
    chk: Checker,
    value: Any,
    path: Path,
    measure: Measure | None,
    kinds: frozenset[str],
) -> tuple[tuple[str, int | float], ...]:
    """``cap_per_year = { kind = amount }`` on sum_hours, sum_days or count (S12)."""
    if measure not in END_IN_WINDOW:
        chk.fail(
            path, N_("only a sum_hours, sum_days or count requirement has yearly caps")
        )
        return ()
    caps = []
    for kind, amount in sorted(_kind_keys(chk, value, path, kinds).items()):
        cap = chk.threshold(amount, (*path, kind), measure)
        if cap is not None:
            caps.append((kind, cap))
    return tuple(caps)


def _check_group(
    chk: Checker,
    raw_value: dict[str, Any],
    path: Path,
    known_kinds: frozenset[str] | None,
    base: Group | None,
) -> Group | None:
    raw = chk.table(raw_value, path, GROUP_FIELDS | REQUIREMENT_FIELDS)
    before = len(chk.issues)
    code = _code(chk, raw, path)
    for key in sorted(REQUIREMENT_FIELDS - GROUP_FIELDS):
        if key in raw:
            chk.fail((*path, key), N_("a group has no %(field)s: its alternatives do"),
                     field=key)  # fmt: skip
    fields = _common(chk, raw, path)
    members = list(base.members) if base else []
    if base is None:
        chk.required(raw, path, "any_of")
    if "any_of" in raw:
        items = raw["any_of"]
        if not isinstance(items, list) or not items or len(items) > MAX_ALTERNATIVES:
            chk.fail(
                (*path, "any_of"),
                N_("must be a non-empty list of at most %(max)s tables"),
                max=MAX_ALTERNATIVES,
            )
            items = []
        checked = [
            _check_plain(chk, item, (*path, "any_of", n), known_kinds, None,
                         member=True)
            for n, item in enumerate(items)
        ]  # fmt: skip
        members = [m for m in checked if m is not None]
        fields["members"] = tuple(members)
    min_met = raw.get("min_met", base.min_met if base else 1)
    fields["min_met"] = chk.whole(min_met, (*path, "min_met"), 1, max(1, len(members)))
    if len(chk.issues) > before or code is None:
        return None
    if base is None:
        return Group(code=code, **fields)
    if "is_public_standard" not in fields and any(
        fields[key] != getattr(base, key) for key in GROUP_DEFINING_FIELDS
        if key in fields
    ):  # fmt: skip
        fields["is_public_standard"] = False
    return replace(base, **fields)
