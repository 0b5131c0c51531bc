"""Requirements and alternatives explained in the user's language.

Sentences for the dashboard: how a group is met, how a credit table converts
activities, which yearly caps were reached, and a requirement's own window. The
numbers come from the ruleset and the engine's result; kind and role names from
the activity kinds table and the activity form's labels.
"""

from __future__ import annotations

from collections.abc import Mapping

from flask_babel import gettext as _
from flask_babel import ngettext

from pdtracker.activities.forms import ROLE_LABELS
from pdtracker.progress.definitions import CreditRule, Group, Measure, Requirement
from pdtracker.progress.engine import RequirementResult
from pdtracker.progress.units import amount, localized, number

# Credit tables name roles by their stored value.
ROLE_NAMES = {role.value: label for role, label in ROLE_LABELS.items()}


def explain(
    result: RequirementResult,
    requirement: Requirement | Group,
    kinds: Mapping[str, str],
) -> list[str]:
    """Sentences saying how this requirement or group is counted, and what happened."""
    if isinstance(requirement, Group):
        return [_group(result)]
    out = []
    if requirement.measure is Measure.PROFILE_YEARS:
        out.append(_("Years of industry work before joining, from the profile."))
    if requirement.window_years:
        out.append(
            ngettext(
                "Counts the last %(num)s year only.",
                "Counts the last %(num)s years only.",
                requirement.window_years,
            )
        )
    if requirement.is_converted:
        out.append(_table(requirement, kinds))
    for kind, year, cap, left_out in result.caps_reached:
        label = kinds.get(kind, kind)
        out.append(
            ngettext(
                "%(year)s: %(kind)s reached the yearly cap of %(cap)s; "
                "%(num)s more not counted.",
                "%(year)s: %(kind)s reached the yearly cap of %(cap)s; "
                "%(num)s more not counted.",
                left_out, year=year, kind=label,
                cap=amount(cap, requirement.unit),
            )  # fmt: skip
            if left_out
            else _("%(year)s: %(kind)s reached the yearly cap of %(cap)s.",
                   year=year, kind=label, cap=amount(cap, requirement.unit))
        )  # fmt: skip
    return out


def _group(result: RequirementResult) -> str:
    items = [
        (
            _("%(name)s %(amount)s (met)", name=_name(m), amount=_required(m))
            if m.met
            else _("%(name)s %(amount)s (not met)", name=_name(m), amount=_required(m))
        )
        for m in result.alternatives
    ]
    joined = _("; ").join(items)
    if result.required == 1:
        return _("Any one of these is enough: %(items)s", items=joined)
    return _("Any %(num)s of these are enough: %(items)s",
             num=result.required, items=joined)  # fmt: skip


def _name(result: RequirementResult) -> str:
    return localized(result.name) or result.code


def _required(result: RequirementResult) -> str:
    return amount(result.required, result.unit)


def _table(requirement: Requirement, kinds: Mapping[str, str]) -> str:
    caps = dict(requirement.cap_per_year)
    rules = dict(requirement.credit)
    parts = []
    for kind in sorted(set(rules) | set(caps)):
        clauses = _rule(rules[kind]) if kind in rules else []
        if kind in caps:
            clauses.append(
                _("at most %(amount)s a year",
                  amount=amount(caps[kind], requirement.unit))
            )  # fmt: skip
        parts.append(
            _("%(kind)s: %(rules)s", kind=kinds.get(kind, kind),
              rules=_(", ").join(clauses))
        )  # fmt: skip
    return _("By the credit table: %(rules)s.", rules=_("; ").join(parts))


def _rule(rule: CreditRule) -> list[str]:
    clauses = []
    if rule.hours_each is not None:
        clauses.append(_("%(hours)s each", hours=amount(rule.hours_each, "hours")))
    elif rule.hours_per_day is not None:
        clauses.append(_("%(hours)s a day", hours=amount(rule.hours_per_day, "hours")))
    else:
        clauses.append(_("the hours logged"))
    for role, factor in rule.role_factor:
        label = ROLE_NAMES.get(role, role)
        clauses.append(_("%(role)s ×%(factor)s", role=label, factor=number(factor)))
    if rule.max_each is not None:
        clauses.append(
            _("at most %(hours)s each", hours=amount(rule.max_each, "hours"))
        )
    return clauses
